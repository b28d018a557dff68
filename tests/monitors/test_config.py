"""`[tool.kloros]`: where it is found, what it may say, what a tree is when it does not say."""

from pathlib import Path

import pytest

from monitors.config import ConfigError, detect_kind, load
from monitors.extract import extract, placeholder_facts


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_no_configuration_is_the_defaults_with_a_detected_kind(tmp_path: Path):
    config = load(write(tmp_path, {"a.py": ""}))
    assert (config.kind, config.ignore, config.tests, config.reference_roots) == ("application", (), (), ())
    assert config.extra["source"] == ""


def test_the_table_is_read(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": """
[tool.kloros]
kind = "library"
ignore = ["build/**"]
tests = ["qa/**"]
generated = ["*_pb2.py"]
severity = { DEAD_CODE = "high" }
recorders-are-consumers = true
"""})  # fmt: skip
    config = load(tmp_path)
    assert (config.kind, config.ignore, config.tests, config.generated) == (
        "library", ("build/**",), ("qa/**",), ("*_pb2.py",)
    )  # fmt: skip
    assert config.severity_of("DEAD_CODE", "low") == "high" and config.recorders_are_consumers
    assert config.extra["source"] == str(tmp_path / "pyproject.toml")


def test_the_nearest_configuration_above_is_found_and_its_globs_rebased(tmp_path: Path):
    write(tmp_path, {
        "pyproject.toml": '[tool.kloros]\nignore = ["src/gen/**", "*.tmp.py", "docs/**"]\ntests = ["src/qa/**"]\n',
        "src/app/a.py": "",
    })  # fmt: skip
    config = load(tmp_path / "src")
    assert config.ignore == ("gen/**", "*.tmp.py") and config.tests == ("qa/**",)


def test_the_search_stops_at_the_repository_root(tmp_path: Path):
    write(
        tmp_path,
        {"pyproject.toml": '[tool.kloros]\nkind = "library"\n', "repo/.git/HEAD": "", "repo/a.py": ""},
    )
    assert load(tmp_path / "repo").kind == "application"
    write(tmp_path, {"repo/pyproject.toml": '[tool.kloros]\nkind = "library"\n'})
    assert load(tmp_path / "repo").kind == "library"


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path):
    write(
        tmp_path,
        {"pyproject.toml": '[tool.kloros]\ntests = ["checks/**"]\n', "sub/pyproject.toml": "[tool.ruff]\n"},
    )
    assert load(tmp_path / "sub").tests == ()  # checks/** is outside sub/: rebased away
    assert load(tmp_path / "sub").extra["source"] == str(tmp_path / "pyproject.toml")


def test_another_file_can_be_named(tmp_path: Path):
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.kloros]\nkind = "library"\n',
            "ci/kloros.toml": '[tool.kloros]\nignore = ["x/"]\n',
        },
    )
    config = load(tmp_path, tmp_path / "ci" / "kloros.toml")
    assert config.ignore == ("x/",) and config.kind == "application"
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path, tmp_path / "missing.toml")


@pytest.mark.parametrize(
    "table, message",
    [
        ('ignroe = ["x"]', r"unknown key\(s\) ignroe"),
        ('kind = "framework"', "kind must be one of"),
        ('ignore = "build/**"', "ignore must be a list of strings"),
        ("tests = [1]", "tests must be a list of strings"),
        ('severity = { DEAD_CODE = "urgent" }', "severity must map"),
        ('recorders-are-consumers = "yes"', "recorders-are-consumers must be true or false"),
        ('endpoints = [{ callable = "x.emit" }]', "needs callable and role"),
    ],
)
def test_bad_values_are_clear_errors_naming_the_file(tmp_path: Path, table: str, message: str):
    write(tmp_path, {"pyproject.toml": f"[tool.kloros]\n{table}\n"})
    with pytest.raises(ConfigError, match=message) as error:
        load(tmp_path)
    assert str(tmp_path / "pyproject.toml") in str(error.value)


def test_broken_toml_is_a_clear_error(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.kloros\nkind = 1\n"})
    with pytest.raises(ConfigError, match=r"pyproject.toml: .*line 1"):
        load(tmp_path)


@pytest.mark.parametrize(
    "files, kind",
    [
        ({"pkg/__init__.py": ""}, "application"),
        ({"pyproject.toml": "[project]\nname = 'app'\ndependencies = ['django']\n"}, "application"),
        (
            {"pyproject.toml": "[project]\nname = 'lib'\n[build-system]\nrequires = ['hatchling']\n"},
            "library",
        ),
        ({"pyproject.toml": "[tool.setuptools]\npackages = ['lib']\n"}, "library"),
        ({"pyproject.toml": "[tool.poetry]\nname = 'lib'\n"}, "library"),
        ({"setup.py": "from setuptools import setup\nsetup(name='lib', packages=['lib'])\n"}, "library"),
        ({"setup.py": "print('not a package')\n"}, "application"),
        ({"setup.cfg": "[metadata]\nname = lib\n[options]\npackages = find:\n"}, "library"),
        ({"setup.cfg": "[flake8]\nmax-line-length = 100\n"}, "application"),
        ({"lib-1.0.dist-info/METADATA": ""}, "library"),
        (
            {"pyproject.toml": "[project]\nname='x'\n[build-system]\n[tool.kloros]\nkind = 'application'\n"},
            "application",
        ),
    ],
)
def test_kind_is_detected_and_an_explicit_kind_wins(tmp_path: Path, files: dict[str, str], kind: str):
    write(tmp_path, files)
    assert load(tmp_path).kind == kind


def test_a_wheel_unpacked_beside_the_package_is_a_library(tmp_path: Path):
    write(tmp_path, {"django/__init__.py": "", "django-5.2.dist-info/METADATA": ""})
    assert detect_kind(tmp_path) == "library"


def test_the_project_folder_above_a_src_folder_tells_the_kind(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[project]\nname='x'\n[build-system]\n", "src/x/__init__.py": ""})
    assert load(tmp_path / "src").kind == "library"


def test_tests_globs_mark_files_as_tests(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": '[tool.kloros]\ntests = ["qa/**", "*_check.py"]\n'})
    config = load(tmp_path)
    assert extract("qa/deep/run.py", b"x = 1\n", config).is_test
    assert extract("pkg/db_check.py", b"x = 1\n", config).is_test
    assert placeholder_facts("qa/broken.py", config).is_test
    assert not extract("pkg/qa.py", b"x = 1\n", config).is_test
    assert not extract("qa/deep/run.py", b"x = 1\n").is_test  # without the configuration


def test_reference_roots_default_to_tests_and_scripts_beside_a_src_folder(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "", "src/app/__init__.py": "", "tests/test_a.py": "", "scripts/s.py": "",
                     "docs/x.md": ""})  # fmt: skip
    config = load(tmp_path / "src")
    assert config.reference_roots == ("scripts", "tests")
    assert config.extra["reference_dirs"] == {
        "scripts": str(tmp_path / "scripts"),
        "tests": str(tmp_path / "tests"),
    }


def test_no_default_reference_roots_beside_a_folder_that_is_no_project(tmp_path: Path):
    write(tmp_path, {"repo/app.py": "", "tests/test_unrelated.py": ""})
    assert load(tmp_path / "repo").reference_roots == ()


def test_configured_reference_roots_are_relative_to_the_configuration(tmp_path: Path):
    write(tmp_path, {
        "pyproject.toml": '[tool.kloros]\nreference-roots = ["checks", "src/examples", "missing"]\n',
        "src/app/__init__.py": "", "src/examples/e.py": "", "checks/c.py": "", "tests/t.py": "",
    })  # fmt: skip
    config = load(tmp_path / "src")
    assert config.reference_roots == ("checks", "examples")  # examples/ is inside the tree
    assert config.extra["reference_dirs"] == {"checks": str(tmp_path / "checks")}
