"""A big evaluation's rounds: each key evaluated once, by whichever process claims its round first."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from kloros_site.analysis import evaluation, rounds, store
from kloros_site.analysis.models import ChangedKeys, EvaluationRound, PendingFile, Question, Transition, Tree
from kloros_site.analysis.store import as_engine_question
from monitors.engine import asks_questions
from tests.kloros_site.analysis import test_known
from tests.kloros_site.analysis.test_evaluation import ROOT, extract
from tests.monitors.monitor_helpers import batch

pytestmark = pytest.mark.django_db(transaction=True)
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has one writer: no helpers"
)
SOURCES = {**test_known.SOURCES, "pkg/e.py": "import pkg.missing\n\nclass Unused:\n    pass\n"}
# long enough for any round to finish; reached only if the rounds deadlock
STUCK = 60


class Killed(BaseException):
    """A helper's process killed mid-round: its transaction is rolled back."""


@pytest.fixture
def evaluated(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    """The keys of every round evaluated, by thread name; the tree's files extracted, not evaluated,
    and cut into rounds of two keys."""
    monkeypatch.setattr(evaluation, "BIG_ROWS", 1)
    monkeypatch.setattr(rounds, "KEYS_PER_ROUND", 2)
    monkeypatch.setattr(rounds, "MIN_KEYS_PER_ROUND", 1)
    found: dict[str, list[list[str]]] = {}
    evaluate = rounds._evaluate

    def recorded(store, keys, oldest):  # type: ignore[no-untyped-def]
        keys = list(keys)
        found.setdefault(threading.current_thread().name, []).append(keys)
        return evaluate(store, keys, oldest)

    monkeypatch.setattr(rounds, "_evaluate", recorded)
    for path, source in SOURCES.items():
        extract(path, source)
    return found


def helper() -> tuple[Callable[[int], None], list[threading.Thread]]:
    """An `ask_help` that starts rounds.help_evaluate in a thread of its own (a connection of its
    own), and the threads it started."""
    started: list[threading.Thread] = []

    def run(tree_id: int) -> None:
        try:
            rounds.help_evaluate(tree_id)
        except Killed:
            pass
        finally:
            connections.close_all()

    def ask_help(tree_id: int) -> None:
        thread = threading.Thread(target=run, args=[tree_id], name=f"helper-{len(started)}")
        started.append(thread)
        thread.start()

    return ask_help, started


def assert_settled_as_batch() -> None:
    stored = {row.qid: as_engine_question(row) for row in Question.objects.open()}
    assert stored == batch(SOURCES, dedent=False).all_questions()
    # each question on the bus once: one transition per question, all opened
    assert Transition.objects.count() == Question.objects.count() == len(stored)
    assert not ChangedKeys.objects.exists() and not EvaluationRound.objects.exists()


def every_key(found: dict[str, list[list[str]]]) -> list[str]:
    return [key for keys_of_rounds in found.values() for keys in keys_of_rounds for key in keys]


@on_postgresql
def test_a_helper_evaluates_rounds_at_the_same_time_as_the_evaluation(evaluated, monkeypatch):
    one_done = threading.Event()
    evaluate = rounds._evaluate

    def first_waits_for_the_other(store, keys, oldest):  # type: ignore[no-untyped-def]
        if threading.current_thread().name.startswith("helper"):
            one_done.wait(STUCK)  # the helper holds its round until the evaluation evaluated one
        outbound = evaluate(store, keys, oldest)
        one_done.set()
        return outbound

    monkeypatch.setattr(rounds, "_evaluate", first_waits_for_the_other)
    monkeypatch.setattr(rounds.settings, "KLR_EVALUATION_HELPERS", 1)
    ask_help, helpers = helper()
    evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk, ask_help=ask_help)
    for thread in helpers:
        thread.join(STUCK)
    assert len(helpers) == 1
    assert set(evaluated) == {"MainThread", "helper-0"}  # both evaluated rounds
    keys = every_key(evaluated)
    assert len(keys) == len(set(keys)) and all(asks_questions(key) for key in keys)
    assert_settled_as_batch()


@on_postgresql
def test_the_round_of_a_helper_that_died_is_evaluated_by_the_evaluation(evaluated, monkeypatch):
    dead: list[list[str]] = []
    evaluate = rounds._evaluate

    def dies(store, keys, oldest):  # type: ignore[no-untyped-def]
        if threading.current_thread().name.startswith("helper") and not dead:
            dead.append(list(keys))
            raise Killed
        return evaluate(store, keys, oldest)

    monkeypatch.setattr(rounds, "_evaluate", dies)
    monkeypatch.setattr(rounds.settings, "KLR_EVALUATION_HELPERS", 1)
    ask_help, helpers = helper()

    def ask_and_wait_for_the_death(tree_id: int) -> None:
        ask_help(tree_id)
        helpers[0].join(STUCK)  # it claims the first round before the evaluation claims any

    evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk, ask_help=ask_and_wait_for_the_death)
    assert len(dead) == 1 and "helper-0" not in evaluated
    assert dead[0] in evaluated["MainThread"]  # taken over
    keys = every_key(evaluated)
    assert len(keys) == len(set(keys))
    assert_settled_as_batch()


@on_postgresql
@pytest.mark.parametrize("extracting", [False, True])
def test_help_is_asked_only_once_the_tree_has_settled(evaluated, monkeypatch, extracting):
    monkeypatch.setattr(rounds.settings, "KLR_EVALUATION_HELPERS", 2)
    tree = Tree.objects.get(path=ROOT)
    if extracting:  # a steady stream of edits, evaluated after the delay: files still to extract
        PendingFile.objects.create(tree=tree, path="pkg/f.py", seq=0)
    asked: list[int] = []
    evaluation.evaluate_tree(tree.pk, ask_help=asked.append)
    assert asked == ([] if extracting else [tree.pk, tree.pk])
    assert_settled_as_batch()  # the evaluation evaluated every round itself


def test_rounds_an_evaluation_that_died_left_are_dropped(evaluated):
    tree = Tree.objects.get(path=ROOT)
    EvaluationRound.objects.create(tree=tree, keys=["integration:name:gone.py:f"], oldest=0)
    evaluation.evaluate_tree(tree.pk)
    assert "integration:name:gone.py:f" not in every_key(evaluated)
    assert len(evaluated["MainThread"]) > 1  # several rounds
    assert_settled_as_batch()


@on_postgresql
def test_a_helper_knows_whether_the_evaluation_still_holds_its_lock():
    tree = Tree.objects.create(path=ROOT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        evaluation_backend = cursor.fetchone()[0]

    def seen_by_another_connection() -> bool:
        seen: list[bool] = []

        def look() -> None:
            try:
                seen.append(store.evaluation_held(tree, evaluation_backend))
            finally:
                connections.close_all()

        thread = threading.Thread(target=look)
        thread.start()
        thread.join(STUCK)
        return seen[0]

    with store.evaluation_lock(tree):
        assert seen_by_another_connection()
    assert not seen_by_another_connection()
