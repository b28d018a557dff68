"""Which files of a watched tree are analyzed: suffixes, always-skipped folders, ignore patterns."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

from monitors.scan import SKIPPED_DIRS as ENGINE_SKIPPED_DIRS
from monitors.scan import WATCHED_SUFFIXES

SKIPPED_DIRS = ENGINE_SKIPPED_DIRS | {".hg", ".svn", ".tox", ".state"}


class Ignore:
    """Skipped folders, hidden entries, editor temp files, plus gitignore-style patterns.

    Patterns follow the common subset of .gitignore: a pattern with no slash matches any
    path component; one with a slash matches from the root; a trailing slash means folders.
    """

    def __init__(self, root: Path, patterns: list[str] | None = None) -> None:
        self.root = root
        self.patterns = list(patterns or [])
        gitignore = root / ".gitignore"
        if gitignore.is_file():
            for line in gitignore.read_text(errors="replace").splitlines():
                line = line.strip()
                if line and not line.startswith(("#", "!")):
                    self.patterns.append(line)

    def _matches(self, rel: str, is_dir: bool) -> bool:
        parts = rel.split("/")
        for pattern in self.patterns:
            dir_only = pattern.endswith("/")
            pattern = pattern.rstrip("/")
            if "/" in pattern:
                target = pattern.lstrip("/")
                if fnmatch.fnmatch(rel, target) or any(
                    fnmatch.fnmatch("/".join(parts[: i + 1]), target) for i in range(len(parts) - 1)
                ):
                    return True
            else:
                names = parts if is_dir or not dir_only else parts[:-1]
                if any(fnmatch.fnmatch(name, pattern) for name in names):
                    return True
        return False

    def skips_dir(self, rel: str) -> bool:
        name = rel.rsplit("/", 1)[-1]
        return name in SKIPPED_DIRS or name.startswith(".") or self._matches(rel, True)

    def skips_file(self, rel: str) -> bool:
        parts = rel.split("/")
        if any(p in SKIPPED_DIRS or p.startswith(".") for p in parts):
            return True
        name = parts[-1]
        if not name.endswith(WATCHED_SUFFIXES) or name.endswith("~"):
            return True
        return self._matches(rel, False)

    def walk(self) -> Iterator[Path]:
        """Every analyzed file under the root; symlinked folders are not followed."""
        return self.walk_under(self.root)

    def walk_under(self, top: Path) -> Iterator[Path]:
        for dirpath, dirnames, filenames in os.walk(top):
            base = Path(dirpath)
            rel_base = base.relative_to(self.root).as_posix()
            prefix = "" if rel_base == "." else rel_base + "/"
            dirnames[:] = sorted(d for d in dirnames if not self.skips_dir(prefix + d))
            for name in sorted(filenames):
                if not self.skips_file(prefix + name):
                    yield base / name
