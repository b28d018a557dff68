"""Batch scanning: walk a tree, analyze every watched file, evaluate once.

Paths in the store are relative to the *import root*: the scanned directory, or the
directory above it when it is itself a package (has __init__.py), so that scanning
`site-packages/django` names modules `django.db...` exactly as the code imports them.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from monitors.engine import MemoryStore, analyze_or_placeholder, rebuild
from monitors.facts import CONFIG_SUFFIXES, DOC_SUFFIXES, PYTHON_SUFFIXES, TEMPLATE_SUFFIXES, AnalysisError

WATCHED_SUFFIXES = PYTHON_SUFFIXES + DOC_SUFFIXES + CONFIG_SUFFIXES + TEMPLATE_SUFFIXES
SKIPPED_DIRS = {"__pycache__", ".venv", "venv", "node_modules", ".git", "site-packages"}

Ignore = Callable[[str], bool]  # relative POSIX path (file or directory) -> skip it?


def skipped_dir(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_DIRS


def import_root(root: Path) -> Path:
    root = root.resolve()
    while (root / "__init__.py").is_file() and root.parent != root:
        root = root.parent
    return root


def iter_source_files(root: Path, ignore: Ignore | None = None) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, absolute path) of every watched file under root, sorted.

    Relative paths start at import_root(root). `ignore` sees those relative paths for
    directories and files alike; returning True prunes a directory or skips a file.
    """
    root = root.resolve()
    base = import_root(root)
    for directory, dirnames, filenames in os.walk(root):
        rel_dir = Path(directory).relative_to(base).as_posix()
        prefix = "" if rel_dir == "." else f"{rel_dir}/"
        dirnames[:] = sorted(
            d for d in dirnames if not skipped_dir(d) and not (ignore and ignore(prefix + d))
        )
        for name in sorted(filenames):
            rel = prefix + name
            if name.endswith(WATCHED_SUFFIXES) and not (ignore and ignore(rel)):
                yield rel, Path(directory) / name


@contextmanager
def gc_paused() -> Iterator[None]:
    """Building many ASTs with the cyclic GC on is several times slower; nothing here makes cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def scan_tree(root: Path, ignore: Ignore | None = None) -> tuple[MemoryStore, dict[str, AnalysisError]]:
    """Analyze every watched file under root into a fresh MemoryStore and evaluate every key.

    Returns the store (questions via store.all_questions()) and {relative path: AnalysisError}
    for files that could not be analyzed (unreadable files get reason "unreadable"). Files that
    fail analysis still count as existing (engine.placeholder), as a watcher should treat them.
    """
    store = MemoryStore()
    errors: dict[str, AnalysisError] = {}
    for rel, path in iter_source_files(root, ignore):
        try:
            data = path.read_bytes()
        except OSError as exc:
            errors[rel] = AnalysisError("unreadable", str(exc))
            continue
        postings, error = analyze_or_placeholder(rel, data)
        store.replace_postings(rel, postings)
        if error is not None:
            errors[rel] = error
    rebuild(store)
    return store, errors
