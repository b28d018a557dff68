"""The question, file and channel pages: what they show, their actions, and SQL queries that do
not grow with the number of questions in the database."""

from __future__ import annotations

import shutil

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kloros_site.analysis.models import Question, SourceFile
from tests.kloros_site.analysis.wired_tree import ingest
from tests.kloros_site.dashboard.operator_rows import (
    plain_static_storage,  # noqa: F401  (a fixture, used by name)
    question,
    worker_probe,  # noqa: F401  (a fixture, used by name)
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def wired(tmp_path):
    return ingest(tmp_path)


def orphan(tree) -> Question:
    return Question.objects.open().get(tree=tree, hypothesis="ORPHANED_QUEUE")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_worker_stored_the_source_it_analyzed(wired):
    from kloros_site.analysis import source

    stored = SourceFile.objects.defer(None).get(tree=wired, path="app/producer.py")
    assert source.unpack(stored.source).startswith('"""Announces what happened."""')
    assert len(stored.source) < stored.size  # compressed


def test_question_page_shows_source_why_guide_and_timeline(admin_client, wired):
    q = orphan(wired)
    html = page(admin_client, reverse("admin:analysis_question_change", args=[q.pk]))

    assert "curiosity.orphan_topic" in html
    # the evidence line, highlighted, with the lines around it
    assert '<tr class="mark"><td class="n"><a href="' in html
    assert 'bus</span><span class="o">.</span><span class="n">emit</span>' in html
    assert "def</span>" in html and "announce" in html  # context above the evidence line
    assert "Producers found" in html and "app/producer.py:8" in html
    assert "none: no file subscribes to this topic" in html
    assert "If something should react to this channel" in html  # the guide
    assert 'data-event="opened"' in html
    assert 'value="acknowledge"' in html and 'value="suppress"' in html


def test_question_page_buttons_act_and_the_timeline_says_who(admin_client, admin_user, wired):
    q = orphan(wired)
    url = reverse("admin:analysis_question_change", args=[q.pk])

    assert admin_client.post(url, {"action": "acknowledge"}).status_code == 302
    assert (
        admin_client.post(url, {"action": "suppress", "reason": "consumed by the cloud service"}).status_code
        == 302
    )
    q.refresh_from_db()
    assert q.acknowledged_by == admin_user.username and q.suppressed
    assert q.suppressed_reason == "consumed by the cloud service"

    html = page(admin_client, url)
    assert 'data-event="acknowledged"' in html and f"acknowledged</strong> by {admin_user.username}" in html
    assert "suppressed</strong> by" in html and "consumed by the cloud service" in html
    history = page(admin_client, reverse("admin:analysis_question_history", args=[q.pk]))
    assert "Acknowledged" in history and "Suppressed: consumed by the cloud service" in history

    # no reason, no suppression
    admin_client.post(url, {"action": "unsuppress"})
    admin_client.post(url, {"action": "suppress", "reason": " "})
    q.refresh_from_db()
    assert not q.suppressed


def test_file_page_shows_every_open_question_inline_at_its_line(admin_client, wired):
    file = SourceFile.objects.get(tree=wired, path="app/producer.py")
    q = orphan(wired)
    html = page(admin_client, reverse("admin:analysis_sourcefile_change", args=[file.pk]))

    line8 = html.index('<tr id="L8" class="mark">')
    note = html.index(f'data-question="{q.pk}"')
    assert line8 < note < html.index('<tr id="L9"')  # right under line 8
    assert '<tr id="L1" class="">' in html and '<tr id="L9" class="">' in html
    assert "2</a> open questions" in html  # this one and DEAD_CODE about announce()


def test_file_without_stored_source_says_so(admin_client, wired):
    file = SourceFile.objects.get(tree=wired, path="app/consumer.py")
    SourceFile.objects.filter(pk=file.pk).update(source=None)
    html = page(admin_client, reverse("admin:analysis_sourcefile_change", args=[file.pk]))
    assert "No source is stored for this file yet" in html


def test_channel_list_and_page_show_producers_and_consumers(admin_client, wired):
    html = page(admin_client, reverse("channels"))
    assert 'data-channel="curiosity.wired_topic"' in html and 'data-channel="ghost.*"' in html
    assert html.count("no consumer") >= 1 and "matches nothing" in html

    wired_page = page(admin_client, reverse("channel", args=[wired.pk, "curiosity.wired_topic"]))
    assert "app/producer.py:9" in wired_page and "app/consumer.py:7" in wired_page
    assert 'id="channel-state">wired<' in wired_page

    orphan_page = page(admin_client, reverse("channel", args=[wired.pk, "curiosity.orphan_topic"]))
    assert 'id="channel-state">no consumer<' in orphan_page
    assert "has producers but no consumer" in orphan_page  # its question

    searched = page(admin_client, reverse("channels") + "?q=ghost")
    assert 'data-channel="ghost.*"' in searched and 'data-channel="curiosity.wired_topic"' not in searched


def test_wildcard_subscriptions_count_as_consumers_of_what_they_match(admin_client, tmp_path):
    tree = ingest(tmp_path, {"a.py": 'ChemPub().emit("jobs.done")\n', "b.py": 'ChemSub("jobs.*")\n'})
    html = page(admin_client, reverse("channel", args=[tree.pk, "jobs.done"]))
    assert 'id="channel-state">wired<' in html and "via wildcard" in html and "b.py:1" in html
    pattern = page(admin_client, reverse("channel", args=[tree.pk, "jobs.*"]))
    assert "jobs.done" in pattern and "Topics it matches (1)" in pattern


def test_map_is_drawn_by_graphviz_with_orphans_marked(admin_client, wired):
    assert shutil.which("dot"), "Graphviz's dot is missing: run scripts/browser.sh (test.sh does)"
    html = page(admin_client, reverse("channel-map") + f"?tree={wired.pk}")
    drawn = html[html.index('id="map-svg"') :]
    svg = drawn[drawn.index("<svg") : drawn.index("</svg>")]
    assert "curiosity.orphan_topic" in svg and "(no consumer)" in svg
    assert "app.producer" in svg and "app.consumer" in svg
    assert "#fde2e2" in svg  # the orphan's fill
    raw = admin_client.get(reverse("channel-map-svg") + f"?tree={wired.pk}")
    assert raw["Content-Type"] == "image/svg+xml" and b"<svg" in raw.content


def add_questions(tree, count: int, path: str) -> None:
    Question.objects.bulk_create(
        [
            Question(
                tree=tree,
                qid=f"filler{path}{i}",
                key=f"integration:name:filler{i}",
                monitor="integration",
                hypothesis="DEAD_CODE",
                question=f"Function 'filler{i}' is defined but referenced nowhere",
                evidence=[f"{path}:{i % 9 + 1}"],
                severity="low",
            )
            for i in range(count)
        ]
    )


def queries(client, url: str) -> int:
    cache.clear()  # cached figures would hide queries: measure cold every time
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "which", ["question", "file", "channel", "channels", "questions", "files", "dashboard"]
)
def test_page_queries_do_not_grow_with_the_number_of_questions(
    admin_client, wired, which, django_assert_max_num_queries
):
    q = orphan(wired)
    file = SourceFile.objects.get(tree=wired, path="app/producer.py")
    url = {
        "question": reverse("admin:analysis_question_change", args=[q.pk]),
        "file": reverse("admin:analysis_sourcefile_change", args=[file.pk]),
        "channel": reverse("channel", args=[wired.pk, "curiosity.orphan_topic"]),
        "channels": reverse("channels"),
        "questions": reverse("admin:analysis_question_changelist"),
        "files": reverse("admin:analysis_sourcefile_changelist"),
        "dashboard": reverse("dashboard-live"),
    }[which]
    queries(admin_client, url)  # warm the caches (content types, sessions)
    few = queries(admin_client, url)

    add_questions(wired, 300, "app/producer.py")  # questions citing the same file
    add_questions(wired, 300, "elsewhere.py")
    for i in range(30):
        question(wired, evidence=[f"app/producer.py:{i + 1}"])

    cache.clear()
    with django_assert_max_num_queries(few):
        assert admin_client.get(url).status_code == 200


COPIED = """
def total(items, limit):
    count = 0
    for item in items:
        if item.size > limit:
            count += item.size * 2
        else:
            count -= 1
    return count
"""
UNDOCUMENTED = """
class Store:
    def load(self, key):
        value = self.db.get(key)
        return value or {}

    def save(self, key, value):
        self.db.put(key, value)
        self.db.flush()
"""


def test_question_page_explains_clones_and_undocumented_methods(admin_client, tmp_path):
    files = {"app/__init__.py": "", "app/a.py": COPIED, "app/b.py": COPIED, "app/store.py": UNDOCUMENTED}
    tree = ingest(tmp_path, files)
    clone = Question.objects.open().get(tree=tree, hypothesis="DUPLICATE_RESPONSIBILITY")
    html = page(admin_client, reverse("admin:analysis_question_change", args=[clone.pk]))
    assert "Same normalized body at" in html and "app.b.total at app/b.py:2" in html
    docs = Question.objects.open().get(tree=tree, hypothesis="MISSING_DOCSTRINGS")
    html = page(admin_client, reverse("admin:analysis_question_change", args=[docs.pk]))
    assert "app.store.Store.save (line 7)" in html
