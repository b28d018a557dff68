"""The one file walker (monitors.walk): .gitignore as git reads it, hidden and skipped folders,
configured patterns; and the per-path answers the watcher asks agree with the walk."""

import os
from pathlib import Path

import pytest

from monitors import globs
from monitors.walk import Walker


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def walked(walker: Walker, top: Path | None = None) -> list[str]:
    return sorted(rel for rel, _ in walker.walk(top))


def every_file(root: Path) -> list[str]:
    return sorted(
        (Path(d) / name).relative_to(root).as_posix() for d, _, names in os.walk(root) for name in names
    )


TREE = {
    ".gitignore": "# generated\nbuild/\n*_pb2.py\n/top_only.py\n!keep_pb2.py\ndocs/**/draft.md\n",
    "top_only.py": "",
    "pkg/top_only.py": "",
    "pkg/a.py": "",
    "pkg/msg_pb2.py": "",
    "pkg/keep_pb2.py": "",
    "pkg/build.py": "",
    "pkg/build/gen.py": "",
    "pkg/.hidden.py": "",
    "pkg/.cache/x.py": "",
    "pkg/__pycache__/a.py": "",
    "pkg/mod.py~": "",
    "pkg/data.json": "",
    "node_modules/lib.py": "",
    ".venv/lib.py": "",
    "site-packages/six.py": "",
    "sub/.gitignore": "*.md\n!README.md\n/local.py\nvendored/\n",
    "sub/guide.md": "",
    "sub/README.md": "",
    "sub/local.py": "",
    "sub/deeper/local.py": "",
    "sub/vendored/v.py": "",
    "other/guide.md": "",
    "docs/a/b/draft.md": "",
    "docs/draft.md": "",
    "docs/final.md": "",
    "gen/out.py": "",
    "README.md": "",
}
EXPECTED = [
    "README.md",
    "docs/final.md",
    "other/guide.md",
    "pkg/a.py",
    "pkg/build.py",
    "pkg/keep_pb2.py",
    "pkg/top_only.py",
    "sub/README.md",
    "sub/deeper/local.py",
]


def test_gitignore_files_nested_ones_hidden_and_skipped_folders_and_patterns(tmp_path: Path):
    write(tmp_path, TREE)
    assert walked(Walker(tmp_path, ["gen/"])) == EXPECTED


def test_what_the_watcher_asks_of_one_path_agrees_with_the_walk(tmp_path: Path):
    write(tmp_path, TREE)
    walker = Walker(tmp_path, ["gen/"])
    assert [rel for rel in every_file(tmp_path) if not walker.skips_file(rel)] == EXPECTED
    assert walker.skips_dir("pkg/build") and walker.skips_dir("sub/vendored") and walker.skips_dir(".git")
    assert not walker.skips_dir("pkg") and not walker.skips_dir("sub/deeper")


def test_gitignore_above_the_tree_counts_up_to_the_repository_root(tmp_path: Path):
    write(tmp_path, {".gitignore": "*.gen.py\n/src/skipped/\n", "src/a.py": "", "src/x.gen.py": "",
                     "src/skipped/b.py": "", "src/kept/c.py": ""})  # fmt: skip
    assert walked(Walker(tmp_path / "src")) == ["a.py", "kept/c.py", "skipped/b.py", "x.gen.py"]
    (tmp_path / ".git").mkdir()  # now the folder above is the repository: its .gitignore applies
    assert walked(Walker(tmp_path / "src")) == ["a.py", "kept/c.py"]
    assert Walker(tmp_path / "src").skips_file("skipped/b.py")


def test_the_folder_named_is_walked_even_if_an_enclosing_gitignore_ignores_it(tmp_path: Path):
    # pyenv's own .gitignore says /versions: scanning an installed stdlib must still work
    write(
        tmp_path, {".gitignore": "/versions\n", "versions/3.13/lib/os.py": "", "versions/3.13/lib/x.pyc": ""}
    )
    (tmp_path / ".git").mkdir()
    assert walked(Walker(tmp_path / "versions" / "3.13")) == ["lib/os.py"]
    assert walked(Walker(tmp_path)) == []


def test_walking_below_the_root_names_paths_from_the_root_and_keeps_its_rules(tmp_path: Path):
    write(tmp_path, {".gitignore": "skip.py\n", "pkg/__init__.py": "", "pkg/skip.py": "", "pkg/a.py": "",
                     "other.py": ""})  # fmt: skip
    assert walked(Walker(tmp_path), tmp_path / "pkg") == ["pkg/__init__.py", "pkg/a.py"]


def test_a_changed_gitignore_is_read_again(tmp_path: Path):
    write(tmp_path, {"a.py": "", "sub/b.py": ""})
    walker = Walker(tmp_path)
    assert not walker.skips_file("sub/b.py")
    (tmp_path / ".gitignore").write_text("sub/\n")
    assert walker.skips_file("sub/b.py") and walked(walker) == ["a.py"]
    (tmp_path / ".gitignore").write_text("# nothing\n")
    assert not walker.skips_file("sub/b.py") and walked(walker) == ["a.py", "sub/b.py"]


def test_prune_sees_folders_and_files(tmp_path: Path):
    write(tmp_path, {"a.py": "", "sub/b.py": "", "c.py": ""})
    assert [rel for rel, _ in Walker(tmp_path).walk(prune=lambda rel: rel in ("sub", "c.py"))] == ["a.py"]


@pytest.mark.parametrize(
    "glob, path, is_dir, expected",
    [
        ("*.py", "a/b/c.py", False, True),
        ("*.py", "a/b.pyc", False, False),
        ("build/", "build", True, True),
        ("build/", "build", False, False),  # a trailing slash means folders only
        ("/top.py", "top.py", False, True),
        ("/top.py", "sub/top.py", False, False),
        ("a/*.py", "a/x.py", False, True),
        ("a/*.py", "a/b/x.py", False, False),  # * does not cross folders
        ("a/**/x.py", "a/x.py", False, True),
        ("a/**/x.py", "a/b/c/x.py", False, True),
        ("**/x.py", "b/x.py", False, True),
        ("a/**", "a/b/c", False, True),
        ("a/**", "a", True, False),
        ("file?.py", "file1.py", False, True),
        ("[!a]b.py", "ab.py", False, False),
        ("[!a]b.py", "cb.py", False, True),
        ("\\#hash.py", "#hash.py", False, True),
        ("trailing.py   ", "trailing.py", False, True),
    ],
)
def test_pattern_syntax(glob: str, path: str, is_dir: bool, expected: bool):
    pattern = globs.parse(glob)
    assert pattern is not None and pattern.matches(path, is_dir) is expected


def test_comments_and_blanks_are_no_patterns_and_the_last_match_wins():
    assert globs.parse("# comment") is None and globs.parse("   ") is None
    patterns = globs.parse_lines(["*.py", "!keep.py"])
    assert globs.decide(patterns, "keep.py", False) is False and globs.decide(patterns, "x.py", False) is True
    assert globs.matches(["gen/"], "gen/sub/a.py") and not globs.matches(["gen/"], "gen.py")


@pytest.mark.parametrize(
    "glob, prefix, expected",
    [
        ("src/gen/**", "src", "gen/**"),
        ("src/gen", "src", "/gen"),
        ("/src/gen/", "src", "/gen/"),
        ("docs/**", "src", None),  # outside the tree: matches nothing there
        ("*_pb2.py", "src", "*_pb2.py"),  # a name matches at any depth
        ("**/gen", "src", "**/gen"),
        ("!src/keep.py", "src", "!/keep.py"),
        ("build/**", "", "build/**"),
    ],
)
def test_globs_written_from_pyproject_are_rebased_onto_the_tree(glob: str, prefix: str, expected: str | None):
    assert globs.rebase(glob, prefix) == expected


# moved from tests/kloros_site/analysis/test_paths.py with kloros_site's Ignore, which this walker replaces
def test_default_skips(tmp_path):
    ignore = Walker(tmp_path)
    assert ignore.skips_file(".venv/lib/x.py")
    assert ignore.skips_file("pkg/__pycache__/x.py")
    assert ignore.skips_file("pkg/.hidden.py")
    assert ignore.skips_file("pkg/data.json")
    assert ignore.skips_file("pkg/mod.py~")
    assert not ignore.skips_file("pkg/mod.py")
    assert not ignore.skips_file("docs/guide.md")


def test_gitignore_patterns(tmp_path):
    (tmp_path / ".gitignore").write_text("# comment\nbuild/\n*_pb2.py\n/generated/*.py\n")
    ignore = Walker(tmp_path, ["vendored"])
    assert ignore.skips_file("build/lib/x.py")
    assert ignore.skips_file("pkg/msg_pb2.py")
    assert ignore.skips_file("generated/a.py")
    assert not ignore.skips_file("pkg/generated/a.py")
    assert ignore.skips_file("vendored/six.py")
    assert ignore.skips_dir("build")
    assert not ignore.skips_file("pkg/build.py")


def test_walk_lists_only_analyzed_files(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("")
    (tmp_path / "pkg" / "b.bin").write_text("")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "hook.py").write_text("")
    (tmp_path / "README.md").write_text("")
    assert walked(Walker(tmp_path)) == ["README.md", "pkg/a.py"]
