"""What the operator surfaces report, as plain functions shared by the dashboard, /health and /metrics.

Everything is derived at read time from the database and the broker: the workers are other
processes (often other machines), so counters kept in the web process would mean nothing.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from kloros_site.analysis.models import DeadLetter, PendingFile, Question, SourceFile, Transition

log = logging.getLogger(__name__)

STARTED = time.time()

MB = 1024 * 1024


def threshold(name: str) -> float:
    """One of the seed's alert thresholds (KLR_ALERT_*; defaults in settings.py)."""
    return float(getattr(settings, name))


def uptime() -> float:
    return time.time() - STARTED


# --- database -------------------------------------------------------------------------------


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.warning("database check failed", exc_info=True)
        return False
    return True


def pending_count() -> int:
    return PendingFile.objects.count()


def cache_size() -> int:
    """Files the analysis cache holds (tombstones of deleted files excluded)."""
    return SourceFile.objects.exclude(status=SourceFile.Status.DELETED).count()


def files_by_status() -> dict[str, int]:
    counts = dict.fromkeys(SourceFile.Status.values, 0)
    for row in SourceFile.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def open_questions() -> int:
    return Question.objects.open().count()


def open_questions_by(field_name: str) -> list[tuple[str, int]]:
    """Open questions per value of `field_name` (monitor, hypothesis or severity), largest first."""
    return [(values[0], n) for values, n in open_questions_grouped(field_name)]


def open_questions_grouped(*fields: str) -> list[tuple[tuple[str, ...], int]]:
    rows = Question.objects.open().values(*fields).annotate(n=Count("id")).order_by("-n", *fields)
    return [(tuple(row[f] for f in fields), row["n"]) for row in rows]


def questions_by_monitor_and_status() -> list[tuple[str, str, int]]:
    rows = Question.objects.values("monitor", "status").annotate(n=Count("id")).order_by("monitor", "status")
    return [(row["monitor"], row["status"], row["n"]) for row in rows]


def errors_last_minute(now: datetime | None = None) -> int:
    """Files whose analysis failed in the last minute: the error rate per minute."""
    since = (now or timezone.now()) - timedelta(minutes=1)
    return SourceFile.objects.filter(status=SourceFile.Status.FAILED, analyzed_at__gte=since).count()


def dead_letter_count() -> int:
    return DeadLetter.objects.count()


def unpublished_transitions() -> int:
    return Transition.objects.filter(published_at__isnull=True).count()


# --- broker and workers ----------------------------------------------------------------------


def _timeout() -> float:
    return settings.KLR_BROKER_CHECK_TIMEOUT


def _connection():
    from kloros_site.celery import app

    conn = app.connection_for_read(connect_timeout=_timeout())
    try:
        # without a bound, kombu retries a dead broker forever and the request hangs
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=_timeout())
    except Exception:
        conn.release()
        raise
    return conn


def broker_ok() -> bool:
    try:
        with _connection():
            return True
    except Exception as exc:
        log.warning("broker check failed: %s", type(exc).__name__)
        return False


def queue_depth(queue: str | None = None) -> int | None:
    """Messages waiting in the analysis queue; 0 when it was never declared, None when unreachable."""
    name = queue or settings.KLR_ANALYSIS_QUEUE
    try:
        conn = _connection()
    except Exception as exc:
        log.warning("queue depth: broker unreachable: %s", type(exc).__name__)
        return None
    with conn:
        try:
            return conn.default_channel.queue_declare(queue=name, passive=True).message_count
        except conn.channel_errors:
            # a passive declare of a queue no task was ever sent to fails with NOT_FOUND
            return 0
        except Exception as exc:
            log.warning("queue depth failed: %s", type(exc).__name__)
            return None


@dataclass(frozen=True)
class Worker:
    name: str
    # the largest current RSS among the worker's processes (main and pool), and each of them
    memory_mb: float | None
    uptime: float | None
    processes: int
    process_memory_mb: dict[str, float] = field(default_factory=dict)


@dataclass
class _WorkerCache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    at: float = -math.inf
    workers: list[Worker] = field(default_factory=list)
    last_seen: float | None = None


_cache = _WorkerCache()


def _inspect_workers() -> list[Worker]:
    from kloros_site.celery import app

    # one stats broadcast answers "who is alive" and "how much memory" at once: every
    # broadcast waits its full timeout, so a separate ping would double the cost
    inspect = app.control.inspect(timeout=settings.KLR_INSPECT_TIMEOUT)
    replies = inspect._request("kloros_stats") or {}  # tasks/control.py
    workers = []
    for name, info in sorted(replies.items()):
        per_process = {pid: rss / MB for pid, rss in (info.get("process_rss") or {}).items()}
        pool = info.get("pool") or {}
        workers.append(
            Worker(
                name=name,
                memory_mb=max(per_process.values(), default=None),
                uptime=info.get("uptime"),
                processes=len(pool.get("processes") or []),
                process_memory_mb=per_process,
            )
        )
    return workers


def workers(max_age: float | None = None) -> list[Worker]:
    """Workers answering a broadcast, cached for a few seconds (each broadcast waits its timeout)."""
    max_age = settings.KLR_WORKER_CACHE_SECONDS if max_age is None else max_age
    with _cache.lock:
        now = time.monotonic()
        if now - _cache.at > max_age:
            try:
                found = _inspect_workers() if broker_ok() else []
            except Exception as exc:
                log.warning("worker inspection failed: %s", type(exc).__name__)
                found = []
            _cache.workers, _cache.at = found, time.monotonic()
            if found:
                _cache.last_seen = time.time()
        return list(_cache.workers)


def seconds_without_worker(now: float | None = None) -> float:
    """How long no worker has answered, counted from this process's start if none ever did."""
    now = time.time() if now is None else now
    if workers():
        return 0.0
    return now - (_cache.last_seen or STARTED)


# --- time series from the outbox --------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    start: datetime
    opened: int
    resolved: int
    p50_ms: float | None
    p99_ms: float | None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of unsorted values (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def series(window: timedelta, buckets: int = 30, now: datetime | None = None) -> list[Bucket]:
    """Questions opened and resolved, and event-to-question latency p50/p99, per time bucket.

    Counts are exact, computed by the database in one pass over the created_at index. The
    percentiles come from at most KLR_DASHBOARD_LATENCY_SAMPLE rows: past that, every k-th id
    is kept, which samples evenly over time because ids grow with time.
    """
    now = now or timezone.now()
    start = now - window
    step = window / buckets
    rows = Transition.objects.filter(created_at__gte=start, created_at__lte=now)
    edges = [start + step * i for i in range(buckets)] + [now]
    totals: dict[str, int] = {"latencies": 0}
    for i in range(buckets):
        # one small query per bucket: each range-scans the created_at index once, which is far
        # cheaper than a single query evaluating sixty FILTER clauses on every row
        in_bucket = rows.filter(created_at__gte=edges[i])
        in_bucket = (
            in_bucket.filter(created_at__lte=now)
            if i == buckets - 1
            else in_bucket.filter(created_at__lt=edges[i + 1])
        )
        by_kind = in_bucket.values("kind").annotate(n=Count("id"), measured=Count("latency_ms")).order_by()
        totals[f"o{i}"] = totals[f"r{i}"] = 0
        for row in by_kind:
            if row["kind"] == Transition.Kind.OPENED:
                totals[f"o{i}"] = row["n"]
            elif row["kind"] == Transition.Kind.RESOLVED:
                totals[f"r{i}"] = row["n"]
            totals["latencies"] += row["measured"]

    cap = settings.KLR_DASHBOARD_LATENCY_SAMPLE
    measured = rows.filter(latency_ms__isnull=False)
    every = math.ceil(totals["latencies"] / cap) if totals["latencies"] > cap else 1
    if every > 1:
        measured = measured.annotate(slot=F("id") % every).filter(slot=0)
    latencies: list[list[float]] = [[] for _ in range(buckets)]
    for created_at, latency_ms in measured.values_list("created_at", "latency_ms").order_by():
        latencies[min(int((created_at - start) / step), buckets - 1)].append(latency_ms)
    return [
        Bucket(
            start=edges[i],
            opened=totals[f"o{i}"],
            resolved=totals[f"r{i}"],
            p50_ms=percentile(latencies[i], 50),
            p99_ms=percentile(latencies[i], 99),
        )
        for i in range(buckets)
    ]


LATENCY_BUCKETS_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def latency_histogram(
    window: timedelta = timedelta(hours=1), bounds: tuple[float, ...] = LATENCY_BUCKETS_SECONDS
) -> tuple[list[tuple[float, int]], int, float]:
    """Cumulative (upper bound s, count) pairs, total count and sum (s) of recent transition latencies.

    One aggregate query: the database counts, the web process only formats.
    """
    since = timezone.now() - window
    rows = Transition.objects.filter(created_at__gte=since, latency_ms__isnull=False)
    aggregates = {f"le{i}": Count("id", filter=Q(latency_ms__lte=b * 1000)) for i, b in enumerate(bounds)}
    result = rows.aggregate(total=Count("id"), sum_ms=Sum("latency_ms"), **aggregates)
    cumulative = [(b, result[f"le{i}"]) for i, b in enumerate(bounds)]
    return cumulative, result["total"], (result["sum_ms"] or 0.0) / 1000


# --- alerts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    name: str
    message: str


@dataclass
class Snapshot:
    """One reading of everything the surfaces show, taken once per request."""

    database: bool
    broker: bool
    workers: list[Worker]
    seconds_without_worker: float
    queue_depth: int | None
    pending: int | None
    cache_size: int | None
    open_questions: int | None
    errors_last_minute: int | None
    dead_letters: int | None
    unpublished: int | None
    alerts: list[Alert] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.database and self.broker and bool(self.workers)


def snapshot() -> Snapshot:
    database = database_ok()

    def db(fn):
        return fn() if database else None

    found = workers()
    snap = Snapshot(
        database=database,
        broker=broker_ok(),
        workers=found,
        seconds_without_worker=seconds_without_worker(),
        queue_depth=queue_depth(),
        pending=db(pending_count),
        cache_size=db(cache_size),
        open_questions=db(open_questions),
        errors_last_minute=db(errors_last_minute),
        dead_letters=db(dead_letter_count),
        unpublished=db(unpublished_transitions),
    )
    snap.alerts = alerts(snap)
    return snap


def alerts(snap: Snapshot) -> list[Alert]:
    """The seed's thresholds, crossed."""
    found = []
    memory = threshold("KLR_ALERT_WORKER_MEMORY_MB")
    for worker in snap.workers:
        if worker.memory_mb is not None and worker.memory_mb > memory:
            found.append(
                Alert(
                    "worker_memory",
                    f"worker {worker.name} uses {worker.memory_mb:.0f} MB (over {memory:.0f} MB)",
                )
            )
    depth = threshold("KLR_ALERT_QUEUE_DEPTH")
    if snap.queue_depth is not None and snap.queue_depth > depth:
        found.append(Alert("queue_depth", f"{snap.queue_depth} tasks queued (over {depth:.0f})"))
    heartbeat = threshold("KLR_ALERT_HEARTBEAT_SECONDS")
    if snap.seconds_without_worker >= heartbeat:
        found.append(Alert("no_worker", f"no worker has answered for {snap.seconds_without_worker:.0f} s"))
    errors = threshold("KLR_ALERT_ERRORS_PER_MINUTE")
    if snap.errors_last_minute is not None and snap.errors_last_minute > errors:
        found.append(
            Alert(
                "error_rate",
                f"{snap.errors_last_minute} failed analyses in the last minute (over {errors:.0f})",
            )
        )
    if not snap.database:
        found.append(Alert("database", "the database is unreachable"))
    if not snap.broker:
        found.append(Alert("broker", "the broker is unreachable"))
    return found
