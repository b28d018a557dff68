import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUB = "from bus import ChemPub; "  # a ChemBus publisher from outside the tree, on the line it is used


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitors", *args], cwd=ROOT, capture_output=True, text=True)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def found(result: subprocess.CompletedProcess, *hypotheses: str) -> list[tuple[str, list[str]]]:
    """(hypothesis, evidence) of every question reported, or of those of the hypotheses named."""
    questions = json.loads(result.stdout)
    return sorted(
        (q["hypothesis"], q["evidence"]) for q in questions if q["hypothesis"] in hypotheses or not hypotheses
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a.py").write_text(PUB + 'ChemPub().emit("curiosity.x")\n')
    (tmp_path / "b.py").write_text("def broken(:\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.py").write_text(PUB + 'ChemPub().emit("hidden.x")\n')
    return tmp_path


# Exit status 1 when questions remain (was 0 for any report): what ruff and mypy users expect.
def test_json_is_an_array_of_questions(tree: Path):
    result = run(str(tree), "--format", "json")
    assert result.returncode == 1
    questions = json.loads(result.stdout)
    assert [q["hypothesis"] for q in questions] == ["ORPHANED_QUEUE"]
    fields = {"id", "monitor", "hypothesis", "question", "evidence", "severity", "capability_key"}
    assert fields <= set(questions[0]) and questions[0]["evidence"] == ["a.py:1"]
    assert "b.py" in result.stderr and "syntax_error" in result.stderr


def test_text(tree: Path):
    result = run(str(tree), "--format", "text")
    assert result.returncode == 1
    assert "a.py:1: [medium] ORPHANED_QUEUE" in result.stdout and "hidden" not in result.stdout


def test_sarif(tree: Path):
    result = run(str(tree), "--format", "sarif")
    assert result.returncode == 1
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
    assert result.returncode == 2 and "not a directory" in result.stderr and not result.stdout


def test_exclude_skips_named_directories(tree: Path):
    (tree / "vendor").mkdir()
    (tree / "vendor" / "d.py").write_text(PUB + 'ChemPub().emit("in.vendor")\n')
    assert "in.vendor" in run(str(tree), "--format", "json").stdout
    assert "in.vendor" not in run(str(tree), "--format", "json", "--exclude", "vendor").stdout


def test_exit_status_0_without_questions_or_with_exit_zero_2_on_usage_errors(tree: Path, tmp_path: Path):
    clean = write(tmp_path / "clean", {"a.py": "x = 1\n"})
    result = run(str(clean), "--format", "json")
    assert (result.returncode, json.loads(result.stdout)) == (0, [])
    assert run(str(tree), "--exit-zero").returncode == 0
    usage = run(str(tree), "--format", "yaml")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr


@pytest.mark.parametrize(
    "pyproject, message",
    [
        ('[tool.kloros]\nignroe = ["x"]\n', "unknown key(s) ignroe"),
        ('[tool.kloros]\nkind = "framework"\n', "kind must be one of"),
        ('[tool.kloros]\nignore = "build/**"\n', "ignore must be a list of strings"),
        ("[tool.kloros\nkind = 1\n", "pyproject.toml"),  # not TOML: the parser's message, with the file
    ],
)
def test_a_bad_configuration_is_a_clear_error_with_status_2(tree: Path, pyproject: str, message: str):
    (tree / "pyproject.toml").write_text(pyproject)
    result = run(str(tree), "--format", "json")
    assert result.returncode == 2 and not result.stdout
    assert (
        result.stderr.startswith("error: ") and message in result.stderr and "Traceback" not in result.stderr
    )


def test_configuration_ignore_and_tests_globs(tmp_path: Path):
    files = {
        "app/__init__.py": "",
        "app/a.py": PUB + 'ChemPub().emit("app.x")\n',
        "vendor/six.py": PUB + 'ChemPub().emit("in.vendor")\n',
        "qa/check_app.py": "import app.missing\n",  # a test may import something missing on purpose
    }
    write(tmp_path, files)
    asked = ("MISSING_WIRING", "ORPHANED_QUEUE")
    assert found(run(str(tmp_path), "--format", "json"), *asked) == [
        ("MISSING_WIRING", ["qa/check_app.py:1"]),
        ("ORPHANED_QUEUE", ["app/a.py:1"]),
        ("ORPHANED_QUEUE", ["vendor/six.py:1"]),
    ]
    (tmp_path / "pyproject.toml").write_text('[tool.kloros]\nignore = ["vendor/"]\ntests = ["qa/**"]\n')
    assert found(run(str(tmp_path), "--format", "json"), *asked) == [("ORPHANED_QUEUE", ["app/a.py:1"])]


def test_the_configuration_above_a_src_folder_applies_with_globs_from_its_folder(tmp_path: Path):
    write(tmp_path, {
        "pyproject.toml": '[tool.kloros]\nignore = ["src/gen/**"]\n',
        "src/app/__init__.py": "", "src/app/a.py": PUB + 'ChemPub().emit("app.x")\n', "src/gen/out.py": PUB + 'ChemPub().emit("gen.x")\n',
    })  # fmt: skip
    assert found(run(str(tmp_path / "src"), "--format", "json"), "ORPHANED_QUEUE") == [
        ("ORPHANED_QUEUE", ["app/a.py:1"])
    ]


def test_config_option_reads_another_file(tree: Path, tmp_path: Path):
    other = tmp_path / "elsewhere.toml"
    other.write_text('[tool.kloros]\nignore = ["a.py"]\n')
    assert found(run(str(tree), "--format", "json", "--config", str(other))) == []
    missing = run(str(tree), "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "nope.toml: no such file" in missing.stderr


def test_reference_roots_beside_the_tree_are_read_but_never_asked_about(tmp_path: Path):
    write(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\n",
        "src/pkg/__init__.py": "", "src/pkg/api.py": "def used_by_tests():\n    return 1\n\ndef unused():\n    return 2\n",
        "tests/test_api.py": "from pkg.api import used_by_tests\n",
        "scripts/tool.py": 'import pkg.gone\n' + PUB + 'ChemPub().emit("tool.x")\nx = 1  # TODO: one day\n',
    })  # fmt: skip
    result = run(str(tmp_path / "src"), "--format", "json")
    assert found(result, "DEAD_CODE") == [("DEAD_CODE", ["pkg/api.py:4"])]
    assert [
        where for _, where in found(result) if not where[0].startswith("pkg/")
    ] == []  # no tests/, scripts/
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n[tool.kloros]\nreference-roots = ['tests']\n"
    )
    assert [where for _, where in found(run(str(tmp_path / "src"), "--format", "json"))
            if not where[0].startswith("pkg/")] == []  # fmt: skip
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.kloros]\nreference-roots = []\n")
    alone = run(str(tmp_path / "src"), "--format", "json")
    assert found(alone, "DEAD_CODE") == [("DEAD_CODE", ["pkg/api.py:1"]), ("DEAD_CODE", ["pkg/api.py:4"])]


SUPPRESSED = {
    "a.py": PUB + 'ChemPub().emit("one.x")  # kloros: ignore[ORPHANED_QUEUE]\n'
    'ChemPub().emit("two.x")  # kloros: ignore[DEAD_CODE, ORPHANED_QUEUE]\n'
    'ChemPub().emit("three.x")  # kloros: ignore\n'
    'ChemPub().emit("four.x")  # kloros: ignore[DEAD_CODE]\n'
    "x = 1  # kloros: ignore\n"
    's = "# kloros: ignore is only words in a string"\n',
}


def test_suppressions_in_every_format_and_unused_ones_reported(tmp_path: Path):
    write(tmp_path, SUPPRESSED)
    result = run(str(tmp_path), "--format", "json")
    assert result.returncode == 1
    assert found(result) == [
        ("ORPHANED_QUEUE", ["a.py:4"]),  # DEAD_CODE is not what is asked there
        ("UNUSED_SUPPRESSION", ["a.py:2"]),  # its DEAD_CODE id answers nothing
        ("UNUSED_SUPPRESSION", ["a.py:4"]),
        ("UNUSED_SUPPRESSION", ["a.py:5"]),
    ]
    text = run(str(tmp_path), "--format", "text").stdout
    assert "a.py:5: [low] UNUSED_SUPPRESSION 'kloros: ignore' answers no question here" in text
    assert "a.py:2: [low] UNUSED_SUPPRESSION 'kloros: ignore[DEAD_CODE]'" in text
    sarif = json.loads(run(str(tmp_path), "--format", "sarif").stdout)
    rules = [r["ruleId"] for r in sarif["runs"][0]["results"]]
    assert sorted(rules) == [
        "ORPHANED_QUEUE",
        "UNUSED_SUPPRESSION",
        "UNUSED_SUPPRESSION",
        "UNUSED_SUPPRESSION",
    ]


def test_baseline_reports_only_new_questions(tree: Path, tmp_path: Path):
    baseline = tmp_path / "baseline.json"
    first = run(str(tree), "--format", "json")
    baseline.write_text(first.stdout)
    again = run(str(tree), "--format", "json", "--baseline", str(baseline))
    assert (again.returncode, json.loads(again.stdout)) == (0, [])
    assert "1 question(s) in the baseline" in again.stderr
    (tree / "new.py").write_text(PUB + 'ChemPub().emit("new.x")\n')
    newer = run(str(tree), "--format", "json", "--baseline", str(baseline))
    assert newer.returncode == 1 and found(newer) == [("ORPHANED_QUEUE", ["new.py:1"])]


def test_write_baseline_then_use_it_and_a_broken_baseline_is_an_error(tree: Path, tmp_path: Path):
    baseline = tmp_path / "kloros-baseline.json"
    written = run(str(tree), "--write-baseline", str(baseline))
    assert written.returncode == 0 and [q["hypothesis"] for q in json.loads(baseline.read_text())] == [
        "ORPHANED_QUEUE"
    ]
    assert run(str(tree), "--baseline", str(baseline)).returncode == 0
    sarif = tmp_path / "baseline.sarif"
    sarif.write_text(run(str(tree), "--format", "sarif").stdout)
    assert run(str(tree), "--baseline", str(sarif)).returncode == 0
    unwritable = run(str(tree), "--write-baseline", str(tmp_path / "no" / "such" / "dir.json"))
    assert unwritable.returncode == 2 and "cannot write the baseline" in unwritable.stderr
    baseline.write_text('{"not": "a report"}')
    broken = run(str(tree), "--baseline", str(baseline))
    assert broken.returncode == 2 and "not a report" in broken.stderr


def test_pre_commit_hook_runs_this_cli():
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "entry: python -m monitors" in hooks and "language: python" in hooks
    assert "pass_filenames: false" in hooks
