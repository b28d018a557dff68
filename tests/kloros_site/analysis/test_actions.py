"""Operator actions: evidence matching, acknowledgement, suppression, re-analysis, and the admin log."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry

from kloros_site.analysis import actions, evidence
from kloros_site.analysis.models import Question
from tests.kloros_site.dashboard.operator_rows import question, tree

pytestmark = pytest.mark.django_db


def test_evidence_path_strips_the_line_only():
    assert evidence.evidence_path("pkg/mod.py:12") == "pkg/mod.py"
    assert evidence.evidence_path("odd:name.py:3") == "odd:name.py"
    assert evidence.evidence_path("README.md") == "README.md"


def test_locations_sort_lines_as_numbers():
    found = evidence.locations(["b.py:2", "a.py:103", "a.py:28", "a.py:1", "a.py:28", 7])
    assert [str(loc) for loc in found] == ["a.py:1", "a.py:28", "a.py:103", "b.py:2"]


def test_evidence_mentions_matches_whole_paths():
    root = tree()
    wanted = question(root, evidence=["pkg/a.py:3", "other.py:1"])
    question(root, evidence=["pkg/aa.py:3"])
    question(root, evidence=["xpkg/a.py:3"])
    question(root, evidence=["pkg/a.py.bak:1"])
    unicode = question(root, evidence=["pkg/é.py:2"])

    assert list(Question.objects.filter(evidence.evidence_mentions("pkg/a.py"))) == [wanted]
    assert list(Question.objects.filter(evidence.evidence_mentions("pkg/é.py"))) == [unicode]


def test_acknowledge_keeps_the_first_acknowledgement():
    q = question()
    assert Question.objects.all().acknowledge("alice") == 1
    assert Question.objects.all().acknowledge("bob") == 0
    q.refresh_from_db()
    assert q.acknowledged_by == "alice" and q.acknowledged_at is not None


def test_suppress_and_unsuppress():
    q = question()
    Question.objects.all().suppress("known false positive")
    q.refresh_from_db()
    assert q.suppressed and q.suppressed_reason == "known false positive" and q.suppressed_at
    assert Question.objects.all().unsuppress() == 1
    q.refresh_from_db()
    assert not q.suppressed and q.suppressed_reason == "" and q.suppressed_at is None


def test_actions_write_who_did_what_to_the_admin_log(admin_user):
    q, other = question(), question()
    chosen = Question.objects.filter(pk=q.pk)

    assert actions.acknowledge(chosen, admin_user) == 1
    assert actions.acknowledge(chosen, admin_user) == 0  # nothing changed: nothing logged
    assert actions.suppress(chosen, "vendored", admin_user) == 1
    assert actions.unsuppress(chosen, admin_user) == 1

    entries = LogEntry.objects.filter(object_id=str(q.pk)).order_by("id")
    assert [e.get_change_message() for e in entries] == [
        "Acknowledged",
        "Suppressed: vendored",
        "Unsuppressed",
    ]
    assert {e.user_id for e in entries} == {admin_user.pk}
    assert not LogEntry.objects.filter(object_id=str(other.pk)).exists()


def test_reanalyze_sends_each_file_once_and_never_leaves_the_tree(tmp_path, monkeypatch):
    sent = []
    monkeypatch.setattr("kloros_site.analysis.enqueue.dispatch", sent.append)
    root = tree(str(tmp_path))
    (tmp_path / "a.py").write_text("x = 1\n")
    question(root, evidence=["a.py:1", "a.py:7", "gone.py:2", "../../etc/passwd:1", "/etc/passwd:1"])

    assert actions.reanalyze_questions(Question.objects.all()) == 2

    by_path = {v.path: v for v in sent}
    assert set(by_path) == {"a.py", "gone.py"}
    assert by_path["a.py"].data == b"x = 1\n" and by_path["a.py"].root == str(tmp_path)
    assert by_path["gone.py"].deleted


def test_reanalyze_takes_only_the_files_of_a_runtime_question_not_its_figures(tmp_path, monkeypatch):
    sent = []
    monkeypatch.setattr("kloros_site.analysis.enqueue.dispatch", sent.append)
    root = tree(str(tmp_path))
    (tmp_path / "gen.py").write_text("x = 1\n")
    hot = question(
        root,
        evidence=["analyzed 12 times in the last 60 s (threshold: 10)", "outcomes: analyzed 12", "gen.py"],
    )
    Question.objects.filter(pk=hot.pk).update(key="runtime:HOT_FILE:gen.py")

    assert actions.reanalyze_questions(Question.objects.all()) == 1
    assert [v.path for v in sent] == ["gen.py"]
