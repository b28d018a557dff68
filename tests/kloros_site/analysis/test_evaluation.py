"""Batched evaluation: extraction stores changes, one evaluation per tree turns them into questions."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kloros_site.analysis import claims, evaluation, pending, question_rows, store
from kloros_site.analysis.messages import FileVersion, sha256
from kloros_site.analysis.models import ChangedKeys, KeyRead, Question, Transition, Tree
from kloros_site.analysis.services import record
from kloros_site.analysis.store import as_engine_question
from tests.kloros_site.analysis.test_pending import ended_process
from tests.monitors.monitor_helpers import batch
from tests.monitors.tree_strategies import operations, replay_edits

pytestmark = pytest.mark.django_db
ROOT = "/srv/tree"
_last = [0]


def next_seq() -> int:
    """Now, in ns, strictly increasing: a version is read after the change it answers."""
    _last[0] = max(time.time_ns(), _last[0] + 1)
    return _last[0]


def version(path: str, source: str | None) -> FileVersion:
    if source is None:
        return FileVersion(root=ROOT, path=path, seq=next_seq(), deleted=True)
    data = source.encode()
    return FileVersion(root=ROOT, path=path, seq=next_seq(), sha256=sha256(data), size=len(data), data=data)


def extract(path: str, source: str | None, requested: list[int] | None = None) -> str:
    """A worker's extraction, its evaluation request collected instead of sent."""
    return record(version(path, source), (requested if requested is not None else []).append)


def evaluated_tree(path: str = "a.py", source: str = "x = 1\n", ended_ago: float = 0.0) -> Tree:
    """A tree with one file, evaluated; its evaluation ended `ended_ago` seconds ago."""
    extract(path, source)
    tree = Tree.objects.get()
    evaluation.evaluate_tree(tree.pk)
    if ended_ago:
        Tree.objects.update(evaluated_at=timezone.now() - timedelta(seconds=ended_ago))
    return tree


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(operations, st.lists(st.booleans(), min_size=25, max_size=25))
@pytest.mark.parametrize("whole_tree", [False, True], ids=["per-key loads", "whole-tree loads"])
def test_batched_evaluation_in_the_database_equals_batch(whole_tree, monkeypatch, ops, ends_batch):
    # whole-tree loads are what a cold scan's batch uses (store.BIG_BATCH); force them on small trees
    monkeypatch.setattr(store, "BIG_BATCH", 0 if whole_tree else store.BIG_BATCH)
    with transaction.atomic():
        files: dict[str, str] = {}
        for _, end in zip(replay_edits(ops, files, extract), ends_batch, strict=False):
            if end and Tree.objects.exists():
                evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk)
        if Tree.objects.exists():
            evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk)
            assert not ChangedKeys.objects.exists()
        stored = {row.qid: as_engine_question(row) for row in Question.objects.open()}
        assert stored == batch(files, dedent=False).all_questions()
        transaction.set_rollback(True)


def test_a_settled_tree_is_evaluated_once_however_many_files_changed():
    requested: list[int] = []
    pending.request(ROOT, ["p.py", "c.py", "d.py"])
    extract("p.py", 'ChemPub().emit("ch.a")\nChemPub().emit("ch.b")\n', requested)
    extract("c.py", 'ChemSub("ch.a", print)\n', requested)
    assert requested == []  # d.py is still pending: the tree has not settled
    assert not Question.objects.exists()
    extract("d.py", 'ChemSub("ch.b", print)\n', requested)
    tree = Tree.objects.get()
    assert requested == [tree.pk]
    assert ChangedKeys.objects.count() == 3
    assert evaluation.evaluate_tree(tree.pk) == 0  # every channel has a consumer: nothing to hear
    assert not Question.objects.exists() and not Transition.objects.exists()
    assert not ChangedKeys.objects.exists()


def test_a_scan_is_heard_as_its_final_result_not_its_intermediate_states():
    requested: list[int] = []
    pending.request(ROOT, ["a.py", "b.py"])
    extract("a.py", "import pkg.b\n", requested)
    extract("pkg/b.py", "x = 1\n", requested)  # a.py's import resolves once b exists
    extract("b.py", 'ChemPub().emit("ch.x")\n', requested)
    evaluation.evaluate_tree(Tree.objects.get().pk)
    kinds = sorted(Transition.objects.values_list("kind", "question__hypothesis"))
    assert kinds == [("opened", "ORPHANED_QUEUE")]


def test_a_trickle_waits_at_most_the_max_delay(settings):
    """Time passes by moving the stored instants back, not by sleeping through a short delay (a
    loaded machine took longer than 50 ms to store p.py, and "not overdue yet" was over)."""
    settings.KLR_EVALUATION_MAX_DELAY = 10
    tree = evaluated_tree("p.py", 'ChemPub().emit("ch.a")\n', ended_ago=11)
    requested: list[int] = []
    # edits keep arriving: another file is always pending
    pending.request(ROOT, ["q.py"], seq=next_seq())
    extract("p.py", 'ChemPub().emit("ch.b")\n', requested)
    assert requested == []  # not settled, not overdue yet
    ChangedKeys.objects.update(seq=F("seq") - 11 * 10**9)  # the delay has passed
    pending.request(ROOT, ["q.py"], seq=next_seq())
    extract("r.py", "x = 1\n", requested)
    assert requested == [tree.pk]


def test_a_scan_queued_up_front_never_counts_as_a_trickle(settings):
    settings.KLR_EVALUATION_MAX_DELAY = 0.0
    requested: list[int] = []
    pending.request(ROOT, ["a.py", "b.py"], seq=time.time_ns() - 10**9)
    extract("a.py", "x = 1\n", requested)
    assert requested == []


def test_one_evaluation_request_at_a_time_until_it_is_lost():
    tree = Tree.objects.create(path=ROOT)
    sent: list[int] = []
    assert evaluation.request(tree, sent.append)
    assert not evaluation.request(tree, sent.append)
    Tree.objects.update(evaluation_requested_at=timezone.now() - timedelta(hours=1))
    assert evaluation.request(tree, sent.append)
    assert sent == [tree.pk, tree.pk]


def test_a_request_the_broker_refused_can_be_made_again():
    tree = Tree.objects.create(path=ROOT)

    def refuse(tree_id: int) -> None:
        raise ConnectionError("broker away")

    assert not evaluation.request(tree, refuse)
    sent: list[int] = []
    assert evaluation.request(tree, sent.append) and sent == [tree.pk]


def test_the_sweep_asks_only_for_trees_with_changes_that_are_due():
    extract("p.py", 'ChemPub().emit("ch.a")\n', [])
    quiet = Tree.objects.create(path="/srv/quiet")
    busy = Tree.objects.create(path="/srv/busy")
    ChangedKeys.objects.create(tree=busy, keys=["integration:channel:x"], seq=time.time_ns())
    pending.request("/srv/busy", ["still.py"])
    sent: list[int] = []
    Tree.objects.update(evaluation_requested_at=None)
    assert evaluation.sweep(sent.append) == 1
    assert sent == [Tree.objects.get(path=ROOT).pk] and quiet.pk not in sent


def test_keys_that_read_only_themselves_store_no_reads():
    extract("p.py", "def helper():\n    return 1\n", [])
    evaluation.evaluate_tree(Tree.objects.get().pk)
    reads = list(KeyRead.objects.values_list("key", "read"))
    assert ("integration:name:helper", "integration:used:helper") in reads  # reads of others are kept
    assert not [(k, r) for k, r in reads if k == r]


def test_a_burst_draining_is_not_evaluated_after_every_file(settings):
    """Changes keep arriving (a branch switch's events still coming in) and the oldest change is
    overdue: one evaluation, then none until the delay has passed since it ended.

    Time passes by moving the stored instants back, not by sleeping: with a delay short enough to
    sleep through, a loaded machine took longer than the delay to record d.py, and "only just
    ended" was over before it was checked."""
    settings.KLR_EVALUATION_MAX_DELAY = 10
    tree = evaluated_tree()  # the trickle's evaluation just ended
    requested: list[int] = []
    pending.request(ROOT, ["q.py"], seq=next_seq())  # the tree is not settled from here on
    extract("b.py", "y = 1\n", requested)  # an older change waits ...
    ChangedKeys.objects.update(seq=F("seq") - 11 * 10**9)  # ... longer than the delay
    pending.request(ROOT, ["c.py"], seq=next_seq())  # and a newer one is seen
    Tree.objects.update(evaluated_at=timezone.now())  # but an evaluation has only just ended
    extract("d.py", "z = 1\n", requested)
    assert requested == []
    Tree.objects.update(evaluated_at=timezone.now() - timedelta(seconds=11))
    extract("e.py", "w = 1\n", requested)
    assert requested == [tree.pk]


def test_a_burst_that_stopped_arriving_is_drained_before_it_is_evaluated(settings):
    """A branch switch: its files were all seen within a second or two, and the workers take
    longer than the delay to store them. That backlog is no trickle: evaluating it halfway opened
    and resolved questions the new checkout never asks (bench/run.sh branch, 88 transitions
    mid-drain). Only changes still arriving make an overdue tree evaluate before it settles."""
    settings.KLR_EVALUATION_MAX_DELAY = 10
    tree = evaluated_tree(ended_ago=11)
    requested: list[int] = []
    seen = next_seq() - 9 * 10**9  # the switch's files, seen 9 s ago, still waiting for a worker
    pending.request(ROOT, ["q.py", "r.py"], seq=seen)
    extract("b.py", "y = 1\n", requested)
    ChangedKeys.objects.update(seq=F("seq") - 11 * 10**9)  # stored long before the delay ran out
    extract("c.py", "z = 1\n", requested)
    assert requested == []
    pending.request(ROOT, ["s.py"], seq=next_seq())  # an edit arrives now: a trickle after all
    extract("d.py", "w = 1\n", requested)
    assert requested == [tree.pk]


def test_a_tree_whose_changes_the_watcher_holds_has_not_settled():
    tree = evaluated_tree()
    requested: list[int] = []
    Tree.objects.update(watcher_holds_until=timezone.now() + timedelta(seconds=5))
    extract("b.py", "y = 1\n", requested)  # no pending row left, but more changes are coming
    assert requested == []
    Tree.objects.update(watcher_holds_until=timezone.now() - timedelta(seconds=1))  # lapsed
    extract("c.py", "z = 1\n", requested)
    assert requested == [tree.pk]


def test_an_evaluation_whose_worker_is_gone_can_be_requested_again():
    tree = Tree.objects.create(path=ROOT)
    sent: list[int] = []
    assert evaluation.request(tree, sent.append)
    claims.claim_evaluation(tree.pk)  # running in this process: alive
    assert not evaluation.request(tree, sent.append)
    Tree.objects.update(evaluation_claimed_by=claims.identity(ended_process()))
    assert evaluation.request(tree, sent.append)  # without waiting for KLR_EVALUATION_LOST_AFTER
    assert not evaluation.request(tree, sent.append)  # and once
    assert sent == [tree.pk, tree.pk]
    assert Tree.objects.get().evaluation_claimed_by == ""  # the new one is not running yet


def test_an_evaluation_leaves_no_claim_behind():
    extract("p.py", 'ChemPub().emit("ch.a")\n', [])
    evaluation.evaluate_tree(Tree.objects.get().pk)
    assert Tree.objects.values_list("evaluation_claimed_by", "evaluation_requested_at").get() == ("", None)


def test_an_edit_is_evaluated_in_its_own_task_and_a_scan_is_sent():
    sent: list[int] = []
    trigger = evaluation.here_or_send(sent.append)
    record(version("p.py", 'ChemPub().emit("ch.a")\n'), trigger)  # one edit: evaluated here
    assert sent == [] and not ChangedKeys.objects.exists()
    assert list(Question.objects.values_list("hypothesis", flat=True)) == ["ORPHANED_QUEUE"]
    paths = [f"m{i}.py" for i in range(evaluation.INLINE_ROWS + 1)]
    pending.request(ROOT, paths)
    for path in paths:  # a scan: settled only with its last file, then too big to run here
        record(version(path, f"import {path[:-3]}\n"), trigger)
    tree = Tree.objects.get()
    assert sent == [tree.pk]
    assert ChangedKeys.objects.filter(tree=tree).count() == evaluation.INLINE_ROWS + 1


def heard() -> tuple[list, list]:
    transitions = list(Transition.objects.order_by("pk").values_list("kind", "question__qid", "signal"))
    questions = sorted(Question.objects.values_list("qid", "status", "evidence"))
    return transitions, questions


def test_a_round_written_a_few_rows_per_statement_writes_what_one_statement_does(monkeypatch):
    # a round's questions and transitions are written ROWS_PER_STATEMENT rows at a time (memory):
    # with one per statement the same rows come out, in the same order
    sources = {
        "p.py": 'ChemPub().emit("ch.a")\nChemPub().emit("ch.b")\nChemPub().emit("ch.c")\n',
        "q.py": 'ChemPub().emit("ch.d")\nChemSub("ch.z", print)\n',
    }
    edits = {"p.py": 'ChemPub().emit("ch.a")\nChemSub("ch.b", print)\n', "q.py": None}
    outcomes = []
    for rows in (question_rows.ROWS_PER_STATEMENT, 1):
        monkeypatch.setattr(question_rows, "ROWS_PER_STATEMENT", rows)
        with transaction.atomic():
            for files in (sources, edits):
                for path, source in files.items():
                    extract(path, source)
                evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk)
            transitions, questions = heard()
            outcomes.append((transitions, questions))
            transaction.set_rollback(True)
    assert len(outcomes[0][0]) > 4  # several opened, then some resolved
    assert outcomes[1] == outcomes[0]
