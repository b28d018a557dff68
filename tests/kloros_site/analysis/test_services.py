import itertools
import time

import pytest

from kloros_site.analysis.messages import FileVersion, sha256
from kloros_site.analysis.models import Question, SourceFile, Transition, Tree
from kloros_site.analysis.services import record
from kloros_site.analysis.source import unpack
from monitors.config import Config

pytestmark = pytest.mark.django_db
ROOT = "/srv/tree"
_seq = itertools.count(1)


def version(path: str, source: str | None, **extra) -> FileVersion:
    if source is None:
        return FileVersion(root=ROOT, path=path, seq=next(_seq), deleted=True, **extra)
    data = source.encode()
    return FileVersion(
        root=ROOT, path=path, seq=next(_seq), sha256=sha256(data), size=len(data), data=data, **extra
    )


def kinds() -> list[tuple[str, str]]:
    return list(Transition.objects.values_list("kind", "signal"))


def test_a_producer_opens_a_question_with_its_outbox_envelope():
    assert record(version("p.py", 'ChemPub().emit("curiosity.a")\n')) == "analyzed"
    question = Question.objects.get()
    assert (question.hypothesis, question.status, question.evidence) == ("ORPHANED_QUEUE", "open", ["p.py:1"])
    transition = Transition.objects.get()
    assert transition.kind == "opened" and transition.published_at is None
    envelope = transition.envelope
    assert envelope["signal"] == "curiosity.integration_question"
    assert envelope["incident_id"] == str(transition.incident_id)
    assert envelope["schema_version"] == 1 and envelope["ecosystem"] == "curiosity"
    assert envelope["facts"]["question_id"] == question.qid
    assert envelope["facts"]["evidence"] == ["p.py:1"]
    assert len(envelope["facts"]["evidence_hash"]) == 16


def test_unchanged_content_is_not_analyzed_again_and_publishes_nothing():
    source = 'ChemPub().emit("curiosity.a")\n'
    record(version("p.py", source))
    assert record(version("p.py", source)) == "unchanged"
    assert kinds() == [("opened", "curiosity.integration_question")]


def test_an_older_version_arriving_late_is_a_no_op():
    old = version("p.py", 'ChemPub().emit("curiosity.old")\n')
    record(version("p.py", 'ChemPub().emit("curiosity.new")\n'))
    assert record(old) == "stale"
    assert list(Question.objects.open().values_list("evidence", "question")) == [
        (["p.py:1"], Question.objects.get().question)
    ]
    assert "curiosity.new" in Question.objects.get().question


def test_consumer_in_another_file_resolves_and_deletion_reopens():
    record(version("p.py", 'ChemPub().emit("curiosity.a")\n'))
    record(version("c.py", 'ChemSub(topic="curiosity.a")\n'))
    assert Question.objects.get().status == "resolved"
    record(version("c.py", None))
    assert Question.objects.get().status == "open"
    assert SourceFile.objects.get(path="c.py").status == "deleted"
    assert [k for k, _ in kinds()] == ["opened", "resolved", "opened"]
    assert kinds()[1][1] == "curiosity.question_resolved"


def test_unrelated_edit_publishes_nothing():
    record(version("p.py", 'ChemPub().emit("curiosity.a")\n'))
    record(version("other.py", "x = 1\n"))
    record(version("other.py", "x = 2\n"))
    assert len(kinds()) == 1


def test_evidence_change_is_a_changed_transition():
    record(version("p.py", 'ChemPub().emit("curiosity.a")\n'))
    record(version("p.py", '\n\nChemPub().emit("curiosity.a")\n'))
    assert [k for k, _ in kinds()] == ["opened", "changed"]
    assert Question.objects.get().evidence == ["p.py:3"]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("def f(:\n", "syntax_error"),
        ("x = 1\x00\n", "nul_bytes"),
        ("x = " + "1+" * 100_000 + "1\n", "too_deep"),
    ],
)
def test_unanalyzable_source_records_its_reason(source, reason):
    assert record(version("bad.py", source)) == "failed"
    row = SourceFile.objects.get(path="bad.py")
    assert (row.status, row.reason) == ("failed", reason)
    assert row.detail


def test_undecodable_bytes_record_a_reason():
    data = b"# -*- coding: utf-8 -*-\nx = '\xff\xfe'\n"
    record(
        FileVersion(root=ROOT, path="bin.py", seq=next(_seq), sha256=sha256(data), size=len(data), data=data)
    )
    assert SourceFile.objects.get(path="bin.py").reason == "undecodable"


def test_a_file_that_breaks_drops_its_questions_like_a_batch_scan():
    record(version("p.py", 'ChemPub().emit("curiosity.a")\n'))
    record(version("p.py", 'ChemPub().emit("curiosity.a"\n'))
    assert Question.objects.get().status == "resolved"


def test_reader_reasons_pass_through():
    record(FileVersion(root=ROOT, path="big.py", seq=next(_seq), reason="too_large", detail="2000000 bytes"))
    row = SourceFile.objects.get(path="big.py")
    assert (row.status, row.reason, row.detail) == ("failed", "too_large", "2000000 bytes")


def test_message_round_trip_is_json_safe():
    import json

    original = version("p.py", "x = 'é'\n")
    message = json.loads(json.dumps(original.to_message()))
    assert FileVersion.from_message(message) == original


def test_suppressed_questions_are_not_published_again():
    record(version("p.py", 'ChemPub().emit("curiosity.a")\n'))
    Question.objects.update(suppressed=True, suppressed_reason="known, planned for Q3")
    record(version("c.py", 'ChemSub("curiosity.a")\n'))
    record(version("c.py", None))
    assert [k for k, _ in kinds()] == ["opened"]
    question = Question.objects.get()
    assert question.status == "open" and question.suppressed


def test_latency_is_recorded_from_the_read_to_the_commit():
    record(
        FileVersion(
            root=ROOT, path="p.py", seq=time.time_ns() - 50_000_000, data=b'ChemPub().emit("curiosity.a")\n'
        )
    )
    assert SourceFile.objects.get().latency_ms >= 50
    assert Transition.objects.get().latency_ms >= 50


def test_an_analysis_by_other_analysis_code_is_not_reused():
    source = 'ChemPub().emit("curiosity.a")\n'
    record(version("p.py", source))
    SourceFile.objects.update(engine_version="older-code")
    assert record(version("p.py", source)) == "analyzed"
    assert SourceFile.objects.get().engine_version != "older-code"


def test_a_forced_version_is_analyzed_even_if_unchanged():
    source = 'ChemPub().emit("curiosity.a")\n'
    record(version("p.py", source))
    assert record(version("p.py", source, force=True)) == "analyzed"


def test_a_tree_configuration_change_makes_unchanged_files_analyzed_again():
    source = 'ChemPub().emit("curiosity.a")\n'
    record(version("p.py", source))
    Tree.objects.filter(path=ROOT).update(config=Config(tests=("qa/**",)).to_json())
    assert record(version("p.py", source)) == "analyzed"
    assert record(version("p.py", source)) == "unchanged"


def test_the_workers_analyze_with_the_stored_configuration():
    """[tool.kloros] tests globs reach the worker through the tree row: the file is a test there."""
    source = "from pkg.gone import thing\n"
    record(version("pkg/__init__.py", ""))
    record(version("qa/check.py", source))
    assert list(Question.objects.open().values_list("hypothesis", flat=True)) == ["MISSING_WIRING"]
    Tree.objects.filter(path=ROOT).update(config=Config(tests=("qa/**",)).to_json())
    record(version("qa/check.py", source))
    assert not Question.objects.open().exists()


def test_a_new_file_created_by_another_worker_meanwhile_is_stored_through_its_row(monkeypatch):
    """Two workers storing the first versions of one path at once: the loser's INSERT fails, and it
    stores its (newer) version again through the row the winner made."""
    from kloros_site.analysis import services

    real_analyze = services._analyze
    calls = []

    def analyze_while_another_worker_stores(version, config):
        if not calls:  # only the first attempt races
            tree = Tree.objects.get(path=ROOT)
            SourceFile.objects.create(tree=tree, path=version.path, status="analyzed", seq=version.seq - 1)
        calls.append(version.path)
        return real_analyze(version, config)

    monkeypatch.setattr(services, "_analyze", analyze_while_another_worker_stores)
    newer = version("p.py", "x = 1\n")
    assert record(newer) == "analyzed"
    assert calls == ["p.py", "p.py"]  # the first attempt lost the race and was made again
    assert SourceFile.objects.get().seq == newer.seq


def test_an_edit_whose_newer_version_was_stored_while_it_parsed_is_stale(monkeypatch):
    """One file's edit checks its seq in the update that stores it (no locking read before)."""
    from kloros_site.analysis import services

    record(version("p.py", 'ChemPub().emit("curiosity.old")\n'))
    real_analyze = services._analyze
    older = version("p.py", 'ChemPub().emit("curiosity.older")\n')
    newer = version("p.py", 'ChemPub().emit("curiosity.new")\n')

    def analyze_while_another_worker_stores(edit, config):
        SourceFile.objects.filter(path=edit.path).update(seq=newer.seq)  # its row, stored meanwhile
        return real_analyze(edit, config)

    monkeypatch.setattr(services, "_analyze", analyze_while_another_worker_stores)
    assert record(older) == "stale"
    file = SourceFile.objects.get()
    assert file.seq == newer.seq and "curiosity.old" in (unpack(file.source) or "")
    assert "curiosity.old" in Question.objects.open().get().question
