"""Incremental == batch: after any sequence of edits, creates, deletes and moves, the
questions (ids, text, evidence, severity, owning key) equal a fresh batch scan."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitors import MemoryStore, Question, apply, evaluate
from monitors.config import DEFAULT, Config
from monitors.engine import affected
from tests.monitors.monitor_helpers import batch, postings
from tests.monitors.tree_strategies import CLONE, operations, replay_edits

configs = st.sampled_from([DEFAULT, Config(kind="library")])


def replay(seen: dict[str, Question], delta) -> None:
    for question in delta.opened + delta.changed:
        seen[question.id] = question
    for question in delta.resolved:
        seen.pop(question.id, None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations, configs)
def test_incremental_equals_batch(ops, config):
    files: dict[str, str] = {}
    store = MemoryStore()
    seen: dict[str, Question] = {}  # what a subscriber hearing only the deltas believes
    for op, path, arg in ops:
        if op == "write":
            files[path] = arg
            replay(seen, apply(store, path, postings(path, arg, config), config))
        elif op == "delete" and path in files:
            del files[path]
            replay(seen, apply(store, path, None, config))
        elif op == "move" and path in files and arg != path:
            files[arg] = files.pop(path)
            replay(seen, apply(store, path, None, config))
            replay(seen, apply(store, arg, postings(arg, files[arg], config), config))

    expected = batch(files, config, dedent=False).all_questions()
    assert store.all_questions() == expected  # ids, text, evidence, severity and owning key
    assert seen == expected
    applied = MemoryStore()
    for path, source in files.items():
        apply(applied, path, postings(path, source, config), config)
    assert applied.all_questions() == expected


def test_the_generator_reaches_every_monitor():
    """Guards the property test against a vocabulary that silently stops firing detectors."""
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": 'ChemPub().emit("ch.one")\nimport pkg.gone\n'
        + CLONE.format(name="alpha")
        + "x = 1  # TODO: later\n"
        + "def delta(x):\n    y = x\n    return y\n",
        "pkg/b.py": CLONE.format(name="beta") + "def gamma():\n    raise NotImplementedError\n",
        "pkg/sub/c.py": "class Worker:\n    def run(self):\n        self.client.go()\n",
        "docs/README.md": "See `pkg.gone.alpha`.\n",
    }
    hypotheses = {q.hypothesis for q in batch(files, dedent=False).all_questions().values()}
    expected = {"ORPHANED_QUEUE", "MISSING_WIRING", "DUPLICATE_RESPONSIBILITY", "UNINITIALIZED_COMPONENT",
                "DEAD_CODE", "UNDISCOVERED_MODULE", "UNIMPLEMENTED_STUB", "OPEN_TODO", "STALE_KNOWLEDGE",
                "MISSING_DOCSTRINGS"}  # fmt: skip
    assert expected <= hypotheses


def test_a_question_that_moves_between_keys_is_one_change():
    """`from . import b` asks about pkg.b under import:pkg until `import pkg.b` appears; then
    import:pkg.b asks it (same id). A subscriber applying the delta must still see it open."""
    ops = [("write", "pkg/a.py", "from . import b\n"), ("write", "pkg/__init__.py", "import pkg.b\n")]
    test_incremental_equals_batch.hypothesis.inner_test(ops, DEFAULT)
    reversed_keys = [("write", "pkg/__init__.py", "import pkg.b\n"), ("write", "pkg/a.py", "from . import b\n"),
                     ("write", "pkg/__init__.py", "")]  # fmt: skip
    test_incremental_equals_batch.hypothesis.inner_test(reversed_keys, DEFAULT)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations, st.lists(st.booleans(), min_size=25, max_size=25))
def test_batched_evaluation_equals_batch(ops, ends_batch):
    """Many files' postings stored first, their changed keys evaluated once at the end of a batch,
    the same file edited several times within one batch: still equal to a fresh batch scan, and
    a subscriber hearing only the deltas ends up believing the same."""
    files: dict[str, str] = {}
    store = MemoryStore()
    seen: dict[str, Question] = {}
    changed: set[str] = set()

    def store_version(path: str, source: str | None) -> None:
        changed.update(store.replace_postings(path, None if source is None else postings(path, source)))

    for _, end in zip(replay_edits(ops, files, store_version), ends_batch, strict=False):
        if end:
            replay(seen, evaluate(store, affected(store, changed)))
            changed.clear()
    replay(seen, evaluate(store, affected(store, changed)))

    expected = batch(files, dedent=False).all_questions()
    assert store.all_questions() == expected
    assert seen == expected
