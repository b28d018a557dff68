"""GET /api/transitions: the outbox after a cursor, in id order, for a consumer that starts late."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.kloros_site.dashboard.operator_rows import question, transition

pytestmark = pytest.mark.django_db
URL = "/api/transitions"


@pytest.fixture
def rows():
    q = question()
    return [
        transition(q, kind, ago=timedelta(minutes=1)) for kind in ("opened", "changed", "resolved", "opened")
    ]


def test_lists_transitions_after_the_cursor_in_id_order(admin_client, rows):
    body = admin_client.get(URL, {"after": rows[0].id, "limit": 2}).json()

    assert [t["id"] for t in body["transitions"]] == [rows[1].id, rows[2].id]
    assert body["next"] == rows[2].id
    first = body["transitions"][0]
    assert first["signal"] == "curiosity.integration_question"
    assert first["kind"] == "changed"
    assert first["envelope"] == rows[1].envelope
    assert first["published"] is True

    rest = admin_client.get(URL, {"after": body["next"]}).json()
    assert [t["id"] for t in rest["transitions"]] == [rows[3].id]
    empty = admin_client.get(URL, {"after": rest["next"]}).json()
    assert empty == {"transitions": [], "next": rest["next"]}


def test_defaults_to_the_start_and_100_rows(admin_client, rows):
    body = admin_client.get(URL).json()
    assert [t["id"] for t in body["transitions"]] == [r.id for r in rows]


def test_rows_younger_than_the_settle_time_wait(admin_client, settings):
    q = question()
    old = transition(q, ago=timedelta(seconds=30))
    transition(q, ago=timedelta(seconds=0))
    settings.KLR_TRANSITIONS_SETTLE_SECONDS = 10

    body = admin_client.get(URL).json()

    assert [t["id"] for t in body["transitions"]] == [old.id]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"after": "abc"}, "after must be a non-negative integer"),
        ({"after": "-1"}, "after must be a non-negative integer"),
        ({"limit": "0"}, "limit must be between 1 and 1000"),
        ({"limit": "1001"}, "limit must be between 1 and 1000"),
        ({"limit": "1.5"}, "limit must be a non-negative integer"),
    ],
)
def test_bad_parameters_are_a_400_with_a_json_error(admin_client, query, message):
    response = admin_client.get(URL, query)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_anonymous_callers_need_a_token(client, settings, rows):
    settings.KLR_API_TOKEN = "api-token"

    response = client.get(URL)
    assert response.status_code == 401
    assert "error" in response.json()
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    ok = client.get(URL, HTTP_AUTHORIZATION="Bearer api-token")
    assert ok.status_code == 200 and len(ok.json()["transitions"]) == 4


def test_no_token_configured_means_login_only(client, settings, rows):
    settings.KLR_API_TOKEN = ""
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer ").status_code == 401
