"""Several file versions stored at once (a backlog's message): each keeps what `record` gives it alone."""

from dataclasses import replace

import pytest
from django.db import DataError

from kloros_site.analysis import pending
from kloros_site.analysis.models import PendingFile, Posting, Question, SourceFile, Transition, Tree
from kloros_site.analysis.services import record, record_batch
from tests.kloros_site.analysis.test_services import ROOT, version

pytestmark = pytest.mark.django_db

SOURCES = {
    "p.py": 'ChemPub().emit("curiosity.a")\nChemPub().emit("curiosity.b")\n',
    "c.py": 'ChemSub(topic="curiosity.a")\n',
    "lib.py": "def helper():\n    return 1\n",
    "use.py": "from lib import helper\nhelper()\n",
}


def stored() -> tuple[list, list, list]:
    files = sorted(SourceFile.objects.values_list("path", "status", "sha256"))
    postings = sorted(Posting.objects.values_list("file__path", "key", "payload"))
    questions = sorted(Question.objects.open().values_list("qid", "hypothesis", "evidence"))
    return files, postings, questions


def test_a_batch_stores_what_the_files_one_by_one_store():
    for path, source in SOURCES.items():
        record(version(path, source))
    one_by_one = stored()
    Tree.objects.all().delete()

    outcomes = record_batch([version(path, source) for path, source in SOURCES.items()])

    assert outcomes == ["analyzed"] * len(SOURCES)
    assert stored() == one_by_one
    # the scan is heard once: the consumed topic never opens
    assert list(Transition.objects.values_list("kind", "question__evidence")) == [("opened", ["p.py:2"])]


def test_an_edit_in_a_batch_replaces_only_what_changed():
    record_batch([version("p.py", SOURCES["p.py"]), version("c.py", SOURCES["c.py"])])
    outcomes = record_batch(
        [
            version("p.py", SOURCES["p.py"]),
            version("c.py", 'ChemSub(topic="curiosity.b")\n'),
            version("n.py", None),
        ]
    )
    assert outcomes == ["unchanged", "analyzed", "deleted"]
    assert sorted(Question.objects.open().values_list("evidence", flat=True)) == [["p.py:1"]]


def test_two_versions_of_one_path_in_a_batch_store_the_newer():
    old, new = version("p.py", "x = 1\n"), version("p.py", "x = 2\n")
    assert record_batch([new, old]) == ["analyzed", "stale"]
    assert SourceFile.objects.get().seq == new.seq
    assert record_batch([version("q.py", "y = 1\n"), old]) == ["analyzed", "stale"]


def test_each_version_answers_its_own_pending_row(tmp_path):
    newer_change = version("c.py", SOURCES["c.py"]).seq + 1_000_000
    pending.request(ROOT, ["p.py"], seq=1)
    pending.request(ROOT, ["c.py"], seq=newer_change)  # changed again after this version was read
    record_batch([version("p.py", SOURCES["p.py"]), version("c.py", SOURCES["c.py"])])
    assert list(PendingFile.objects.values_list("path", flat=True)) == ["c.py"]


def test_a_file_that_cannot_be_stored_costs_only_itself():
    failures = []
    broken = replace(version("broken.py", "x = 1\n"), size=2**64)  # no database column holds that size
    batch = [version("p.py", SOURCES["p.py"]), broken, version("c.py", SOURCES["c.py"])]

    outcomes = record_batch(batch, failed=lambda v, exc: failures.append(v.path))

    assert outcomes[0] == outcomes[2] == "analyzed" and outcomes[1].startswith("failed:")
    assert failures == ["broken.py"]
    assert sorted(SourceFile.objects.values_list("path", flat=True)) == ["c.py", "p.py"]
    assert list(Question.objects.open().values_list("evidence", flat=True)) == [["p.py:2"]]


def test_without_a_failure_handler_a_batch_that_fails_raises():
    with pytest.raises((OverflowError, DataError)):  # SQLite's driver / PostgreSQL
        record_batch([version("p.py", "x = 1\n"), replace(version("broken.py", "x = 1\n"), size=2**64)])
    assert not SourceFile.objects.exists()
