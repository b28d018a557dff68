"""/health: no login, JSON, 200 only when database, broker and a worker answer; no secrets."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings

from kloros_site.celery import app
from tests.kloros_site.dashboard.operator_rows import question, source_file

pytestmark = pytest.mark.django_db


def assert_no_secrets(body: str) -> None:
    db = django_settings.DATABASES["default"]
    for secret in (
        django_settings.SECRET_KEY,
        django_settings.CELERY_BROKER_URL,
        str(django_settings.STATE_DIR),
    ):
        assert secret not in body
    if db.get("PASSWORD"):
        assert db["PASSWORD"] not in body
    assert "Traceback" not in body and "/" not in body.replace("\\/", "")


def test_healthy_with_a_live_worker(client, live_workers):
    source_file()
    question()
    question(status="resolved")

    response = client.get("/health")

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] in ("ok", "degraded")
    assert body["checks"] == {
        "database": {"ok": True},
        "broker": {"ok": True},
        "workers": {"ok": True, "online": body["checks"]["workers"]["online"]},
    }
    assert body["checks"]["workers"]["online"] >= 1
    assert body["cache_size"] == 1
    assert body["issues_detected"] == 1
    assert isinstance(body["queue_size"], int)
    assert body["uptime"] >= 0 and body["worker_uptime"] >= 0
    assert response["Cache-Control"].startswith("max-age=0")
    assert_no_secrets(response.content.decode())


def test_unhealthy_when_the_broker_is_unreachable(client, monkeypatch, settings):
    monkeypatch.setitem(app.conf, "broker_read_url", "redis://:hunter2@127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    settings.KLR_BROKER_CHECK_TIMEOUT = 1.0

    response = client.get("/health")

    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "unhealthy"
    assert body["checks"]["broker"] == {"ok": False}
    assert body["checks"]["workers"] == {"ok": False, "online": 0}
    assert body["queue_size"] is None
    assert {a["name"] for a in body["alerts"]} >= {"broker"}
    assert "hunter2" not in response.content.decode() and "127.0.0.1" not in response.content.decode()
    assert_no_secrets(response.content.decode())


def test_only_get_is_allowed(client):
    assert client.post("/health").status_code == 405
