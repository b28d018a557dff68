"""Which files of a watched tree are analyzed: the engine's one walker (monitors.walk), set up
as the batch CLI sets it up, so the stored state and `python -m monitors` see the same files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from kloros_site.analysis.models import Tree
from monitors.config import Config, load
from monitors.walk import Walker


def walker_for(root: Path) -> Walker:
    """The walker of a watched tree: .gitignore files, hidden and skipped folders, the tree's
    `[tool.kloros] ignore` globs, then KLR_IGNORE. Raises monitors.config.ConfigError."""
    return Walker(root, (*load(root).ignore, *settings.KLR_IGNORE))


def remember_config(root: Path) -> bool:
    """Store the tree's current [tool.kloros] for the workers; True when it changed (then every
    file's analysis is out of date: its version includes the configuration's digest).
    Raises monitors.config.ConfigError."""
    config: Config = load(root)
    tree, _ = Tree.objects.get_or_create(path=str(root))
    if tree.analysis_config() == config and tree.config:
        return False
    Tree.objects.filter(pk=tree.pk).update(config=config.to_json())
    return True
