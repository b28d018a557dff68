"""bench/branch.py: the two-release repository and the table row of a switch."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from bench import branch, report, results


def make_wheel(folder: Path, version: str, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pkg-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr(f"pkg-{version}.dist-info/METADATA", f"Name: pkg\nVersion: {version}\n")
    return path


def test_the_repository_holds_one_tagged_commit_per_release_and_is_built_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = {
        "1.0": make_wheel(tmp_path / "w", "1.0", {"pkg/a.py": "a = 1\n", "pkg/b.py": "b = 1\n"}),
        "1.1": make_wheel(tmp_path / "w", "1.1", {"pkg/a.py": "a = 2\n", "pkg/data.bin": "x"}),
    }
    monkeypatch.setattr(branch, "OUT", tmp_path / "out")
    monkeypatch.setattr(branch, "wheel", lambda package, series: wheels[series])

    repo, tags = branch.repository("pkg", ("1.0", "1.1"))
    assert (repo.name, tags) == ("pkg-1.0-1.1", ["v1.0", "v1.1"])
    assert branch.git(repo, "show", "v1.0:pkg/a.py") == "a = 1\n"
    assert sorted(branch.git(repo, "ls-tree", "-r", "--name-only", "v1.1").split()) == [
        "pkg-1.1.dist-info/METADATA",
        "pkg/a.py",
        "pkg/data.bin",
    ]
    # a.py edited, b.py deleted, data.bin added, the dist-info renamed (two paths): the analyzer
    # reads only the two .py files
    assert branch.changed_files(repo, *tags) == (5, 2)

    (repo / "marker").write_text("kept")  # a second call finds the cached repository
    assert branch.repository("pkg", ("1.0", "1.1")) == (repo, tags)
    assert (repo / "marker").exists()


def test_a_switch_is_one_row_of_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "RESULTS", tmp_path)
    row = {
        "from": "v1.0",
        "to": "v1.1",
        "files_changed": 5,
        "files_changed_watched": 2,
        "killed_after_s": 1.5,
        "questions_current_s": 3.25,
        "drained_s": 3.5,
        "transitions": {"opened": 2, "changed": 1, "resolved": 0},
        "expected_transitions": {"opened": 1, "changed": 1, "resolved": 0},
        "final_equals_batch": True,
        "final_mismatch": {"missing": 0, "extra": 0, "different": 0},
    }
    late = {**row, "killed_after_s": None, "questions_current_s": None, "final_equals_batch": False}
    late["final_mismatch"] = {"missing": 1, "extra": 0, "different": 0}
    results.save("branch-kill", "pg-redis", {"timeout_s": 300.0, "rows": [row, late]})
    lines = report.branch("pg-redis", "branch-kill")
    assert lines[2:] == [
        "| v1.0 -> v1.1 | 5 (2) | 1.50 | 3.25 | 3.50 | 2 / 1 / 0 | 1 / 1 / 0 | yes |",
        "| v1.0 -> v1.1 | 5 (2) | - | > 300 | 3.50 | 2 / 1 / 0 | 1 / 1 / 0 | no (1 missing, 0 extra, 0 different) |",
    ]
