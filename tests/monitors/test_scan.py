from pathlib import Path

from monitors import WATCHED_SUFFIXES, AnalysisError, analyze, iter_source_files, scan_tree
from tests.monitors.monitor_helpers import batch


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_walker_skips_hidden_cache_and_venv_dirs_and_unwatched_files(tmp_path: Path):
    write(tmp_path, {"a.py": "", "doc.md": "", "x.js": "", ".git/b.py": "", "__pycache__/c.py": "",
                     ".venv/d.py": "", "node_modules/e.py": "", "sub/f.rst": ""})  # fmt: skip
    assert [rel for rel, _ in iter_source_files(tmp_path)] == ["a.py", "doc.md", "sub/f.rst"]
    assert [rel for rel, _ in iter_source_files(tmp_path, ignore=lambda rel: rel == "sub")] == [
        "a.py",
        "doc.md",
    ]
    assert ".py" in WATCHED_SUFFIXES and ".md" in WATCHED_SUFFIXES


def test_a_package_root_is_named_as_it_is_imported(tmp_path: Path):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "import pkg.b\n"})
    assert [rel for rel, _ in iter_source_files(tmp_path / "pkg")] == ["pkg/__init__.py", "pkg/a.py"]
    store, _ = scan_tree(tmp_path / "pkg")
    assert any(q.capability_key == "module.pkg.b" for q in store.all_questions().values())


def test_scan_tree_equals_in_memory_batch_and_reports_failures(tmp_path: Path):
    files = {
        "a.py": 'ChemPub().emit("t.x")\n',
        "b.py": "def f(:\n",
        "c.py": "class K:\n    def m(self):\n        self.q.x()\n",
    }
    write(tmp_path, files)
    store, errors = scan_tree(tmp_path)
    assert set(errors) == {"b.py"} and errors["b.py"].reason == "syntax_error"
    assert store.all_questions() == batch({k: v for k, v in files.items() if k != "b.py"}).all_questions()


def test_analysis_errors_have_stable_reasons():
    for data, reason in [
        (b"x = 1\x00", "nul_bytes"),
        (b"def (:", "syntax_error"),
        (b"x = '\xff\xfe'", "undecodable"),
    ]:
        try:
            analyze("a.py", data)
        except AnalysisError as exc:
            assert exc.reason == reason
        else:
            raise AssertionError(f"{data!r} should not analyze")


def test_a_file_that_fails_analysis_still_exists_for_its_importers(tmp_path: Path):
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/broken.py": "def f(:\n",
            "pkg/__main__.py": "from pkg.broken import f\n",
        },
    )
    store, errors = scan_tree(tmp_path)
    assert set(errors) == {"pkg/broken.py"}
    assert not [
        q for q in store.all_questions().values() if q.hypothesis in ("MISSING_WIRING", "UNDISCOVERED_MODULE")
    ]


def test_tests_may_import_missing_things_on_purpose():
    assert not [q for q in batch({"pkg/__init__.py": "", "tests/test_x.py": "import pkg.nope\n"}).all_questions().values()
                if q.hypothesis == "MISSING_WIRING"]  # fmt: skip
