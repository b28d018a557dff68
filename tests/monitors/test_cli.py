import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitors", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a.py").write_text('emit("curiosity.x")\n')
    (tmp_path / "b.py").write_text("def broken(:\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.py").write_text('emit("hidden.x")\n')
    return tmp_path


def test_json_is_an_array_of_questions(tree: Path):
    result = run(str(tree), "--format", "json")
    assert result.returncode == 0
    questions = json.loads(result.stdout)
    assert [q["hypothesis"] for q in questions] == ["ORPHANED_QUEUE"]
    fields = {"id", "monitor", "hypothesis", "question", "evidence", "severity", "capability_key"}
    assert fields <= set(questions[0]) and questions[0]["evidence"] == ["a.py:1"]
    assert "b.py" in result.stderr and "syntax_error" in result.stderr


def test_text(tree: Path):
    result = run(str(tree), "--format", "text")
    assert result.returncode == 0
    assert "a.py:1: [medium] ORPHANED_QUEUE" in result.stdout and "hidden" not in result.stdout


def test_sarif(tree: Path):
    result = run(str(tree), "--format", "sarif")
    assert result.returncode == 0
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    run_ = sarif["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == ["ORPHANED_QUEUE"]
    (res,) = run_["results"]
    assert res["ruleId"] == "ORPHANED_QUEUE" and res["level"] == "warning"
    physical = res["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "a.py" and physical["region"]["startLine"] == 1
    assert "b.py" in json.dumps(run_["invocations"][0]["toolExecutionNotifications"])


def test_bad_path_fails_clearly(tmp_path: Path):
    result = run(str(tmp_path / "missing"))
    assert result.returncode != 0 and "not a directory" in result.stderr and not result.stdout


def test_exclude_skips_named_directories(tree: Path):
    (tree / "vendor").mkdir()
    (tree / "vendor" / "d.py").write_text('emit("in.vendor")\n')
    assert "in.vendor" in run(str(tree), "--format", "json").stdout
    assert "in.vendor" not in run(str(tree), "--format", "json", "--exclude", "vendor").stdout
