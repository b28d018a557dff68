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


def test_each_version_of_a_batch_is_measured_once_within_the_transaction_that_stores_it():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kloros_site.analysis.models import RuntimeEvent

    record_batch([version("p.py", SOURCES["p.py"])])
    old, new = version("c.py", "x = 1\n"), version("c.py", "x = 2\n")
    batch = [version("p.py", SOURCES["p.py"]), new, old, version("lib.py", SOURCES["lib.py"])]
    with CaptureQueriesContext(connection) as queries:
        assert record_batch(batch, lambda tree_id: None) == ["unchanged", "analyzed", "stale", "analyzed"]
    measured = RuntimeEvent.objects.filter(kind=RuntimeEvent.Kind.ANALYSIS).order_by("id")
    assert sorted(measured.values_list("path", "detail")) == sorted(
        [
            ("p.py", "analyzed"),
            ("p.py", "unchanged"),
            ("c.py", "analyzed"),
            ("c.py", "stale"),
            ("lib.py", "analyzed"),
        ]
    )
    sql = [q["sql"] for q in queries.captured_queries]
    # one insert of the measurement rows, in the transaction that stores the files (a savepoint
    # inside the test's own transaction): no round trip and commit of its own
    inserts = [i for i, s in enumerate(sql) if s.startswith('INSERT INTO "analysis_runtimeevent"')]
    stores = [i for i, s in enumerate(sql) if s.startswith('INSERT INTO "analysis_sourcefile"')]
    ends = [i for i, s in enumerate(sql) if s.startswith("RELEASE SAVEPOINT")]
    assert len(inserts) == 1 and len(stores) == 1
    assert stores[0] < inserts[0] < min(i for i in ends if i > stores[0])


def test_a_batch_with_nothing_to_store_is_measured_after_it():
    from kloros_site.analysis.models import RuntimeEvent

    first = version("p.py", SOURCES["p.py"])
    record_batch([first])
    assert record_batch([first, version("p.py", SOURCES["p.py"])]) == ["stale", "unchanged"]
    assert list(
        RuntimeEvent.objects.filter(kind=RuntimeEvent.Kind.ANALYSIS)
        .order_by("id")
        .values_list("detail", flat=True)
    ) == ["analyzed", "stale", "unchanged"]
