"""What the operator surfaces report, under one name for the views (dashboard, /health, /metrics).

Everything is derived at read time from the database and the broker: the workers are other
processes (often other machines), so counters kept in the web process would mean nothing. Each
job has its module: probes (database, broker, workers), series (charts), health (snapshot and
alerts); the counts are manager methods of the models. This module only gathers their names.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from kloros_site.analysis.models import DeadLetter, PendingFile, Question, SourceFile, Transition
from kloros_site.dashboard.health import Alert, Snapshot, alerts, snapshot, uptime
from kloros_site.dashboard.percentile import percentile
from kloros_site.dashboard.probes import (
    MB,
    STARTED,
    Worker,
    broker_ok,
    database_ok,
    queue_depth,
    seconds_without_worker,
    use_worker_probe,
    workers,
)
from kloros_site.dashboard.series import LATENCY_BUCKETS_SECONDS, Bucket, latency_histogram, series

__all__ = [
    "LATENCY_BUCKETS_SECONDS",
    "MB",
    "STARTED",
    "Alert",
    "Bucket",
    "Snapshot",
    "Worker",
    "alerts",
    "broker_ok",
    "cache_size",
    "database_ok",
    "dead_letter_count",
    "errors_last_minute",
    "files_by_status",
    "latency_histogram",
    "open_questions",
    "open_questions_by",
    "open_questions_grouped",
    "pending_count",
    "percentile",
    "queue_depth",
    "questions_by_monitor_and_status",
    "seconds_without_worker",
    "series",
    "snapshot",
    "unpublished_transitions",
    "uptime",
    "use_worker_probe",
    "workers",
]


def pending_count() -> int:
    return PendingFile.objects.count()


def cache_size() -> int:
    return SourceFile.objects.cache_size()


def files_by_status() -> dict[str, int]:
    return SourceFile.objects.count_by_status()


def open_questions() -> int:
    return Question.objects.open().count()


def open_questions_by(field_name: str) -> list[tuple[str, int]]:
    """Open questions per value of `field_name` (monitor, hypothesis or severity), largest first."""
    return [(values[0], n) for values, n in Question.objects.open().count_by(field_name)]


def open_questions_grouped(*fields: str) -> list[tuple[tuple[str, ...], int]]:
    return Question.objects.open().count_by(*fields)


def questions_by_monitor_and_status() -> list[tuple[str, str, int]]:
    return Question.objects.count_by_monitor_and_status()


def errors_last_minute(now: datetime | None = None) -> int:
    """Files whose analysis failed in the last minute: the error rate per minute."""
    return SourceFile.objects.failed_since((now or timezone.now()) - timedelta(minutes=1))


def dead_letter_count() -> int:
    return DeadLetter.objects.count()


def unpublished_transitions() -> int:
    return Transition.objects.unpublished().count()
