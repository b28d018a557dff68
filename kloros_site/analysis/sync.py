"""Bringing the stored state of a tree in line with the filesystem: start-up, rescan, overflow."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from kloros_site.analysis.models import SourceFile, Tree
from kloros_site.analysis.reader import read_version
from kloros_site.analysis.services import analysis_version
from monitors.walk import Walker


def stored_files(root: Path, prefix: str = "") -> dict[str, tuple[int, int, str]]:
    """{path: (size, mtime_ns, sha256)} of the live files stored for `root`, optionally under a folder.

    A file analyzed by other analysis code than this process runs counts as changed: its
    (size, mtime, sha256) is reported as unknown.
    """
    tree = Tree.objects.filter(path=str(root)).first()
    if tree is None:
        return {}
    # what a worker would store now: the analysis code and the tree's stored configuration
    current = analysis_version(tree.analysis_config())
    rows = SourceFile.objects.filter(tree=tree).exclude(status=SourceFile.Status.DELETED)
    if prefix:
        rows = rows.filter(path__startswith=prefix.rstrip("/") + "/")
    fields = rows.values_list("path", "size", "mtime_ns", "sha256", "engine_version")
    return {
        path: (size, mtime, sha) if version == current else (-1, -1, "")
        for path, size, mtime, sha, version in fields
    }


def changed_paths(root: Path, walker: Walker, max_bytes: int, *, only_changed: bool = True) -> Iterator[str]:
    """Paths that differ from what is stored: new, edited (by size and mtime, then hash) or deleted.

    A stat is a few microseconds and a hash tens: an unchanged tree of thousands of files
    is checked in well under a second, and nothing is sent for it.
    """
    stored = stored_files(root)
    seen: set[str] = set()
    for rel, path in walker.walk():
        seen.add(rel)
        if only_changed and rel in stored:
            size, mtime, sha = stored[rel]
            try:
                info = os.stat(path)
            except OSError:
                yield rel
                continue
            if info.st_size == size and info.st_mtime_ns == mtime:
                continue
            version = read_version(root, path, max_bytes)
            if version.sha256 and version.sha256 == sha:
                continue
        yield rel
    yield from sorted(stored.keys() - seen)
