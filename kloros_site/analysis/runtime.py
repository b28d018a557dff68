"""Questions about the running pipeline, asked from its own measurements (the seed's ExplorationScanner).

The file monitors ask about code; these ask about how analyzing it goes:

  MEMORY_PRESSURE_OPTIMIZATION  pool processes recycled for memory more than N times per window,
                                with the files they had just analyzed (or the tree's evaluation)
  QUEUE_BACKLOG                 pending work growing over the window while the analysis queue never
                                emptied (every worker busy, or none there), with the rate
  HOT_FILE                      a file analyzed N or more times within the window: a generated file
                                or an editor's autosave loop, worth ignoring
  SLOW_ANALYSIS                 a file whose last analysis took far longer than its tree's median

A periodic task (tasks/runtime.py) calls `check`: it samples the backlog, turns the measurements
into conditions and reconciles them with the open runtime questions of each tree, in one
transaction per tree that also writes the outbox rows, published after commit as file questions
are. A condition that no longer holds resolves its question.

Runtime questions belong to the exploration monitor (curiosity.exploration_question) and live
under keys `runtime:<HYPOTHESIS>:<subject>`, a namespace no file posts under, so the engine never
evaluates them. Their evidence is figures followed by the files the question is about; it changes
(a `changed` transition) only when those files change: a new reading every minute is not news.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from kloros_site.analysis import relay
from kloros_site.analysis.measurements import sample_backlog
from kloros_site.analysis.models import Question, RuntimeEvent, SourceFile, Tree
from kloros_site.analysis.rounds import record_transitions
from kloros_site.analysis.store import as_engine_question, lock_tree
from monitors.question import Delta, stable_id

log = logging.getLogger(__name__)

MONITOR = "exploration"
PREFIX = "runtime:"
MEMORY = "MEMORY_PRESSURE_OPTIMIZATION"
BACKLOG = "QUEUE_BACKLOG"
HOT = "HOT_FILE"
SLOW = "SLOW_ANALYSIS"
HYPOTHESES = (MEMORY, BACKLOG, HOT, SLOW)
# how many lines of measured figures open each one's evidence; the files it is about follow
FIGURES = {MEMORY: 4, BACKLOG: 3, HOT: 2, SLOW: 3}
MAX_FILES = 20  # files named in one question's evidence; the figures count them all
Kind = RuntimeEvent.Kind


@dataclass(frozen=True)
class Thresholds:
    check_seconds: float = 60.0
    recycles: int = 6
    recycle_window: float = 3600.0
    backlog_growth: float = 10.0  # pending rows per minute
    backlog_window: float = 300.0
    hot_analyses: int = 10
    hot_window: float = 60.0
    slow_factor: float = 20.0
    slow_min_ms: float = 500.0
    slow_min_files: int = 10

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            check_seconds=settings.KLR_RUNTIME_CHECK_SECONDS,
            recycles=settings.KLR_RUNTIME_RECYCLES,
            recycle_window=settings.KLR_RUNTIME_RECYCLE_WINDOW,
            backlog_growth=settings.KLR_RUNTIME_BACKLOG_GROWTH,
            backlog_window=settings.KLR_RUNTIME_BACKLOG_WINDOW,
            hot_analyses=settings.KLR_RUNTIME_HOT_ANALYSES,
            hot_window=settings.KLR_RUNTIME_HOT_WINDOW,
            slow_factor=settings.KLR_RUNTIME_SLOW_FACTOR,
            slow_min_ms=settings.KLR_RUNTIME_SLOW_MIN_MS,
            slow_min_files=settings.KLR_RUNTIME_SLOW_MIN_FILES,
        )


@dataclass(frozen=True)
class Condition:
    """A measured condition: the question it asks, about one tree."""

    tree_id: int
    hypothesis: str
    subject: str  # a path, or "" when it is about the tree's pipeline as a whole
    question: str
    figures: tuple[str, ...]  # what was measured, in words
    files: tuple[str, ...] = ()  # the files it is about; only a change here changes the question
    severity: str = "low"
    capability_key: str = ""

    def __post_init__(self) -> None:
        if len(self.figures) != FIGURES[self.hypothesis]:
            raise ValueError(f"{self.hypothesis} has {FIGURES[self.hypothesis]} lines of figures")

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.hypothesis}:{self.subject}"

    @property
    def qid(self) -> str:
        return stable_id(MONITOR, self.hypothesis, self.key)

    @property
    def evidence(self) -> list[str]:
        return [*self.figures, *self.files]


def evidence_files(key: str, evidence: list[str]) -> list[str]:
    """The evidence items that name files: all of a file question's, the files after a runtime
    question's figures (which an operator's "re-analyze" must not take for paths)."""
    if not key.startswith(PREFIX):
        return list(evidence)
    hypothesis = key[len(PREFIX) :].split(":", 1)[0]
    return list(evidence[FIGURES.get(hypothesis, len(evidence)) :])


# --- conditions ---------------------------------------------------------------------------------


def span(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def memory_pressure(now: datetime, t: Thresholds) -> list[Condition]:
    since = now - timedelta(seconds=t.recycle_window)
    by_tree: dict[int, list[tuple[str, float]]] = defaultdict(list)
    rows = RuntimeEvent.objects.filter(kind=Kind.RECYCLE, at__gte=since, at__lte=now)
    for tree_id, path, rss_kb in rows.values_list("tree_id", "path", "value"):
        by_tree[tree_id].append((path, rss_kb or 0.0))
    found = []
    for tree_id, recycles in by_tree.items():
        if len(recycles) <= t.recycles:
            continue
        per_file = Counter(path for path, _ in recycles if path)
        evaluations = len(recycles) - sum(per_file.values())
        files = tuple(sorted(per_file))
        peak = max(rss for _, rss in recycles)
        figures = (
            f"{len(recycles)} recycles in the last {span(t.recycle_window)} (threshold: more than {t.recycles})",
            f"largest RSS at a recycle: {peak:,.0f} KiB",
            f"right after analyzing a file: {sum(per_file.values())} ({len(files)} files"
            + "".join(f"; {path} {n}" for path, n in per_file.most_common(3))
            + ")",
            f"right after evaluating the tree: {evaluations}",
        )
        question = (
            f"Worker processes were recycled for memory {len(recycles)} times in the last "
            f"{span(t.recycle_window)}, right after analyzing {len(files)} file(s) or evaluating the "
            "tree - is a file too large to analyze, or should KLR_WORKER_MAX_MEMORY_KB be raised?"
        )
        found.append(
            Condition(tree_id, MEMORY, "", question, figures, files[:MAX_FILES], "medium", "pipeline.memory")
        )
    return found


def queue_backlog(now: datetime, t: Thresholds) -> list[Condition]:
    # the oldest sample read is about one window old; slack covers a beat that ran late
    since = now - timedelta(seconds=t.backlog_window + 2 * t.check_seconds)
    by_tree: dict[int, list[tuple[datetime, float, int | None]]] = defaultdict(list)
    rows = RuntimeEvent.objects.filter(kind=Kind.BACKLOG, at__gte=since, at__lte=now).order_by("at", "id")
    for tree_id, at, pending, depth in rows.values_list("tree_id", "at", "value", "depth"):
        by_tree[tree_id].append((at, pending or 0.0, depth))
    found = []
    for tree_id, samples in by_tree.items():
        (first_at, first, _), (last_at, last, _) = samples[0], samples[-1]
        seconds = (last_at - first_at).total_seconds()
        if (now - first_at).total_seconds() < t.backlog_window or seconds <= 0:
            continue  # not watched for a whole window yet
        saturated = all(depth is not None and depth > 0 for _, _, depth in samples)
        rate = (last - first) / (seconds / 60)
        if not (saturated and last > first and rate >= t.backlog_growth):
            continue
        depths = [depth for _, _, depth in samples if depth is not None]
        done = RuntimeEvent.objects.filter(kind=Kind.ANALYSIS, at__gte=first_at, at__lte=last_at).count()
        figures = (
            f"pending files: {first:.0f} -> {last:.0f} in {span(seconds)} (+{rate:.1f}/min)",
            f"analysis queue never empty: {min(depths)} to {max(depths)} messages waiting "
            f"over {len(samples)} samples",
            f"analyses completed meanwhile, all trees: {done} ({done / (seconds / 60):.1f}/min)",
        )
        question = (
            f"Pending work grew by {rate:.1f} files a minute for {span(seconds)} while the analysis "
            "queue never emptied - are the workers too few or stuck, or is something rewriting files in a loop?"
        )
        found.append(Condition(tree_id, BACKLOG, "", question, figures, (), "medium", "pipeline.queue"))
    return found


def hot_files(now: datetime, t: Thresholds) -> list[Condition]:
    since = now - timedelta(seconds=t.hot_window)
    runs = RuntimeEvent.objects.filter(kind=Kind.ANALYSIS, at__gte=since, at__lte=now)
    hot = list(
        runs.values_list("tree_id", "path")
        .annotate(n=Count("id"))
        .filter(n__gte=t.hot_analyses)
        .order_by("tree_id", "path")
    )
    outcomes: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    rows = runs.filter(path__in={path for _, path, _ in hot}).values_list("tree_id", "path", "detail")
    for tree_id, path, outcome, n in rows.annotate(n=Count("id")).order_by():
        outcomes[tree_id, path][outcome] += n
    found = []
    for tree_id, path, n in hot:
        by_outcome = ", ".join(f"{k} {v}" for k, v in sorted(outcomes[tree_id, path].items()))
        figures = (
            f"analyzed {n} times in the last {span(t.hot_window)} (threshold: {t.hot_analyses})",
            f"outcomes: {by_outcome}",
        )
        question = (
            f"{path} was analyzed {n} times in {span(t.hot_window)} - is it generated, or rewritten by an "
            "editor's autosave loop? If so, list it under [tool.kloros] ignore."
        )
        found.append(Condition(tree_id, HOT, path, question, figures, (path,), "low", f"file.{path}"))
    return found


def slow_analyses(t: Thresholds) -> list[Condition]:
    analyzed = SourceFile.objects.filter(status=SourceFile.Status.ANALYZED, duration_ms__isnull=False)
    counts = analyzed.values_list("tree_id").annotate(n=Count("id")).order_by()
    found = []
    for tree_id, n in counts:
        if n < t.slow_min_files:
            continue
        files = analyzed.filter(tree_id=tree_id)
        median = files.order_by("duration_ms").values_list("duration_ms", flat=True)[n // 2]
        bar = max(t.slow_factor * median, t.slow_min_ms)
        slow = files.filter(duration_ms__gte=bar).order_by("-duration_ms", "path")
        for path, duration, size in slow.values_list("path", "duration_ms", "size")[:MAX_FILES]:
            times = duration / max(median, 1e-3)
            figures = (
                f"last analysis: {duration:,.0f} ms, {times:,.0f} times the median "
                f"(threshold: {t.slow_factor:g} times and at least {t.slow_min_ms:,.0f} ms)",
                f"tree median: {median:,.1f} ms over {n} analyzed files",
                f"size: {size:,} bytes",
            )
            question = (
                f"Analyzing {path} takes {duration:,.0f} ms, {times:,.0f} times the median of its tree - is "
                "it generated or vendored code worth ignoring, or a case the analyzer handles badly?"
            )
            found.append(Condition(tree_id, SLOW, path, question, figures, (path,), "low", f"file.{path}"))
    return found


# --- questions ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    opened: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    transition_ids: list[int] = field(default_factory=list)


def asked() -> QuerySet[Question]:
    """Open runtime questions (the index on status, monitor, hypothesis finds them)."""
    return Question.objects.open().filter(monitor=MONITOR, hypothesis__in=HYPOTHESES, key__startswith=PREFIX)


def reconcile(tree: Tree, conditions: list[Condition], outcome: Outcome) -> None:
    """Make the tree's open runtime questions match `conditions`, with their outbox rows."""
    wanted = {c.qid: c for c in conditions}
    now = timezone.now()
    delta = Delta()
    with transaction.atomic():
        lock_tree(tree)
        rows = {row.qid: row for row in asked().filter(tree=tree)}
        rows.update((row.qid, row) for row in Question.objects.filter(tree=tree, qid__in=list(wanted)))
        for qid, c in sorted(wanted.items()):
            row = rows.get(qid)
            is_open = row is not None and row.status == Question.Status.OPEN
            if is_open and row is not None and evidence_files(row.key, row.evidence) == list(c.files):
                continue  # same files: a new reading of the same condition
            fields = {
                "key": c.key,
                "monitor": MONITOR,
                "hypothesis": c.hypothesis,
                "question": c.question,
                "evidence": c.evidence,
                "severity": c.severity,
                "capability_key": c.capability_key,
                "status": Question.Status.OPEN,
                "resolved_at": None,
                "updated_at": now,
            }
            # a question that comes back reopens its row, keeping its id, history and suppression
            row, _ = Question.objects.update_or_create(tree=tree, qid=qid, defaults=fields)
            (delta.changed if is_open else delta.opened).append(as_engine_question(row))
        for qid, row in sorted(rows.items()):
            if qid not in wanted and row.status == Question.Status.OPEN:
                Question.objects.filter(pk=row.pk).update(
                    status=Question.Status.RESOLVED, resolved_at=now, updated_at=now
                )
                delta.resolved.append(as_engine_question(row))
        outbound = record_transitions(tree, delta)
        if outbound:
            transaction.on_commit(partial(relay.publish_committed, outbound))
    outcome.opened += [q.id for q in delta.opened]
    outcome.changed += [q.id for q in delta.changed]
    outcome.resolved += [q.id for q in delta.resolved]
    outcome.transition_ids += [t.pk for t in outbound]


def prune(now: datetime, t: Thresholds) -> None:
    keep = {
        Kind.ANALYSIS: max(t.hot_window, t.backlog_window + 2 * t.check_seconds),
        Kind.RECYCLE: t.recycle_window,
        Kind.BACKLOG: t.backlog_window + 2 * t.check_seconds,
    }
    for kind, seconds in keep.items():
        RuntimeEvent.objects.filter(kind=kind, at__lt=now - timedelta(seconds=seconds)).delete()


def check(
    queue_depth: int | None, now: datetime | None = None, thresholds: Thresholds | None = None
) -> Outcome:
    """Sample, measure, ask and resolve: one periodic run over every tree."""
    now = now or timezone.now()
    t = thresholds or Thresholds.from_settings()
    sample_backlog(now, queue_depth)
    conditions = [*memory_pressure(now, t), *queue_backlog(now, t), *hot_files(now, t), *slow_analyses(t)]
    by_tree: dict[int, list[Condition]] = defaultdict(list)
    for c in conditions:
        by_tree[c.tree_id].append(c)
    tree_ids = set(by_tree) | set(asked().values_list("tree_id", flat=True))
    outcome = Outcome()
    for tree in Tree.objects.filter(pk__in=tree_ids).order_by("pk"):
        reconcile(tree, by_tree.get(tree.pk, []), outcome)
    prune(now, t)
    return outcome
