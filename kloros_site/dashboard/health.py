"""Health and alerts: one reading of everything the surfaces show, and the seed's thresholds crossed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.utils import timezone

from kloros_site.analysis.models import DeadLetter, PendingFile, Question, SourceFile, Transition
from kloros_site.dashboard import probes
from kloros_site.dashboard.probes import Worker

T = TypeVar("T")


def uptime() -> float:
    """Seconds since this web process started."""
    return time.time() - probes.STARTED


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
    database = probes.database_ok()

    def db(count: Callable[[], T]) -> T | None:
        return count() if database else None

    found = probes.workers()
    snap = Snapshot(
        database=database,
        broker=probes.broker_ok(),
        workers=found,
        seconds_without_worker=probes.seconds_without_worker(),
        queue_depth=probes.queue_depth(),
        pending=db(PendingFile.objects.count),
        cache_size=db(SourceFile.objects.cache_size),
        open_questions=db(Question.objects.open().count),
        errors_last_minute=db(lambda: SourceFile.objects.failed_since(timezone.now() - timedelta(minutes=1))),
        dead_letters=db(DeadLetter.objects.count),
        unpublished=db(Transition.objects.unpublished().count),
    )
    snap.alerts = alerts(snap)
    return snap


def alerts(snap: Snapshot) -> list[Alert]:
    """The seed's thresholds (KLR_ALERT_*, defaults in settings.py), crossed."""
    found = []
    memory = settings.KLR_ALERT_WORKER_MEMORY_MB
    for worker in snap.workers:
        if worker.memory_mb is not None and worker.memory_mb > memory:
            found.append(
                Alert(
                    "worker_memory",
                    f"worker {worker.name} uses {worker.memory_mb:.0f} MB (over {memory:.0f} MB)",
                )
            )
    depth = settings.KLR_ALERT_QUEUE_DEPTH
    if snap.queue_depth is not None and snap.queue_depth > depth:
        found.append(Alert("queue_depth", f"{snap.queue_depth} tasks queued (over {depth:.0f})"))
    if snap.seconds_without_worker >= settings.KLR_ALERT_HEARTBEAT_SECONDS:
        found.append(Alert("no_worker", f"no worker has answered for {snap.seconds_without_worker:.0f} s"))
    errors = settings.KLR_ALERT_ERRORS_PER_MINUTE
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
