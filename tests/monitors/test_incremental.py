"""Incremental == batch: after any sequence of edits, creates, deletes and moves, the
questions (ids, text, evidence, severity, owning key) equal a fresh batch scan."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitors import MemoryStore, Question, analyze_or_placeholder, apply, rebuild

PATHS = [
    "pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/sub/__init__.py", "pkg/sub/c.py", "pkg/settings.py",
    "top.py", "tests/test_x.py", "docs/README.md", "setup.cfg",
]  # fmt: skip
MODULES = ["a", "b", "sub", "sub.c", "gone"]
NAMES = ["alpha", "beta", "gamma", "Worker", "Base"]
CHANNELS = ["ch.one", "ch.two", "other.x"]
ATTRS = ["client", "queue"]

CLONE = """
def {name}(items, limit):
    total = 0
    for x in items:
        if x.size > limit:
            total += x.size * 2
    return total
"""

name = st.sampled_from(NAMES)
module = st.sampled_from(MODULES)
channel = st.sampled_from(CHANNELS)
attr = st.sampled_from(ATTRS)

python_statement = st.one_of(
    st.builds('emit("{}")\n'.format, channel),
    st.builds('ChemSub("{}")\n'.format, channel),
    st.builds('ChemSub(topic="{}")\n'.format, channel),
    st.sampled_from(['subscribe("ch.*")\n', 'subscribe("#")\n', 'subscribe("other.#")\n']),
    st.builds("import pkg.{}\n".format, module),
    st.builds("from pkg.{} import {}\n".format, module, name),
    st.builds("from . import {}\n".format, st.sampled_from(["a", "b", "sub"])),
    st.builds("def {}():\n    return {}()\n".format, name, name),
    st.builds(CLONE.format, name=name),
    st.builds(
        "class {}({}):\n    def run(self):\n        self.{}.go()\n    def setup(self):\n        self.{} = 1\n".format,
        name, st.sampled_from(["", "Base", "object", "View"]), attr, attr,
    ),
    st.builds('app.send_task("pkg.a.{}")\n'.format, name),
    st.builds("@shared_task\ndef {}():\n    pass\n".format, name),
    st.builds('INSTALLED_APPS = ["pkg.{}"]\n'.format, module),
    st.builds('def {}():\n    raise NotImplementedError\n'.format, name),
    st.just("x = 1  # TODO: later\n"),
    st.builds('__all__ = ["{}"]\n'.format, name),
    st.builds('"""Module."""\n'.format),
    st.just("def broken(:\n"),
)  # fmt: skip
doc_line = st.one_of(
    st.builds("See `pkg.{}.{}`.\n".format, module, name),
    st.builds(".. autofunction:: pkg.{}.{}\n".format, module, name),
    st.just("plain words\n"),
)
config_line = st.builds("[entry]\nrun = pkg.{}:{}\n".format, module, name)


def content(path: str) -> st.SearchStrategy[str]:
    if path.endswith(".md"):
        return st.lists(doc_line, max_size=4).map("".join)
    if path.endswith(".cfg"):
        return config_line
    return st.lists(python_statement, max_size=6).map("".join)


write = st.sampled_from(PATHS).flatmap(lambda p: st.tuples(st.just("write"), st.just(p), content(p)))
delete = st.tuples(st.just("delete"), st.sampled_from(PATHS), st.just(""))
move = st.tuples(st.just("move"), st.sampled_from(PATHS), st.sampled_from(PATHS))
operations = st.lists(st.one_of(write, write, delete, move), min_size=1, max_size=25)


def postings(path: str, source: str) -> dict:
    result, _ = analyze_or_placeholder(path, source.encode())
    assert json.loads(json.dumps(result)) == result, "payloads must survive a JSON round trip unchanged"
    return result


def batch(files: dict[str, str]) -> MemoryStore:
    store = MemoryStore()
    for path, source in files.items():
        store.replace_postings(path, postings(path, source))
    rebuild(store)
    return store


def replay(seen: dict[str, Question], delta) -> None:
    for question in delta.opened + delta.changed:
        seen[question.id] = question
    for question in delta.resolved:
        seen.pop(question.id, None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_incremental_equals_batch(ops):
    files: dict[str, str] = {}
    store = MemoryStore()
    seen: dict[str, Question] = {}  # what a subscriber hearing only the deltas believes
    for op, path, arg in ops:
        if op == "write":
            files[path] = arg
            replay(seen, apply(store, path, postings(path, arg)))
        elif op == "delete" and path in files:
            del files[path]
            replay(seen, apply(store, path, None))
        elif op == "move" and path in files and arg != path:
            files[arg] = files.pop(path)
            replay(seen, apply(store, path, None))
            replay(seen, apply(store, arg, postings(arg, files[arg])))

    expected = batch(files).all_questions()
    assert store.all_questions() == expected  # ids, text, evidence, severity and owning key
    assert seen == expected
    applied = MemoryStore()
    for path, source in files.items():
        apply(applied, path, postings(path, source))
    assert applied.all_questions() == expected


def test_the_generator_reaches_every_monitor():
    """Guards the property test against a vocabulary that silently stops firing detectors."""
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": 'emit("ch.one")\nimport pkg.gone\n'
        + CLONE.format(name="alpha")
        + "x = 1  # TODO: later\n",
        "pkg/b.py": CLONE.format(name="beta") + "def gamma():\n    raise NotImplementedError\n",
        "pkg/sub/c.py": "class Worker:\n    def run(self):\n        self.client.go()\n",
        "docs/README.md": "See `pkg.gone.alpha`.\n",
    }
    hypotheses = {q.hypothesis for q in batch(files).all_questions().values()}
    expected = {"ORPHANED_QUEUE", "MISSING_WIRING", "DUPLICATE_RESPONSIBILITY", "UNINITIALIZED_COMPONENT",
                "DEAD_CODE", "UNDISCOVERED_MODULE", "UNIMPLEMENTED_STUB", "OPEN_TODO", "STALE_KNOWLEDGE",
                "MISSING_DOCSTRINGS"}  # fmt: skip
    assert expected <= hypotheses
