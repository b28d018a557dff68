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
