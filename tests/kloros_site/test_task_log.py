"""What an analysis task shows in Flower and the worker log: the file and the outcome, never the content."""

from __future__ import annotations

import logging
import time

import pytest

from kloros_site.analysis.messages import FileVersion, sha256


def version(path: str, data: bytes) -> FileVersion:
    return FileVersion(
        root="/srv/src", path=path, seq=time.time_ns(), sha256=sha256(data), size=len(data), data=data
    )


def test_dispatch_shows_the_path_never_the_content(monkeypatch):
    from kloros_site.analysis import enqueue

    sent = {}
    monkeypatch.setattr(enqueue.app, "send_task", lambda name, **options: sent.update(options, name=name))
    enqueue.dispatch(version("pkg/secret.py", b"TOKEN = 'hunter2'\n"))

    assert "pkg/secret.py" in sent["argsrepr"] and "hunter2" not in sent["argsrepr"]
    assert "hunter2" not in (sent.get("kwargsrepr") or "")
    assert sent["args"][0]["data_b64"]  # the worker still gets the content


@pytest.mark.django_db
def test_worker_log_names_the_file_and_the_outcome(caplog, monkeypatch):
    from tasks import analysis

    monkeypatch.setattr(analysis.enqueue, "send_evaluation", lambda tree_id: None)
    with caplog.at_level(logging.INFO, logger="tasks.analysis"):
        assert analysis.analyze_file.run(version("good.py", b"x = 1\n").to_message()) == "analyzed"
        assert analysis.analyze_file.run(version("bad.py", b"def (:\n").to_message()) == "failed"

    lines = [r.getMessage() for r in caplog.records if r.name == "tasks.analysis"]
    assert lines == ["good.py: analyzed", "bad.py: failed: could not be analyzed (the file's page says why)"]


@pytest.mark.django_db
def test_a_batch_dead_letters_only_the_file_that_fails_and_logs_each(caplog, monkeypatch):
    from dataclasses import replace

    from kloros_site.analysis.models import DeadLetter, PendingFile, SourceFile
    from tasks import analysis

    monkeypatch.setattr(analysis.enqueue, "send_evaluation", lambda tree_id: None)
    good = version("good.py", b"x = 1\n")
    broken = replace(version("broken.py", b"y = 1\n"), size=2**64)  # no database column holds that
    PendingFile.objects.create(tree=analysis.Tree.objects.create(path="/srv/src"), path="broken.py", seq=1)
    with caplog.at_level(logging.INFO, logger="tasks.analysis"):
        outcomes = analysis.analyze_files.run([good.to_message(), broken.to_message()])

    assert outcomes[0] == "analyzed" and outcomes[1].startswith("failed:")
    assert list(SourceFile.objects.values_list("path", flat=True)) == ["good.py"]
    letter = DeadLetter.objects.get()
    assert (letter.path, letter.message) == ("broken.py", broken.to_message())  # kept whole for a retry
    assert not PendingFile.objects.exists()  # the dead letter owns the change now
    lines = [r.getMessage() for r in caplog.records if r.name == "tasks.analysis"]
    assert lines[0] == "good.py: analyzed" and lines[1].startswith("broken.py: failed:")


@pytest.mark.django_db
def test_a_batch_out_of_retries_dead_letters_the_files_not_stored():
    from kloros_site.analysis.models import DeadLetter
    from kloros_site.analysis.services import record
    from tasks import analysis

    stored, lost = version("stored.py", b"x = 1\n"), version("lost.py", b"y = 1\n")
    record(stored, lambda tree_id: None)
    analysis.analyze_files.on_failure(
        analysis.OperationalError("gone"), "id", [[stored.to_message(), lost.to_message()]], {}, None
    )
    assert list(DeadLetter.objects.values_list("path", "error")) == [("lost.py", "OperationalError: gone")]


@pytest.mark.django_db
def test_a_batch_cut_off_by_its_time_limit_sends_each_file_not_stored_alone(monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from kloros_site.analysis.models import DeadLetter
    from kloros_site.analysis.services import record
    from tasks import analysis

    sent = []
    monkeypatch.setattr(
        analysis.enqueue.app, "send_task", lambda name, **options: sent.append((name, options))
    )
    stored, slow, other = (version(p, b"x = 1\n") for p in ("stored.py", "slow.py", "other.py"))
    record(stored, lambda tree_id: None)
    messages = [m.to_message() for m in (stored, slow, other)]
    analysis.analyze_files.on_failure(SoftTimeLimitExceeded(), "id", [messages], {}, None)

    assert [(name, options["args"][0]["path"]) for name, options in sent] == [
        ("kloros.analyze_file", "slow.py"),
        ("kloros.analyze_file", "other.py"),
    ]
    assert not DeadLetter.objects.exists()  # only a file that fails in its own task is
