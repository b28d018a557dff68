"""A file written for a newer Python than the parser's is "newer_grammar", not a syntax error."""

import shutil
import subprocess
from pathlib import Path

import pytest

from monitors.extract import parse
from monitors.facts import AnalysisError
from monitors.grammar import RUNNING, pep701_fstring
from monitors.scan import scan_tree

ROOT = Path(__file__).resolve().parents[2]


def reason(source: str, target: tuple[int, int] | None = None) -> tuple[str, str]:
    try:
        parse("a.py", source.encode(), target)
    except AnalysisError as exc:
        return exc.reason, str(exc)
    return "parsed", ""


@pytest.mark.parametrize(
    "source, construct",
    [
        ("type Vector = list[float]\n", "type statement"),
        ("def first[T](items: list[T]) -> T:\n    return items[0]\n", "type parameter lists"),
        ("class Box[T]:\n    pass\n", "type parameter lists"),
    ],
)
def test_pep_695_parsed_with_the_311_grammar_needs_312(source: str, construct: str):
    # ast's feature_version gives the 3.11 grammar on this interpreter: an honest older parser
    assert reason(source) == ("parsed", "")
    assert reason(source, (3, 11)) == (
        "newer_grammar",
        f"line 1: written for Python 3.12 or newer ({construct}); analyzed with Python 3.11's grammar: "
        "run the analysis with Python 3.12+",
    )


@pytest.mark.skipif(RUNNING >= (3, 14), reason="these parse on Python 3.14")
@pytest.mark.parametrize(
    "source, line, construct",
    [
        ("try:\n    pass\nexcept ValueError, TypeError:\n    pass\n", 3, "PEP 758"),
        ('name = "x"\ngreeting = t"hello {name}"\n', 2, "PEP 750"),
    ],
)
def test_python_314_syntax_on_this_interpreter(source: str, line: int, construct: str):
    found, detail = reason(source)
    assert found == "newer_grammar" and detail.startswith(f"line {line}: written for Python 3.14 or newer")
    assert construct in detail and f"analyzed with Python {RUNNING[0]}.{RUNNING[1]}'s grammar" in detail


def test_a_real_syntax_error_stays_one_and_names_the_grammar():
    assert reason("def broken(:\n") == (
        "syntax_error",
        f"line 1: invalid syntax (Python {RUNNING[0]}.{RUNNING[1]} grammar)",
    )
    # `except ... as` with several types still needs parentheses on 3.14: not a newer construct
    assert reason("try:\n    pass\nexcept A, B as e:\n    pass\n")[0] == "syntax_error"


@pytest.mark.parametrize(
    "line, newer",
    [
        ('msg = f"{user["name"]} logged in"', True),  # the f-string's own quote inside {}
        ("path = f\"{'\\\\'.join(parts)}\"", True),  # a backslash inside {}
        ('f"{x!r:{"width"}}"', True),
        ("f'{a}' + f\"{b['k']}\"", False),  # other quotes: any Python 3 reads it
        ('f"{x"', False),  # broken under every grammar
        ('"{not an f-string}"', False),
        ('f"{{literal}} {x}"', False),
    ],
)
def test_pep_701_f_strings_are_told_apart(line: str, newer: bool):
    assert pep701_fstring(line) is newer


PYTHON_311 = shutil.which("python3.11") or next(
    iter(Path("/root/.pyenv/versions").glob("3.11*/bin/python3.11")), None
)


@pytest.mark.skipif(PYTHON_311 is None, reason="no Python 3.11 on this machine")
def test_a_real_311_parser_names_312_code_as_newer_grammar(tmp_path: Path):
    files = {
        "fstrings.py": 'user = {"name": "a"}\nmsg = f"{user["name"]} logged in"\n',
        "aliases.py": "type Vector = list[float]\n",
        "broken.py": "def broken(:\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    probe = (
        "import sys; from pathlib import Path; from monitors.extract import parse; "
        "from monitors.facts import AnalysisError\n"
        "for path in sorted(Path(sys.argv[1]).glob('*.py')):\n"
        "    try:\n        parse(path.name, path.read_bytes())\n    except AnalysisError as exc:\n"
        "        print(path.name, exc.reason, exc)\n"
    )
    result = subprocess.run([str(PYTHON_311), "-c", probe, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["aliases.py", "newer_grammar"],
        ["broken.py", "syntax_error"],
        ["fstrings.py", "newer_grammar"],
    ]
    assert "line 2: written for Python 3.12 or newer (an f-string" in lines[2]
    assert "analyzed with Python 3.11's grammar" in lines[2]


@pytest.mark.skipif(RUNNING >= (3, 14), reason="parses on Python 3.14")
def test_the_batch_scan_reports_the_reason_and_keeps_the_file(tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "new.py").write_text("try:\n    pass\nexcept ValueError, TypeError:\n    pass\n")
    (tmp_path / "pkg" / "__main__.py").write_text("from pkg.new import anything\n")
    store, errors = scan_tree(tmp_path)
    assert {path: error.reason for path, error in errors.items()} == {"pkg/new.py": "newer_grammar"}
    assert [q.hypothesis for q in store.all_questions().values()] == []  # its importer is not broken
