"""/metrics: Prometheus text computed from the database at scrape time; optional bearer token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kloros_site.analysis.models import DeadLetter, PendingFile
from tests.kloros_site.dashboard.operator_rows import question, source_file, transition, tree

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_reflect_the_database(client):
    root = tree()
    source_file(root, status="analyzed")
    source_file(root, status="failed")
    source_file(root, status="deleted")
    PendingFile.objects.create(tree=root, path="a.py", seq=1)
    PendingFile.objects.create(tree=root, path="b.py", seq=1)
    DeadLetter.objects.create(tree=root, path="c.py", message={}, error="boom")
    q = question(root, monitor="integration", hypothesis="ORPHANED_QUEUE", severity="medium")
    question(root, monitor="integration", status="resolved")
    transition(q, "opened", latency_ms=30, ago=timedelta(minutes=2))
    transition(q, "opened", latency_ms=700, ago=timedelta(minutes=2), published=False)
    transition(q, "resolved", latency_ms=20_000, ago=timedelta(minutes=2))

    m = scrape(client)

    assert m[("kloros_up", (("component", "database"),))] == 1
    assert m[("kloros_up", (("component", "broker"),))] == 1
    assert m[("kloros_pending_files", ())] == 2
    assert m[("kloros_cache_files", ())] == 2
    assert m[("kloros_files", (("status", "failed"),))] == 1
    assert m[("kloros_questions", (("monitor", "integration"), ("status", "open")))] == 1
    assert m[("kloros_questions", (("monitor", "integration"), ("status", "resolved")))] == 1
    assert m[("kloros_open_questions", (("hypothesis", "ORPHANED_QUEUE"), ("severity", "medium")))] == 1
    assert m[("kloros_transitions_total", (("kind", "opened"),))] == 2
    assert m[("kloros_transitions_total", (("kind", "resolved"),))] == 1
    assert m[("kloros_transitions_unpublished", ())] == 1
    assert m[("kloros_dead_letters_total", ())] == 1
    assert m[("kloros_queue_depth", ())] >= 0
    assert m[("kloros_workers_online", ())] >= 0
    hist = "kloros_event_to_question_latency_seconds"
    assert m[(f"{hist}_bucket", (("le", "0.05"),))] == 1
    assert m[(f"{hist}_bucket", (("le", "1.0"),))] == 2
    assert m[(f"{hist}_bucket", (("le", "10.0"),))] == 2
    assert m[(f"{hist}_bucket", (("le", "+Inf"),))] == 3
    assert m[(f"{hist}_count", ())] == 3
    assert m[(f"{hist}_sum", ())] == pytest.approx(20.73)


def test_worker_memory_is_exported_per_worker(client, live_workers):
    m = scrape(client)
    memory = {labels: value for (name, labels), value in m.items() if name == "kloros_worker_memory_bytes"}
    assert memory, "no worker memory gauge while a worker runs"
    assert all(value > 1024 * 1024 for value in memory.values())
    # the worker's main process and each of its pool processes (the session worker runs two)
    by_worker: dict[str, int] = {}
    for labels in memory:
        worker_name = dict(labels)["worker"]
        by_worker[worker_name] = by_worker.get(worker_name, 0) + 1
    assert max(by_worker.values()) >= 3
    assert m[("kloros_workers_online", ())] >= 1


def test_a_token_protects_the_metrics_when_set(client, settings):
    settings.KLR_METRICS_TOKEN = "s3cret-token"

    denied = client.get("/metrics")
    assert denied.status_code == 401
    assert denied["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-token").status_code == 401
    assert (
        scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-token")[("kloros_up", (("component", "database"),))]
        == 1
    )


def test_metrics_are_open_without_a_token(client, settings):
    settings.KLR_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200


def test_openmetrics_is_served_to_scrapers_that_ask_for_it(client):
    response = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")
    assert response["Content-Type"].startswith("application/openmetrics-text")
    text = response.content.decode()
    assert "# TYPE kloros_transitions counter" in text
    assert text.rstrip().endswith("# EOF")
