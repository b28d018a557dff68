"""A file saved under a watched folder becomes a question row and a ChemBus message, through
real watcher and worker processes on the configured stack; and resolves the same way."""

from __future__ import annotations

import pytest

from kloros_site.analysis.models import Question, SourceFile

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def opened(listener, qid):
    return [
        m for m in listener.messages if m["facts"]["question_id"] == qid and m["facts"]["status"] == "open"
    ]


def test_orphaned_emit_opens_a_question_and_a_consumer_resolves_it(
    worker, start_watcher, listen, tmp_path, wait_until
):
    root = tmp_path / "src"
    root.mkdir()
    listener = listen("curiosity.*")
    start_watcher(root)

    (root / "producer.py").write_text('bus = ChemPub()\nbus.emit("curiosity.orphan_test")\n')

    question = wait_until(
        lambda: Question.objects.open().filter(hypothesis="ORPHANED_QUEUE").first(),
        message="no ORPHANED_QUEUE question was stored",
    )
    assert question.evidence == ["producer.py:2"]
    assert "curiosity.orphan_test" in question.question
    file = SourceFile.objects.get(path="producer.py")
    assert file.status == "analyzed" and file.size > 0 and len(file.sha256) == 64

    message = wait_until(lambda: opened(listener, question.qid), message="no bus message")[0]
    assert message["signal"] == "curiosity.integration_question"
    assert message["facts"]["hypothesis"] == "ORPHANED_QUEUE"
    assert message["facts"]["evidence"] == ["producer.py:2"]
    assert message["facts"]["severity"] == "medium"
    assert message["facts"]["source"] == "channels"

    (root / "consumer.py").write_text('for msg in ChemSub(topic="curiosity.orphan_test"):\n    pass\n')

    wait_until(
        lambda: Question.objects.filter(qid=question.qid, status="resolved").exists(),
        message="the question did not resolve when a consumer appeared",
    )
    resolved = wait_until(
        lambda: [m for m in listener.messages if m["signal"] == "curiosity.question_resolved"],
        message="no resolution on the bus",
    )
    assert resolved[0]["facts"]["question_id"] == question.qid
    assert len(opened(listener, question.qid)) == 1


def test_deleting_the_producer_resolves_and_syntax_errors_are_recorded(
    worker, start_watcher, listen, tmp_path, wait_until
):
    root = tmp_path / "src"
    root.mkdir()
    start_watcher(root)
    producer = root / "pkg" / "producer.py"
    producer.parent.mkdir()
    producer.write_text('ChemPub().emit("curiosity.gone")\n')
    (root / "broken.py").write_text("def f(:\n")

    question = wait_until(lambda: Question.objects.open().filter(evidence=["pkg/producer.py:1"]).first())
    broken = wait_until(lambda: SourceFile.objects.filter(path="broken.py", status="failed").first())
    assert broken.reason == "syntax_error"
    assert "line 1" in broken.detail

    producer.unlink()
    wait_until(lambda: Question.objects.filter(qid=question.qid, status="resolved").exists())
    assert SourceFile.objects.get(path="pkg/producer.py").status == "deleted"


def test_editor_save_by_rename_is_analyzed(worker, start_watcher, tmp_path, wait_until):
    root = tmp_path / "src"
    root.mkdir()
    start_watcher(root)
    temp = root / ".module.py.swp"
    temp.write_text('ChemPub().publish(signal="curiosity.renamed")\n')
    temp.rename(root / "module.py")

    question = wait_until(lambda: Question.objects.open().filter(hypothesis="ORPHANED_QUEUE").first())
    assert question.evidence == ["module.py:1"]
