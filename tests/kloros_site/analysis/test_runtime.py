"""The runtime questions as plain functions: measurements in, questions and outbox rows out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from kloros_site.analysis import measurements, runtime
from kloros_site.analysis.messages import FileVersion, sha256
from kloros_site.analysis.models import PendingFile, Question, RuntimeEvent, SourceFile, Transition, Tree
from kloros_site.analysis.runtime import Thresholds, check
from kloros_site.analysis.services import record

pytestmark = pytest.mark.django_db
Kind = RuntimeEvent.Kind
T = Thresholds(
    check_seconds=60,
    recycles=2,
    recycle_window=3600,
    backlog_growth=5,
    backlog_window=180,
    hot_analyses=5,
    hot_window=60,
    slow_factor=10,
    slow_min_ms=100,
    slow_min_files=5,
)


@pytest.fixture
def tree() -> Tree:
    return Tree.objects.create(path="/srv/tree")


def transitions() -> list[tuple[str, str, str]]:
    return [
        (kind, signal, envelope["facts"]["hypothesis"])
        for kind, signal, envelope in Transition.objects.order_by("id").values_list(
            "kind", "signal", "envelope"
        )
    ]


def runs(tree: Tree, path: str, n: int, at, outcome: str = "analyzed") -> None:
    RuntimeEvent.objects.bulk_create(
        RuntimeEvent(tree=tree, kind=Kind.ANALYSIS, at=at, path=path, detail=outcome) for _ in range(n)
    )


def test_a_file_analyzed_many_times_a_minute_is_hot_until_it_calms_down(tree):
    now = timezone.now()
    runs(tree, "gen/out.py", 4, now - timedelta(seconds=30))
    runs(tree, "gen/out.py", 2, now - timedelta(seconds=20), outcome="unchanged")
    runs(tree, "quiet.py", 4, now - timedelta(seconds=30))
    runs(tree, "old.py", 9, now - timedelta(seconds=90))  # outside the window

    outcome = check(queue_depth=0, now=now, thresholds=T)

    question = Question.objects.get()
    assert outcome.opened == [question.qid] and question.status == "open"
    assert (question.monitor, question.hypothesis, question.severity) == ("exploration", "HOT_FILE", "low")
    assert question.key == "runtime:HOT_FILE:gen/out.py"
    assert question.evidence == [
        "analyzed 6 times in the last 60 s (threshold: 5)",
        "outcomes: analyzed 4, unchanged 2",
        "gen/out.py",
    ]
    assert question.question.startswith("gen/out.py was analyzed 6 times in 60 s")
    assert transitions() == [("opened", "curiosity.exploration_question", "HOT_FILE")]
    assert Transition.objects.get().envelope["facts"]["evidence"] == question.evidence

    # still hot a little later: the same question, no new transition
    runs(tree, "gen/out.py", 3, now + timedelta(seconds=10))
    assert not check(queue_depth=0, now=now + timedelta(seconds=15), thresholds=T).transition_ids
    assert len(transitions()) == 1

    # a minute without saves: resolved
    outcome = check(queue_depth=0, now=now + timedelta(seconds=75), thresholds=T)
    assert outcome.resolved == [question.qid]
    question.refresh_from_db()
    assert question.status == "resolved" and question.resolved_at is not None
    assert transitions()[-1] == ("resolved", "curiosity.question_resolved", "HOT_FILE")


def analyzed(tree: Tree, path: str, duration_ms: float, **fields) -> SourceFile:
    return SourceFile.objects.create(
        tree=tree, path=path, status=SourceFile.Status.ANALYZED, duration_ms=duration_ms, size=100, **fields
    )


def test_a_file_far_slower_than_the_median_is_slow_until_it_is_fast(tree):
    for i in range(6):
        analyzed(tree, f"m{i}.py", 2.0 + i / 10)
    big = analyzed(tree, "big.py", 900.0)
    analyzed(tree, "meh.py", 50.0)  # 20x the median but under the absolute floor of 100 ms
    SourceFile.objects.create(tree=tree, path="broken.py", status=SourceFile.Status.FAILED, duration_ms=5000)

    check(queue_depth=0, thresholds=T)

    question = Question.objects.get()
    assert (question.hypothesis, question.key) == ("SLOW_ANALYSIS", "runtime:SLOW_ANALYSIS:big.py")
    assert question.evidence == [
        "last analysis: 900 ms, 375 times the median (threshold: 10 times and at least 100 ms)",
        "tree median: 2.4 ms over 8 analyzed files",
        "size: 100 bytes",
        "big.py",
    ]
    assert transitions() == [("opened", "curiosity.exploration_question", "SLOW_ANALYSIS")]

    SourceFile.objects.filter(pk=big.pk).update(duration_ms=3.0)
    check(queue_depth=0, thresholds=T)
    question.refresh_from_db()
    assert question.status == "resolved"
    assert transitions()[-1] == ("resolved", "curiosity.question_resolved", "SLOW_ANALYSIS")


def test_too_few_files_have_no_meaningful_median(tree):
    analyzed(tree, "a.py", 1.0)
    analyzed(tree, "big.py", 900.0)
    check(queue_depth=0, thresholds=T)
    assert not Question.objects.exists()


def recycle(tree: Tree, path: str, at, rss_kb: float = 200_000) -> None:
    RuntimeEvent.objects.create(tree=tree, kind=Kind.RECYCLE, at=at, path=path, value=rss_kb, detail="w@h")


def test_memory_recycles_ask_with_the_files_and_change_when_another_file_joins(tree):
    now = timezone.now()
    recycle(tree, "huge.py", now - timedelta(minutes=50))
    recycle(tree, "huge.py", now - timedelta(minutes=20), rss_kb=250_000)
    check(queue_depth=0, now=now, thresholds=T)
    assert not Question.objects.exists()  # two is not more than two

    recycle(tree, "other.py", now - timedelta(minutes=1))
    check(queue_depth=0, now=now, thresholds=T)
    question = Question.objects.get()
    assert (question.hypothesis, question.severity) == ("MEMORY_PRESSURE_OPTIMIZATION", "medium")
    assert question.evidence == [
        "3 recycles in the last 1 h (threshold: more than 2)",
        "largest RSS at a recycle: 250,000 KiB",
        "right after analyzing a file: 3 (2 files; huge.py 2; other.py 1)",
        "right after evaluating the tree: 0",
        "huge.py",
        "other.py",
    ]

    # another recycle after the same files: a new reading, not news
    recycle(tree, "huge.py", now)
    check(queue_depth=0, now=now + timedelta(seconds=1), thresholds=T)
    assert [kind for kind, _, _ in transitions()] == ["opened"]

    # a third file: the question changes
    recycle(tree, "third.py", now)
    check(queue_depth=0, now=now + timedelta(seconds=2), thresholds=T)
    question.refresh_from_db()
    assert question.evidence[-3:] == ["huge.py", "other.py", "third.py"]
    assert transitions()[-1] == ("changed", "curiosity.exploration_question", "MEMORY_PRESSURE_OPTIMIZATION")

    # an hour later the recycles are out of the window (and pruned): resolved
    later = now + timedelta(minutes=61)
    check(queue_depth=0, now=later, thresholds=T)
    question.refresh_from_db()
    assert question.status == "resolved"
    assert not RuntimeEvent.objects.filter(kind=Kind.RECYCLE).exists()


def test_a_recycle_is_recorded_against_what_the_process_did_last(tree):
    measurements.forget_last_work()
    assert measurements.note_recycle(180_000, "w@h") is False  # no analysis yet: nothing to blame
    measurements.note_analyses(tree, [("huge.py", "analyzed")])
    assert measurements.note_recycle(180_000, "w@h") is True
    measurements.forget_last_work()  # the next task starts
    assert measurements.note_recycle(180_000, "w@h") is False
    measurements.note_evaluation(tree.pk)
    assert measurements.note_recycle(190_000, "w@h") is True
    measurements.note_evaluation(tree.pk + 1000)  # a tree deleted meanwhile
    assert measurements.note_recycle(190_000, "w@h") is False
    assert list(
        RuntimeEvent.objects.filter(kind=Kind.RECYCLE).order_by("id").values_list("path", "value", "detail")
    ) == [("huge.py", 180_000.0, "w@h"), ("", 190_000.0, "w@h")]


def test_recycles_after_evaluations_count_and_name_no_file(tree):
    now = timezone.now()
    for path in ("", "", "big.py"):
        recycle(tree, path, now)
    check(queue_depth=0, now=now, thresholds=T)
    assert Question.objects.get().evidence[2:] == [
        "right after analyzing a file: 1 (1 files; big.py 1)",
        "right after evaluating the tree: 2",
        "big.py",
    ]


def pending(tree: Tree, n: int) -> None:
    PendingFile.objects.bulk_create(
        PendingFile(tree=tree, path=f"p{i}.py", seq=1) for i in range(PendingFile.objects.count(), n)
    )


def test_a_backlog_growing_for_a_window_while_the_queue_stays_full_asks_with_its_rate(tree):
    start = timezone.now()
    minute = timedelta(minutes=1)
    for i, n in enumerate([10, 20, 30]):
        pending(tree, n)
        check(queue_depth=4, now=start + i * minute, thresholds=T)
    assert not Question.objects.exists()  # watched for two minutes only: not a whole window yet

    runs(tree, "p0.py", 4, start + 2 * minute)  # the workers do finish some
    pending(tree, 40)
    check(queue_depth=4, now=start + 3 * minute, thresholds=T)
    question = Question.objects.get()
    assert (question.hypothesis, question.key) == ("QUEUE_BACKLOG", "runtime:QUEUE_BACKLOG:")
    assert question.evidence == [
        "pending files: 10 -> 40 in 3 min (+10.0/min)",
        "analysis queue never empty: 4 to 4 messages waiting over 4 samples",
        "analyses completed meanwhile, all trees: 4 (1.3/min)",
    ]
    assert "grew by 10.0 files a minute" in question.question
    assert transitions() == [("opened", "curiosity.exploration_question", "QUEUE_BACKLOG")]

    # the workers catch up: the backlog shrinks, the question resolves
    PendingFile.objects.filter(path__in=[f"p{i}.py" for i in range(30)]).delete()
    check(queue_depth=1, now=start + 4 * minute, thresholds=T)
    question.refresh_from_db()
    assert question.status == "resolved"


def test_a_growing_backlog_with_an_idle_moment_in_the_queue_is_not_saturation(tree):
    start = timezone.now()
    for i, (n, depth) in enumerate([(10, 4), (20, 0), (30, 4), (40, 4)]):
        pending(tree, n)
        check(queue_depth=depth, now=start + timedelta(minutes=i), thresholds=T)
    assert not Question.objects.exists()


def test_a_suppressed_runtime_question_comes_back_suppressed_and_unpublished(tree):
    now = timezone.now()
    runs(tree, "gen.py", 5, now)
    check(queue_depth=0, now=now, thresholds=T)
    Question.objects.update(suppressed=True)
    check(queue_depth=0, now=now + timedelta(minutes=2), thresholds=T)  # resolved: not published
    runs(tree, "gen.py", 5, now + timedelta(minutes=3))
    check(queue_depth=0, now=now + timedelta(minutes=3), thresholds=T)
    question = Question.objects.get()
    assert question.status == "open" and question.suppressed
    assert transitions() == [("opened", "curiosity.exploration_question", "HOT_FILE")]


def test_file_analysis_records_its_run_and_never_touches_runtime_questions(tree):
    now = timezone.now()
    runs(tree, "gen.py", 5, now)
    check(queue_depth=0, now=now, thresholds=T)
    data = b'ChemPub().emit("curiosity.x")\n'
    version = FileVersion(
        root=tree.path, path="gen.py", seq=1, sha256=sha256(data), size=len(data), data=data
    )
    assert record(version) == "analyzed"
    assert RuntimeEvent.objects.filter(kind=Kind.ANALYSIS, path="gen.py", detail="analyzed").count() == 6
    assert sorted(Question.objects.open().values_list("hypothesis", flat=True)) == [
        "HOT_FILE",
        "ORPHANED_QUEUE",
    ]


def test_old_measurements_are_pruned(tree):
    now = timezone.now()
    runs(tree, "a.py", 1, now - timedelta(minutes=10))
    runs(tree, "b.py", 1, now - timedelta(minutes=1))
    recycle(tree, "a.py", now - timedelta(minutes=61))
    check(queue_depth=0, now=now, thresholds=T)
    assert sorted(RuntimeEvent.objects.values_list("kind", "path")) == [("analysis", "b.py"), ("backlog", "")]


@override_settings(KLR_RUNTIME_HOT_ANALYSES=3, KLR_RUNTIME_HOT_WINDOW=5.0, KLR_RUNTIME_SLOW_FACTOR=4.0)
def test_thresholds_come_from_settings():
    t = Thresholds.from_settings()
    assert (t.hot_analyses, t.hot_window, t.slow_factor) == (3, 5.0, 4.0)
    assert runtime.span(3600) == "1 h" and runtime.span(300) == "5 min" and runtime.span(60) == "60 s"
