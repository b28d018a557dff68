"""Bringing the stored state of a tree in line with the filesystem: start-up, rescan, overflow."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from kloros_site.analysis.models import SourceFile
from kloros_site.analysis.paths import Ignore
from kloros_site.analysis.reader import read_version
from kloros_site.analysis.services import FileVersion

Dispatch = Callable[[FileVersion], None]


def stored_files(root: Path, prefix: str = "") -> dict[str, str]:
    """{path: sha256} of the live files stored for `root`, optionally under a folder prefix."""
    rows = SourceFile.objects.filter(tree__path=str(root)).exclude(status=SourceFile.Status.DELETED)
    if prefix:
        rows = rows.filter(path__startswith=prefix.rstrip("/") + "/")
    return dict(rows.values_list("path", "sha256"))


def versions(root: Path, ignore: Ignore, max_bytes: int, *, only_changed: bool) -> Iterator[FileVersion]:
    """A version for every file that differs from what is stored (or every file), then deletions."""
    stored = stored_files(root)
    seen: set[str] = set()
    for path in ignore.walk():
        version = read_version(root, path, max_bytes)
        seen.add(version.path)
        if only_changed and version.sha256 and stored.get(version.path) == version.sha256:
            continue
        yield version
    for rel in sorted(stored.keys() - seen):
        yield read_version(root, root / rel, max_bytes)
