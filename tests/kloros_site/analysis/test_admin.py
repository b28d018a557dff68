"""The admin: lists that stay cheap as tables grow, filters, search on evidence, operator actions."""

from __future__ import annotations

import time

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kloros_site.analysis import evaluation
from kloros_site.analysis.messages import FileVersion, sha256
from kloros_site.analysis.models import DeadLetter, PendingFile, Posting, SourceFile, Tree
from tests.kloros_site.dashboard.operator_rows import (
    plain_static_storage,  # noqa: F401  (a fixture, used by name)
    question,
    source_file,
    transition,
    tree,
    worker_probe,  # noqa: F401  (a fixture, used by name)
)

QUESTIONS = reverse("admin:analysis_question_changelist")


def ids(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


def act(client, url: str, action: str, objects, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], "index": 0, **extra}
    return client.post(url, data)


@pytest.mark.django_db
def test_question_list_queries_do_not_grow_with_rows(admin_client):
    roots = [tree(f"/srv/t{i}") for i in range(3)]
    question(roots[0])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(QUESTIONS).status_code == 200
        return len(captured)

    few = queries()
    for i in range(150):
        question(roots[i % 3], hypothesis=f"H{i % 7}", monitor=f"m{i % 4}")
    assert queries() == few


@pytest.mark.django_db
def test_question_list_shows_evidence_and_filters(admin_client):
    root = tree()
    orphan = question(root, hypothesis="ORPHANED_QUEUE", evidence=["pkg/a.py:3", "pkg/b.py:9"])
    stale = question(
        root, hypothesis="STALE_DOC", monitor="knowledge", severity="low", evidence=["docs/x.md:1"]
    )
    acked = question(root, hypothesis="STALE_DOC", evidence=["pkg/aa.py:1"], acknowledged_by="ops")
    acked.acknowledged_at = acked.opened_at
    acked.save()

    page = admin_client.get(QUESTIONS)
    html = page.content.decode()
    # evidence is collapsed to its first location (a link to the file at that line) and a count
    assert '>pkg/a.py:3</a><br><span class="klr-more">2 locations in 2 files</span>' in html
    assert page.context["cl"].show_full_result_count is False

    assert ids(admin_client.get(QUESTIONS, {"hypothesis": "ORPHANED_QUEUE"})) == {orphan.pk}
    assert ids(admin_client.get(QUESTIONS, {"monitor": "knowledge"})) == {stale.pk}
    assert ids(admin_client.get(QUESTIONS, {"severity": "low"})) == {stale.pk}
    assert ids(admin_client.get(QUESTIONS, {"acknowledged": "yes"})) == {acked.pk}
    assert ids(admin_client.get(QUESTIONS, {"acknowledged": "no"})) == {orphan.pk, stale.pk}
    assert ids(admin_client.get(QUESTIONS, {"tree__id__exact": root.pk})) == {orphan.pk, stale.pk, acked.pk}

    by_file = admin_client.get(QUESTIONS, {"file": "pkg/a.py"})
    assert ids(by_file) == {orphan.pk}
    assert "pkg/a.py" in by_file.content.decode()  # the selected file shows as the filter's choice

    assert ids(admin_client.get(QUESTIONS, {"q": "pkg/b.py:9"})) == {orphan.pk}
    assert ids(admin_client.get(QUESTIONS, {"q": stale.question})) == {stale.pk}


@pytest.mark.django_db
def test_admin_needs_a_staff_login(client):
    response = client.get(QUESTIONS)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_the_stores_are_read_only(admin_client):
    q = question()
    assert admin_client.get(reverse("admin:analysis_question_add")).status_code == 403
    assert admin_client.get(reverse("admin:analysis_question_delete", args=[q.pk])).status_code == 403
    detail = admin_client.get(reverse("admin:analysis_question_change", args=[q.pk])).content.decode()
    assert 'name="question"' not in detail  # no editable input
    assert q.question in detail


@pytest.mark.django_db
def test_acknowledge_action_records_who(admin_client, admin_user):
    q, other = question(), question()

    response = act(admin_client, QUESTIONS, "acknowledge", [q])

    assert response.status_code == 302
    q.refresh_from_db()
    other.refresh_from_db()
    assert q.acknowledged_by == admin_user.username and q.acknowledged_at is not None
    assert other.acknowledged_at is None


@pytest.mark.django_db
def test_suppress_asks_for_a_reason_then_suppresses(admin_client):
    q, other = question(), question()

    form = act(admin_client, QUESTIONS, "suppress", [q])
    assert form.status_code == 200
    assert b"Suppress 1 question?" in form.content
    assert 'name="reason"' in form.content.decode()
    q.refresh_from_db()
    assert not q.suppressed

    missing = act(admin_client, QUESTIONS, "suppress", [q], apply="Suppress", reason="")
    assert missing.status_code == 200 and b"This field is required" in missing.content

    done = act(admin_client, QUESTIONS, "suppress", [q], apply="Suppress", reason="vendored code")
    assert done.status_code == 302
    q.refresh_from_db()
    other.refresh_from_db()
    assert q.suppressed and q.suppressed_reason == "vendored code" and q.suppressed_at
    assert not other.suppressed
    assert ids(admin_client.get(QUESTIONS, {"suppressed__exact": "1"})) == {q.pk}

    act(admin_client, QUESTIONS, "unsuppress", [q])
    q.refresh_from_db()
    assert not q.suppressed and q.suppressed_reason == ""


@pytest.mark.django_db
def test_file_page_counts_open_questions_citing_it(admin_client):
    root = tree()
    file = source_file(root, path="pkg/a.py", sha256="ab" * 32, size=10, duration_ms=1.5, latency_ms=20)
    other = source_file(root, path="pkg/aa.py")
    cited = [
        question(root, evidence=["pkg/a.py:1"]),
        question(root, evidence=["pkg/a.py:7", "x.py:1"]),
        question(root, evidence=["pkg/a.py:2"], status="resolved"),
    ]
    elsewhere = question(root, evidence=["pkg/aa.py:2"])
    # as the monitors do, each cited file posts under its question's key (the pages join on it)
    for q in cited:
        Posting.objects.create(tree=root, file=file, key=q.key, payload={})
    Posting.objects.create(tree=root, file=other, key=elsewhere.key, payload={})

    listing = admin_client.get(reverse("admin:analysis_sourcefile_changelist")).content.decode()
    assert "pkg/a.py" in listing and "abababababab" in listing

    page = admin_client.get(reverse("admin:analysis_sourcefile_change", args=[file.pk])).content.decode()
    assert "?file=pkg%2Fa.py" in page
    assert ">2</a>" in page


@pytest.mark.django_db
def test_outbox_queue_and_tree_lists_render(admin_client):
    root = tree()
    q = question(root)
    published = transition(q)
    waiting = transition(q, published=False)
    PendingFile.objects.create(tree=root, path="p.py", seq=1)
    transitions = reverse("admin:analysis_transition_changelist")

    assert ids(admin_client.get(transitions, {"published": "no"})) == {waiting.pk}
    assert ids(admin_client.get(transitions, {"published": "yes"})) == {published.pk}
    assert b"p.py" in admin_client.get(reverse("admin:analysis_pendingfile_changelist")).content
    assert root.path.encode() in admin_client.get(reverse("admin:analysis_tree_changelist")).content


def worker_done(root: Tree, wait_until) -> None:
    """The file's task goes on to evaluate the tree after storing it: the test's end empties the
    tables (TRUNCATE), which must not run into that task's transaction (a deadlock on PostgreSQL)."""
    wait_until(
        lambda: evaluation.evaluated(Tree.objects.filter(pk=root.pk)),
        message="the worker did not finish evaluating the tree",
    )


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_reanalyze_sends_the_evidence_files_to_a_real_worker(admin_client, worker, tmp_path, wait_until):
    root = tree(str(tmp_path))
    (tmp_path / "mod.py").write_text('ChemPub().emit("curiosity.reanalyzed")\n')
    stale = source_file(root, path="mod.py", sha256="0" * 64, seq=1)
    q = question(root, evidence=["mod.py:1"])

    act(admin_client, QUESTIONS, "reanalyze", [q])

    fresh = wait_until(
        lambda: SourceFile.objects.filter(pk=stale.pk, seq__gt=1).first(),
        message="the worker did not store a new version of mod.py",
    )
    assert fresh.status == "analyzed"
    assert fresh.sha256 == sha256(b'ChemPub().emit("curiosity.reanalyzed")\n')
    worker_done(root, wait_until)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_retry_sends_a_dead_letter_to_a_real_worker(admin_client, worker, tmp_path, wait_until):
    root = tree(str(tmp_path))
    data = b"x = 1\n"
    message = FileVersion(
        root=str(tmp_path), path="dead.py", seq=time.time_ns(), sha256=sha256(data), size=len(data), data=data
    ).to_message()
    letter = DeadLetter.objects.create(
        tree=root, path="dead.py", message=message, error="OperationalError: gone"
    )

    act(admin_client, reverse("admin:analysis_deadletter_changelist"), "retry", [letter])

    stored = wait_until(
        lambda: SourceFile.objects.filter(tree=root, path="dead.py").first(),
        message="the retried task did not run",
    )
    assert stored.sha256 == sha256(data)
    worker_done(root, wait_until)
    letter.refresh_from_db()
    assert letter.retried_at is not None
    listing = admin_client.get(reverse("admin:analysis_deadletter_changelist")).content.decode()
    assert "OperationalError: gone" in listing
