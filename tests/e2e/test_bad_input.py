"""A corpus of files no analyzer should choke on: each ends with its analysis or a recorded reason."""

from __future__ import annotations

import os

import pytest

from kloros_site.analysis.models import SourceFile
from tests.harness import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def write_corpus(root, outside) -> dict[str, str]:
    """{relative path: expected status or reason}."""
    (root / "syntax.py").write_text("def broken(:\n")
    (root / "latin1.py").write_bytes(b"x = '\xe9t\xe9'\n")  # no coding cookie: not UTF-8
    (root / "declared_latin1.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9t\xe9'\n")
    (root / "nul.py").write_bytes(b"x = 1\x00\n")
    (root / "huge.py").write_bytes(b"# " + b"x" * (1024 * 1024 + 10) + b"\n")
    (root / "deep.py").write_text("x = " + "1+" * 100_000 + "1\n")
    (root / "empty.py").write_text("")
    os.mkfifo(root / "fifo.py")
    (root / "loop_a.py").symlink_to(root / "loop_b.py")
    (root / "loop_b.py").symlink_to(root / "loop_a.py")
    (outside / "secret.py").write_text("TOKEN = 'not yours'\n")
    (root / "escape.py").symlink_to(outside / "secret.py")
    (root / "dangling.py").symlink_to(root / "nowhere.py")
    (root / "fine.py").write_text('"""A normal module."""\n')
    return {
        "syntax.py": "syntax_error",
        "latin1.py": "undecodable",
        "declared_latin1.py": "analyzed",
        "nul.py": "nul_bytes",
        "huge.py": "too_large",
        "deep.py": "too_deep",
        "empty.py": "analyzed",
        "fifo.py": "not_regular_file",
        "loop_a.py": "symlink_loop",
        "loop_b.py": "symlink_loop",
        "escape.py": "outside_root",
        "dangling.py": "broken_symlink",
        "fine.py": "analyzed",
    }


def outcome(row: SourceFile) -> str:
    return row.reason if row.status == "failed" else row.status


def test_every_bad_file_gets_its_analysis_or_a_recorded_reason(worker, start_watcher, tmp_path):
    root, outside = tmp_path / "src", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    expected = write_corpus(root, outside)
    start_watcher(root)  # the start-up reconcile finds them all

    def outcomes() -> dict[str, str]:
        return {row.path: outcome(row) for row in SourceFile.objects.all()}

    eventually(
        lambda: expected.keys() <= outcomes().keys(),
        message=f"not accounted for: {expected.keys() - outcomes().keys()}",
    )
    assert {path: outcomes()[path] for path in expected} == expected
    assert all(row.detail for row in SourceFile.objects.filter(status="failed"))
    assert not SourceFile.objects.filter(path="escape.py").exclude(sha256="").exists()  # never read

    # the worker survived all of it and still analyzes
    (root / "after.py").write_text('ChemPub().emit("curiosity.still_alive")\n')
    eventually(lambda: SourceFile.objects.filter(path="after.py", status="analyzed").exists())
    assert worker.popen.poll() is None
