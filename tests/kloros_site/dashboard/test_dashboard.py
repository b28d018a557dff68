"""/dashboard/: staff only, server-rendered counts, charts as inline SVG, alerts over thresholds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.kloros_site.dashboard.operator_rows import question, source_file, transition, tree

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_the_admin_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/dashboard/")


def test_non_staff_users_are_sent_to_the_admin_login(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("viewer", password="x"))
    assert client.get("/dashboard/").status_code == 302


def test_root_redirects_to_the_dashboard(client):
    assert client.get("/")["Location"] == "/dashboard/"


def test_dashboard_shows_counts_breakdowns_and_charts(admin_client):
    root = tree()
    opened = question(root, monitor="integration", hypothesis="ORPHANED_QUEUE", severity="medium")
    question(root, monitor="knowledge", hypothesis="STALE_DOC", severity="low")
    question(root, monitor="knowledge", hypothesis="STALE_DOC", status="resolved")
    transition(opened, "opened", ago=timedelta(minutes=20), latency_ms=120)
    transition(opened, "resolved", ago=timedelta(minutes=3), latency_ms=80)
    source_file(root)

    response = admin_client.get("/dashboard/")

    assert response.status_code == 200
    html = response.content.decode()
    # updated in place every 5 s by polling /dashboard/live, never by reloading the page
    assert 'data-refresh="5"' in html and 'http-equiv="refresh"' not in html
    assert 'id="open-questions">2<' in html
    assert 'id="cache-size">1<' in html
    assert 'id="pending">0<' in html
    by_monitor = response.context["breakdowns"][0]
    assert by_monitor[0] == "monitor"
    assert [(value, n) for value, n, _ in by_monitor[1]] == [("integration", 1), ("knowledge", 1)]
    assert html.count('<svg class="chart"') == 2
    # one opened bar and one resolved bar, two latency points
    assert html.count('class="bar"') == 2
    assert html.count('class="point"') == 4  # p50 and p99 for each of the two buckets


def test_alerts_appear_when_a_threshold_is_crossed(admin_client, settings):
    root = tree()
    for _ in range(3):
        source_file(root, status="failed", analyzed_at=timezone.now())
    settings.KLR_ALERT_ERRORS_PER_MINUTE = 2

    html = admin_client.get("/dashboard/").content.decode()

    assert 'data-alert="error_rate"' in html
    assert "3 failed analyses in the last minute" in html


def test_refresh_can_be_turned_off_and_windows_chosen(admin_client):
    response = admin_client.get("/dashboard/?refresh=0&window=24h")
    html = response.content.decode()
    assert 'data-refresh="0"' in html
    assert response.context["window_name"] == "24h"
    assert response.context["bucket_minutes"] == 48
