"""The pipeline walks a watched tree exactly as the batch CLI does (issue 10, item 7)."""

from pathlib import Path

import pytest

from kloros_site.analysis.paths import walker_for
from kloros_site.analysis.sync import changed_paths
from monitors.config import load
from monitors.scan import source_files

pytestmark = pytest.mark.django_db


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_the_cli_and_the_pipeline_walk_the_same_files(tmp_path: Path):
    root = tmp_path / "repo"
    write(root, {
        ".gitignore": "build/\n*_pb2.py\n!keep_pb2.py\n",
        "pyproject.toml": '[tool.kloros]\nignore = ["vendor/**", "*.tmp.py"]\n',
        "app/__init__.py": "", "app/a.py": "", "app/msg_pb2.py": "", "app/keep_pb2.py": "",
        "app/x.tmp.py": "", "app/.hidden.py": "", "app/__pycache__/a.py": "",
        "app/sub/.gitignore": "local.py\n", "app/sub/local.py": "", "app/sub/b.py": "",
        "build/gen.py": "", "vendor/six.py": "", ".github/ci.py": "", "node_modules/m.py": "",
        "docs/guide.md": "", "setup.cfg": "",
    })  # fmt: skip
    cli = sorted(rel for rel, _ in source_files(root, load(root)))
    pipeline = sorted(changed_paths(root, walker_for(root), 1 << 20, only_changed=False))
    assert cli == pipeline == [
        "app/__init__.py", "app/a.py", "app/keep_pb2.py", "app/sub/b.py", "docs/guide.md", "pyproject.toml",
        "setup.cfg",
    ]  # fmt: skip


@pytest.mark.django_db
def test_the_tree_configuration_is_stored_for_the_workers_and_a_change_is_noticed(tmp_path):
    from kloros_site.analysis.models import Tree
    from kloros_site.analysis.paths import remember_config

    (tmp_path / "pyproject.toml").write_text('[tool.kloros]\nkind = "application"\ntests = ["qa/**"]\n')
    assert remember_config(tmp_path) is True
    assert Tree.objects.get().analysis_config().tests == ("qa/**",)
    assert remember_config(tmp_path) is False
    (tmp_path / "pyproject.toml").write_text('[tool.kloros]\nkind = "application"\ntests = ["checks/**"]\n')
    assert remember_config(tmp_path) is True
    assert Tree.objects.get().analysis_config().tests == ("checks/**",)


def test_nothing_has_changed_in_a_tree_analyzed_with_its_own_configuration(tmp_path):
    # seen in the latency bench: `manage.py watch` after `manage.py rescan` of the same unchanged
    # tree found all of its 500 files "changed since last run" and analyzed them again
    from kloros_site.analysis.paths import remember_config
    from kloros_site.analysis.reader import read_version
    from kloros_site.analysis.services import record

    write(tmp_path, {"pyproject.toml": '[tool.kloros]\nkind = "application"\n', "a.py": "x = 1\n"})
    assert remember_config(tmp_path) is True  # as watch and rescan do first
    for rel in ("a.py", "pyproject.toml"):
        record(read_version(tmp_path, tmp_path / rel, 1 << 20))
    assert list(changed_paths(tmp_path, walker_for(tmp_path), 1 << 20)) == []
