"""An evaluation's rounds share the postings they loaded: what changes between rounds is read again."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kloros_site.analysis import evaluation, rounds, store
from kloros_site.analysis.models import ChangedKeys, Posting, Question, Tree
from kloros_site.analysis.posting_memory import Carry, Kind, PostingMemory
from kloros_site.analysis.store import as_engine_question
from tests.kloros_site.analysis.test_evaluation import ROOT, extract
from tests.monitors.monitor_helpers import batch
from tests.monitors.tree_strategies import operations, replay_edits

pytestmark = pytest.mark.django_db


def in_database(tree: Tree, key: str) -> dict:
    return dict(Posting.objects.filter(tree=tree, key=key).values_list("file__path", "payload"))


@pytest.fixture
def answers_checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every answer a round's postings give is checked against the database as it is then."""
    asked: list[str] = []
    postings, exists = PostingMemory.postings, PostingMemory.exists

    def checked_postings(self: PostingMemory, key: str) -> dict:
        got = postings(self, key)
        assert got == in_database(self.tree, key), key
        asked.append(key)
        return got

    def checked_exists(self: PostingMemory, key: str) -> bool:
        got = exists(self, key)
        assert got == bool(in_database(self.tree, key)), key
        asked.append(key)
        return got

    monkeypatch.setattr(PostingMemory, "postings", checked_postings)
    monkeypatch.setattr(PostingMemory, "exists", checked_exists)
    return asked


def between_rounds(monkeypatch: pytest.MonkeyPatch, after_round: Iterator[None]) -> None:
    """Rounds of one key each; `after_round` advanced after each round."""
    monkeypatch.setattr(evaluation, "BIG_ROWS", 1)
    monkeypatch.setattr(rounds, "KEYS_PER_ROUND", 1)
    monkeypatch.setattr(store, "BIG_BATCH", 0)  # a kind at a time, as a cold scan's rounds load
    next_round = rounds._next_round

    def then_edit(*args: object, **kwargs: object) -> int | None:
        written = next_round(*args, **kwargs)  # type: ignore[arg-type]
        next(after_round, None)
        return written

    monkeypatch.setattr(rounds, "_next_round", then_edit)


def test_an_edit_between_two_rounds_is_read_again_by_the_next(monkeypatch, answers_checked):
    sources = {
        "pkg/__init__.py": "",
        "pkg/a.py": "def f():\n    pass\n",
        "pkg/b.py": "from pkg.a import f\n\nf()\n",
        "pkg/c.py": "from pkg.a import g\n\ng()\n",
    }

    def edit_a_after_the_first_round() -> Iterator[None]:
        yield  # what the first round loaded is stale from here on
        extract("pkg/a.py", "def g():\n    pass\n")
        sources["pkg/a.py"] = "def g():\n    pass\n"

    between_rounds(monkeypatch, edit_a_after_the_first_round())
    for path, source in sources.items():
        extract(path, source)
    tree = Tree.objects.get(path=ROOT)
    evaluation.evaluate_tree(tree.pk)
    evaluation.evaluate_tree(tree.pk)  # the edit's own row
    assert answers_checked  # the rounds did ask
    assert not ChangedKeys.objects.exists()
    stored = {row.qid: as_engine_question(row) for row in Question.objects.open()}
    assert stored == batch(sources, dedent=False).all_questions()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(operations, st.lists(st.booleans(), min_size=25, max_size=25))
def test_edits_between_rounds_equal_batch(monkeypatch, answers_checked, ops, ends_batch):
    with transaction.atomic():
        files: dict[str, str] = {}
        edits = replay_edits(ops, files, extract)
        between_rounds(monkeypatch, edits)  # the rest of the edits land between rounds
        for _, end in zip(edits, ends_batch, strict=False):
            if end and Tree.objects.exists():
                evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk)
        for _ in edits:
            pass
        while Tree.objects.exists() and ChangedKeys.objects.exists():
            evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk)
        stored = {row.qid: as_engine_question(row) for row in Question.objects.open()}
        assert stored == batch(files, dedent=False).all_questions()
        transaction.set_rollback(True)


def test_a_round_starts_afresh_when_another_evaluation_took_rows_meanwhile():
    extract("a.py", "def f():\n    pass\n")
    extract("b.py", "def g():\n    pass\n")
    extract("c.py", "def h():\n    pass\n")
    tree = Tree.objects.get(path=ROOT)
    first, second, third = ChangedKeys.objects.order_by("id").values_list("id", flat=True)
    carry = Carry(tree, lambda: True)
    with transaction.atomic():
        memory, known = carry.take()
    carry.keep(memory, known)
    extract("d.py", "def k():\n    pass\n")  # a row the first round did not see
    with transaction.atomic():
        assert carry.take() == (memory, known)  # only new rows: their keys are read again
    assert carry.refreshed_keys > 0
    carry.keep(memory, known)
    ChangedKeys.objects.filter(id=third).delete()  # another evaluation's work
    with transaction.atomic():
        again, known_again = carry.take()
    assert again is not memory and known_again is not known


def test_a_round_starts_afresh_without_the_evaluation_lock():
    extract("a.py", "def f():\n    pass\n")
    extract("b.py", "def g():\n    pass\n")
    tree = Tree.objects.get(path=ROOT)
    held = [True]
    carry = Carry(tree, lambda: held[0])
    with transaction.atomic():
        memory, known = carry.take()
    carry.keep(memory, known)
    held[0] = False  # the connection, and the lock with it, was lost between rounds
    with transaction.atomic():
        again, known_again = carry.take()
    assert again is not memory and known_again is not known


def test_the_evaluation_lock_is_held_until_the_evaluation_ends():
    tree = Tree.objects.create(path=ROOT)
    with store.evaluation_lock(tree) as held:
        assert held()
    if connection.vendor == "postgresql":  # SQLite needs no lock: see evaluation_lock
        assert not held()


def kind_of(entries: list[tuple[str, str]]) -> Kind:
    kind = Kind("integration:name:")
    for key, text in entries:
        kind.add(key, text)
    return kind.done()


@pytest.mark.parametrize("order", ["str order", "another collation"])
@pytest.mark.parametrize("text", ["1", "[" + "1, " * 200 + "1]"])
def test_a_kind_finds_each_of_its_keys_and_no_other(order, text):
    names = [f"n{i}" for i in range(400)] + ["B", "a", "_x", "é", "Z9", "a.b", "a_b"]
    names.sort(key=str.lower if order == "another collation" else None)
    kind = kind_of(
        [(f"integration:name:{name}", f'{{"{name}.py": {text}, "{i}": 0}}') for i, name in enumerate(names)]
    )
    for i, name in enumerate(names):
        assert kind.text(f"integration:name:{name}") == f'{{"{name}.py": {text}, "{i}": 0}}'
        assert f"integration:name:{name}" in kind
    for absent in ["", "0", "n", "n400", "n1x", "b", "zz", "\uffff", "a.", ".py"]:
        assert kind.text(f"integration:name:{absent}") is None
        assert f"integration:name:{absent}" not in kind


def test_a_kind_keeps_the_keys_its_separators_cannot_hold():
    kind = kind_of(
        [("integration:name:a", "1"), ("integration:name:a\0b", "2"), ("integration:name:c\1", "3")]
    )
    assert [kind.text(f"integration:name:{k}") for k in ["a", "a\0b", "c\1", "a\0"]] == ["1", "2", "3", None]
    assert "integration:name:a\0b" in kind
    assert "integration:name:b" not in kind


def test_a_kind_costs_little_beside_its_keys_and_text():
    """A 10,000-file tree's kinds hold ~250,000 keys: a str per key costs ~50 bytes beside its
    text, a dict slot another ~40."""
    entries = [(f"integration:name:name{i:06d}", "true") for i in range(20_000)]
    text = sum(len(key) - len("integration:name:") + len(payload) for key, payload in entries)
    tracemalloc.start()
    kind = kind_of(entries)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert kind.text("integration:name:name012345") == "true"
    assert held < text + 10 * len(entries)
