"""Time series from the outbox: questions opened and resolved, and event-to-question latency."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from kloros_site.analysis.models import Transition
from kloros_site.dashboard.percentile import percentile


@dataclass(frozen=True)
class Bucket:
    start: datetime
    opened: int
    resolved: int
    p50_ms: float | None
    p99_ms: float | None


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
    opened, resolved, measured_total = [0] * buckets, [0] * buckets, 0
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
        for row in by_kind:
            if row["kind"] == Transition.Kind.OPENED:
                opened[i] = row["n"]
            elif row["kind"] == Transition.Kind.RESOLVED:
                resolved[i] = row["n"]
            measured_total += row["measured"]

    latencies = _sampled_latencies(rows, measured_total, start, step, buckets)
    return [
        Bucket(
            start=edges[i],
            opened=opened[i],
            resolved=resolved[i],
            p50_ms=percentile(latencies[i], 50),
            p99_ms=percentile(latencies[i], 99),
        )
        for i in range(buckets)
    ]


def _sampled_latencies(rows, total: int, start: datetime, step: timedelta, buckets: int) -> list[list[float]]:
    cap = settings.KLR_DASHBOARD_LATENCY_SAMPLE
    measured = rows.filter(latency_ms__isnull=False)
    every = math.ceil(total / cap) if total > cap else 1
    if every > 1:
        measured = measured.annotate(slot=F("id") % every).filter(slot=0)
    latencies: list[list[float]] = [[] for _ in range(buckets)]
    for created_at, latency_ms in measured.values_list("created_at", "latency_ms").order_by():
        latencies[min(int((created_at - start) / step), buckets - 1)].append(latency_ms)
    return latencies


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
