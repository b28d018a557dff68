"""/dashboard/live: the figures and panels the dashboard updates itself with, in place."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kloros_site.analysis.models import PendingFile
from kloros_site.dashboard import live, stats
from tests.kloros_site.dashboard.operator_rows import question, source_file, tree

pytestmark = pytest.mark.django_db


def test_live_returns_the_panels_and_figures(admin_client):
    root = tree()
    question(root, evidence=["pkg/a.py:3", "pkg/a.py:9"])
    question(root, evidence=["pkg/a.py:1", "pkg/b.py:2"])
    question(root, evidence=["pkg/b.py:1"], suppressed=True)
    question(root, evidence=["pkg/c.py:1"], acknowledged_at=timezone.now(), acknowledged_by="ops")
    source_file(root, path="broken.py", status="failed", reason="syntax_error", analyzed_at=timezone.now())

    body = admin_client.get("/dashboard/live").json()

    figures = body["figures"]
    assert (figures["open_questions"], figures["acknowledged"], figures["suppressed"]) == (2, 1, 1)
    assert figures["complete"] is True
    assert set(body["panels"]) == set(live.PANELS)
    assert 'id="open-questions">2<' in body["panels"]["tiles"]
    files = body["panels"]["files"]
    # pkg/a.py is cited by two active questions; the suppressed one does not count for pkg/b.py
    assert files.index("pkg/a.py") < files.index("pkg/b.py") < files.index("pkg/c.py")
    assert "broken.py" in files and "syntax_error" in files
    assert "question" in body["panels"]["recent"]


def test_live_needs_a_staff_login(client):
    assert client.get("/dashboard/live").status_code == 302


def test_worst_files_count_each_question_once_per_file():
    root = tree()
    question(root, evidence=["x.py:1", "x.py:2", "x.py:3"])
    question(root, evidence=["y.py:10", "x.py:4"])
    question(root, evidence=["z.py:1"], status="resolved")
    found = {row["path"]: row["questions"] for row in live._worst_files(10)}
    assert found == {"x.py": 2, "y.py": 1}


def test_progress_while_work_is_pending_with_an_estimate():
    root = tree()
    assert live.progress(0) is None
    PendingFile.objects.create(tree=root, path="waiting.py", seq=1)
    for _ in range(6):
        source_file(root, analyzed_at=timezone.now())
    found = live.progress(30)
    assert found.pending == 30 and found.done == 6
    assert found.rate == pytest.approx(6 / live.RATE_WINDOW)
    assert found.eta_seconds == pytest.approx(30 / found.rate)
    assert 0 < found.percent < 100


def test_progress_panel_says_results_are_incomplete(admin_client):
    PendingFile.objects.create(tree=tree(), path="waiting.py", seq=1)
    body = admin_client.get("/dashboard/live").json()
    assert body["figures"]["complete"] is False
    assert "results are incomplete" in body["panels"]["progress"]


def test_a_worker_that_misses_one_broadcast_reads_busy_not_offline(settings):
    settings.KLR_WORKER_BUSY_GRACE_SECONDS = 60
    live._seen.clear()
    worker = stats.Worker(name="w1@host", memory_mb=80.0, uptime=10.0, processes=2)
    assert [(r.name, r.state) for r in live.worker_rows([worker], now=1000.0)] == [("w1@host", "online")]
    assert [(r.name, r.state) for r in live.worker_rows([], now=1030.0)] == [("w1@host", "busy")]
    assert live.worker_rows([], now=1061.0) == []  # past the grace period: gone
    live._seen.clear()


def test_latency_axis_reads_seconds_past_a_thousand_ms():
    from kloros_site.dashboard import charts

    svg = charts.line_chart("l", ["a", "b"], [charts.Series("p99", [900.0, 1800.0], "#000")], unit=" ms")
    assert ">2 s</text>" in svg and ">1 s</text>" in svg and "000 ms" not in svg


def test_every_page_has_a_favicon(client, admin_client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)
    for url in ("/dashboard/", "/admin/analysis/question/", "/channels/"):
        assert 'rel="icon"' in admin_client.get(url).content.decode(), url
