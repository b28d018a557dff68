from kloros_site.analysis.paths import Ignore


def test_default_skips(tmp_path):
    ignore = Ignore(tmp_path)
    assert ignore.skips_file(".venv/lib/x.py")
    assert ignore.skips_file("pkg/__pycache__/x.py")
    assert ignore.skips_file("pkg/.hidden.py")
    assert ignore.skips_file("pkg/data.json")
    assert ignore.skips_file("pkg/mod.py~")
    assert not ignore.skips_file("pkg/mod.py")
    assert not ignore.skips_file("docs/guide.md")


def test_gitignore_patterns(tmp_path):
    (tmp_path / ".gitignore").write_text("# comment\nbuild/\n*_pb2.py\n/generated/*.py\n")
    ignore = Ignore(tmp_path, ["vendored"])
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
    found = sorted(p.relative_to(tmp_path).as_posix() for p in Ignore(tmp_path).walk())
    assert found == ["README.md", "pkg/a.py"]
