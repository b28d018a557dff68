"""The work pages in Chromium: the question list's defaults, a question with its source beside it,
a file with its questions inline, the channels with their producers and consumers, the map, and
the dashboard updating in place after a file is saved (real watcher and worker)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kloros_site.analysis.models import Question
from tests.kloros_site.analysis.wired_tree import ingest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MORE = {
    # a real ChemBus publisher (a bare `bus.emit` of unknown origin is no channel), lines kept
    "app/jobs.py": '"""Jobs."""\nfrom bus import ChemPub\nbus = ChemPub()\ndef run():\n    bus.emit("jobs.done")\n    bus.emit("jobs.failed")\n',
    "app/audit.py": '"""Audit."""\nfrom bus import ChemSub\nfrom app import missing_module\n\n\ndef watch():\n    ChemSub("jobs.*")\n',
}


@pytest.fixture
def wired(tmp_path):
    ingest(tmp_path)
    return ingest(tmp_path, MORE)


def test_question_list_defaults_source_beside_a_question_and_actions(
    operator, live_server, wired, screenshot_dir
):
    page = operator
    page.goto(f"{live_server.url}/admin/analysis/question/")
    rows = page.locator("#result_list tbody tr")
    # open and not suppressed by default: the ORPHANED_QUEUE that resolved while ingesting is not listed
    resolved = Question.objects.filter(status="resolved").count()
    assert resolved >= 1
    expect(rows).to_have_count(Question.objects.active().count())
    expect(page.locator("#changelist-filter li.selected", has_text="open (")).to_have_count(1)
    expect(page.locator("#changelist-filter li.selected", has_text="not suppressed (")).to_have_count(1)
    # most severe first: the missing import (high) tops the list
    expect(rows.first.locator(".klr-badge")).to_have_text("high")
    severities = rows.locator(".klr-badge").all_inner_texts()
    rank = {"high": 3, "medium": 2, "low": 1}
    assert [rank[s.lower()] for s in severities] == sorted(
        (rank[s.lower()] for s in severities), reverse=True
    )
    # the state column is visible at 1,400 px: the table does not scroll sideways
    assert page.evaluate(
        "document.querySelector('#changelist .results').scrollWidth <= document.querySelector('#changelist .results').clientWidth + 1"
    )
    page.screenshot(path=str(screenshot_dir / "questions.png"), full_page=True)

    page.get_by_role("link", name=re.compile("curiosity.orphan_topic")).click()
    expect(page.locator("#question h1")).to_contain_text("curiosity.orphan_topic")
    source = page.locator("#source .klr-code")
    expect(source).to_contain_text('bus.emit("curiosity.orphan_topic")')
    expect(source.locator("tr.mark")).to_contain_text("8")
    expect(source).to_contain_text("def announce():")  # lines around it
    expect(page.locator("#why")).to_contain_text("Producers found")
    expect(page.locator("#why")).to_contain_text("none: no file subscribes to this topic")
    expect(page.locator("#guide")).to_contain_text("subscribe to it")
    expect(page.locator("#timeline li[data-event=opened]")).to_have_count(1)

    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("ul.messagelist")).to_contain_text("Acknowledged.")
    expect(page.locator("#question-state")).to_have_text("acknowledged")
    expect(page.locator("#timeline li[data-event=acknowledged]")).to_contain_text("by operator")
    page.screenshot(path=str(screenshot_dir / "question.png"), full_page=True)

    page.fill("input[name=reason]", "consumed by the cloud service")
    page.get_by_role("button", name="Suppress").click()
    expect(page.locator("#question-state")).to_have_text("suppressed")
    expect(page.locator("#timeline")).to_contain_text("consumed by the cloud service")


def test_file_page_shows_open_questions_inline_and_the_files_list_counts_them(
    operator, live_server, wired, screenshot_dir
):
    page = operator
    page.goto(f"{live_server.url}/admin/analysis/sourcefile/")
    row = page.locator("#result_list tbody tr", has_text="app/producer.py")
    expect(row.locator("td.field-questions")).to_have_text(
        "3"
    )  # orphaned topic, dead announce(), undiscovered module
    expect(row.locator("td.field-duration")).to_contain_text(" ms")
    page.screenshot(path=str(screenshot_dir / "files.png"), full_page=True)

    row.locator("th a").click()
    expect(page.locator("#open-count")).to_contain_text("3 open questions")
    line = page.locator("#L8")
    expect(line).to_have_class("mark")
    note = page.locator("#source tr.note", has_text="curiosity.orphan_topic")
    expect(note).to_be_visible()
    # the note sits right under its line
    assert page.evaluate("document.getElementById('L8').nextElementSibling.classList.contains('note')")
    page.screenshot(path=str(screenshot_dir / "file.png"), full_page=True)


def test_channels_list_channel_page_and_map(operator, live_server, wired, screenshot_dir):
    page = operator
    page.goto(f"{live_server.url}/channels/")
    table = page.locator("#channel-table")
    wired_row = table.locator("tr[data-channel='curiosity.wired_topic']")
    expect(wired_row).to_contain_text("app/producer.py:9")
    expect(wired_row).to_contain_text("app/consumer.py:7")
    expect(table.locator("tr[data-channel='jobs.failed']")).to_contain_text("via jobs.*")
    expect(table.locator("tr[data-channel='curiosity.orphan_topic']")).to_contain_text("no consumer")
    expect(table.locator("tr[data-channel='ghost.*']")).to_contain_text("matches nothing")
    page.screenshot(path=str(screenshot_dir / "channels.png"), full_page=True)

    page.fill("input[name=q]", "jobs")
    page.get_by_role("button", name="Search").click()
    expect(table.locator("tbody tr")).to_have_count(3)  # jobs.done, jobs.failed, jobs.*

    table.get_by_role("link", name="jobs.done").click()
    expect(page.locator("#producers")).to_contain_text("app/jobs.py:5")
    expect(page.locator("#consumers")).to_contain_text("app/audit.py:7")
    expect(page.locator("#consumers")).to_contain_text("via wildcard jobs.*")
    page.screenshot(path=str(screenshot_dir / "channel.png"), full_page=True)

    page.goto(f"{live_server.url}/map/")
    svg = page.locator("#map-svg svg")
    expect(svg).to_be_visible()
    titles = svg.locator("g.node title").evaluate_all("els => els.map(e => e.textContent)")
    assert {"c:curiosity.orphan_topic", "c:jobs.*", "p:app.producer", "s:app.consumer"} <= set(titles)
    box = svg.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
    page.screenshot(path=str(screenshot_dir / "map.png"), full_page=True)
    # a channel node links to its page
    svg.locator("a", has=page.locator("text=jobs.done")).first.click()
    expect(page).to_have_url(re.compile(r"/channels/\d+/jobs\.done/$"))


def test_dashboard_updates_in_place_after_a_file_is_saved(
    operator, live_server, worker, start_watcher, tmp_path, settings, screenshot_dir
):
    settings.KLR_DASHBOARD_REFRESH_SECONDS = 1
    page = operator
    root = tmp_path / "live"
    root.mkdir()
    start_watcher(root)
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("#open-questions")).to_have_text("0")
    page.evaluate("window.__notReloaded = true")

    (root / "saved.py").write_text('from bus import ChemPub\nChemPub().emit("curiosity.saved_in_place")\n')

    expect(page.locator("#recent")).to_contain_text("curiosity.saved_in_place", timeout=60_000)
    expect(page.locator("#open-questions")).to_have_text("1")
    expect(page.locator("#files")).to_contain_text("saved.py")
    assert page.evaluate("window.__notReloaded === true")  # updated in place, not reloaded
    expect(page.locator("#progress")).to_contain_text("Up to date")
    page.screenshot(path=str(screenshot_dir / "dashboard.png"), full_page=True)
