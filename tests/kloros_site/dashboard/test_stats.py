"""The shared computations behind the dashboard, /health and /metrics, on the configured stack."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu import Exchange, Queue

from kloros_site.analysis.models import DeadLetter, PendingFile
from kloros_site.celery import app
from kloros_site.dashboard import stats
from tests.kloros_site.dashboard.operator_rows import question, source_file, transition, tree

pytestmark = pytest.mark.django_db


def test_percentile_is_nearest_rank():
    assert stats.percentile([], 50) is None
    assert stats.percentile([5.0], 99) == 5.0
    values = [float(v) for v in range(100, 0, -1)]  # unsorted on purpose
    assert stats.percentile(values, 50) == 50.0
    assert stats.percentile(values, 99) == 99.0
    assert stats.percentile([1.0, 1000.0], 50) == 1.0


def test_series_buckets_transitions_by_time_and_kind():
    now = timezone.now()
    q = question()
    transition(q, "opened", ago=timedelta(minutes=55), latency_ms=100)
    transition(q, "opened", ago=timedelta(minutes=54), latency_ms=300)
    transition(q, "resolved", ago=timedelta(minutes=1), latency_ms=50)
    transition(q, "opened", ago=timedelta(hours=2), latency_ms=9999)  # outside the window

    buckets = stats.series(timedelta(hours=1), buckets=12, now=now)

    assert len(buckets) == 12
    assert [b.opened for b in buckets] == [0, 2] + [0] * 10
    assert [b.resolved for b in buckets] == [0] * 11 + [1]
    assert buckets[1].p50_ms == 100 and buckets[1].p99_ms == 300
    assert buckets[11].p50_ms == 50
    assert buckets[5].p50_ms is None


def test_counts_come_from_the_database():
    root = tree()
    source_file(root, status="analyzed")
    source_file(root, status="failed", analyzed_at=timezone.now())
    source_file(root, status="failed", analyzed_at=timezone.now() - timedelta(minutes=5))
    source_file(root, status="deleted")
    PendingFile.objects.create(tree=root, path="a.py", seq=1)
    DeadLetter.objects.create(tree=root, path="b.py", message={}, error="boom")
    question(root, monitor="integration", hypothesis="ORPHANED_QUEUE")
    question(root, monitor="integration", hypothesis="ORPHANED_QUEUE")
    question(root, monitor="knowledge", hypothesis="STALE_DOC", severity="low")
    question(root, monitor="knowledge", hypothesis="STALE_DOC", status="resolved")

    assert stats.cache_size() == 3
    assert stats.files_by_status() == {"analyzed": 1, "failed": 2, "deleted": 1}
    assert stats.errors_last_minute() == 1
    assert stats.pending_count() == 1
    assert stats.dead_letter_count() == 1
    assert stats.open_questions() == 3
    assert stats.open_questions_by("monitor") == [("integration", 2), ("knowledge", 1)]
    assert stats.open_questions_by("severity") == [("medium", 2), ("low", 1)]
    assert stats.questions_by_monitor_and_status() == [
        ("integration", "open", 2),
        ("knowledge", "open", 1),
        ("knowledge", "resolved", 1),
    ]


def test_latency_histogram_is_cumulative_and_windowed():
    q = question()
    for ms in (40, 90, 400, 4000):
        transition(q, latency_ms=ms, ago=timedelta(minutes=10))
    transition(q, latency_ms=1, ago=timedelta(hours=3))
    transition(q, latency_ms=None, ago=timedelta(minutes=1))

    cumulative, count, total = stats.latency_histogram(timedelta(hours=1), bounds=(0.05, 0.1, 1.0, 5.0))

    assert cumulative == [(0.05, 1), (0.1, 2), (1.0, 3), (5.0, 4)]
    assert count == 4
    assert total == pytest.approx(4.53)


def test_queue_depth_counts_waiting_messages_on_the_real_broker():
    name = f"dashboard-test-{uuid.uuid4().hex[:8]}"
    assert stats.queue_depth(name) == 0  # never declared

    queue = Queue(name, Exchange(name), routing_key=name)
    with app.connection_for_write() as conn:
        producer = conn.Producer()
        for i in range(3):
            producer.publish({"n": i}, exchange=queue.exchange, routing_key=name, declare=[queue])
    try:
        assert stats.queue_depth(name) == 3
    finally:
        with app.connection_for_write() as conn:
            queue(conn.default_channel).delete()


def test_an_unreachable_broker_is_reported_not_raised(monkeypatch, settings):
    # nothing listens on port 1: the connection is refused at once
    monkeypatch.setitem(app.conf, "broker_read_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    settings.KLR_BROKER_CHECK_TIMEOUT = 1.0

    assert stats.broker_ok() is False
    assert stats.queue_depth() is None
    assert stats.workers() == []


def _snap(**overrides) -> stats.Snapshot:
    fields = {
        "database": True,
        "broker": True,
        "workers": [stats.Worker("w@h", memory_mb=50, uptime=10, processes=2)],
        "seconds_without_worker": 0.0,
        "queue_depth": 0,
        "pending": 0,
        "cache_size": 0,
        "open_questions": 0,
        "errors_last_minute": 0,
        "dead_letters": 0,
        "unpublished": 0,
    }
    return stats.Snapshot(**{**fields, **overrides})


def test_alerts_fire_only_over_the_thresholds():
    assert stats.alerts(_snap()) == []
    at_limits = _snap(
        workers=[stats.Worker("w@h", memory_mb=100, uptime=1, processes=1)],
        queue_depth=800,
        errors_last_minute=10,
        seconds_without_worker=59.9,
    )
    assert stats.alerts(at_limits) == []

    over = _snap(
        workers=[stats.Worker("fat@h", memory_mb=101, uptime=1, processes=1)],
        queue_depth=801,
        errors_last_minute=11,
        seconds_without_worker=60,
    )
    names = {a.name for a in stats.alerts(over)}
    assert names == {"worker_memory", "queue_depth", "error_rate", "no_worker"}
    assert any("fat@h" in a.message for a in stats.alerts(over))


def test_thresholds_come_from_settings(settings):
    settings.KLR_ALERT_QUEUE_DEPTH = 5
    assert [a.name for a in stats.alerts(_snap(queue_depth=6))] == ["queue_depth"]


def test_latency_percentiles_are_sampled_evenly_past_the_cap(settings):
    settings.KLR_DASHBOARD_LATENCY_SAMPLE = 10
    q = question()
    for i in range(40):
        transition(q, latency_ms=1000 + i, ago=timedelta(minutes=30))
    for _ in range(40):
        transition(q, "resolved", latency_ms=10, ago=timedelta(minutes=2))

    buckets = stats.series(timedelta(hours=1), buckets=2)

    assert [(b.opened, b.resolved) for b in buckets] == [(40, 0), (0, 40)]  # counts stay exact
    assert buckets[0].p50_ms is not None and buckets[0].p50_ms >= 1000
    assert buckets[1].p50_ms == 10  # both halves of the window are sampled
