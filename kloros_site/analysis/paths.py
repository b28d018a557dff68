"""Which files of a watched tree are analyzed: the engine's one walker (monitors.walk), set up
as the batch CLI sets it up, so the stored state and `python -m monitors` see the same files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from monitors.config import load
from monitors.walk import Walker


def walker_for(root: Path) -> Walker:
    """The walker of a watched tree: .gitignore files, hidden and skipped folders, the tree's
    `[tool.kloros] ignore` globs, then KLR_IGNORE. Raises monitors.config.ConfigError."""
    return Walker(root, (*load(root).ignore, *settings.KLR_IGNORE))
