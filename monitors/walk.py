"""The one file walker: which files of a tree are analyzed, for the batch CLI, rescan and the watcher.

Every way files enter the analysis goes through `Walker`, so a batch scan and the stored
state of a watched tree see the same files by construction. A file is skipped when:

- it or a folder above it is hidden (name starts with "."), or a folder is in SKIPPED_DIRS;
- its suffix is not analyzed (WATCHED_SUFFIXES);
- a .gitignore says so, as git reads them: the tree's own, nested ones (patterns relative to
  their folder; the deeper file and the later line win; `!` re-includes), and those of the
  folders above the tree up to the repository root (the folder holding `.git`), plus
  `.git/info/exclude`;
- an extra pattern says so (`[tool.kloros] ignore`, KLR_IGNORE, `--exclude`): gitignore
  syntax relative to the tree root, applied last, so they win.

The folder a walk starts at is always walked, even when an enclosing .gitignore ignores it
(as ripgrep and ruff do): naming a folder is asking for it. Symlinked folders are not followed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from monitors import globs
from monitors.facts import CONFIG_SUFFIXES, DOC_SUFFIXES, PYTHON_SUFFIXES, TEMPLATE_SUFFIXES
from monitors.globs import Pattern

WATCHED_SUFFIXES = PYTHON_SUFFIXES + DOC_SUFFIXES + CONFIG_SUFFIXES + TEMPLATE_SUFFIXES
SKIPPED_DIRS = frozenset(
    {"__pycache__", ".venv", "venv", "node_modules", ".git", ".hg", ".svn", ".tox", ".state", "site-packages"}
)
REPOSITORY_MARKERS = (".git", ".hg")

# The .gitignore files in force in one folder, outermost first, each as (strip, lead, patterns):
# `lead + rel[strip:]` turns a tree-relative path into one relative to that file's folder.
Rules = tuple[tuple[int, str, tuple[Pattern, ...]], ...]


def hidden(name: str) -> bool:
    return name.startswith(".") or name.endswith("~")


def read_ignore_file(path: Path) -> tuple[Pattern, ...]:
    try:
        return globs.parse_lines(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return ()


class Walker:
    """The analyzed files of the tree at `root` (paths relative to it, POSIX separators)."""

    def __init__(self, root: Path, patterns: Sequence[str] = ()) -> None:
        self.root = root.resolve()
        self.patterns = globs.parse_lines(patterns)
        self._outer = self._enclosing_rules()
        self._own: dict[str, tuple[tuple[int, int], tuple[Pattern, ...]]] = {}  # folder -> (stat, rules)

    def _enclosing_rules(self) -> Rules:
        """.gitignore files of the folders above the tree, when the tree is inside a repository."""
        if any((self.root / marker).exists() for marker in REPOSITORY_MARKERS):
            return self._exclude_file(self.root, "")
        found: list[tuple[int, str, tuple[Pattern, ...]]] = []
        below = self.root.name
        for folder in self.root.parents:
            patterns = read_ignore_file(folder / ".gitignore")
            if patterns:
                found.append((0, below + "/", patterns))
            if any((folder / marker).exists() for marker in REPOSITORY_MARKERS):
                return self._exclude_file(folder, below + "/") + tuple(reversed(found))
            below = f"{folder.name}/{below}"
        return ()  # not in a repository: git reads no .gitignore above the tree

    @staticmethod
    def _exclude_file(repository: Path, lead: str) -> Rules:
        patterns = read_ignore_file(repository / ".git" / "info" / "exclude")
        return ((0, lead, patterns),) if patterns else ()

    def _folder_rules(self, rel_dir: str, has_file: bool | None = None) -> tuple[Pattern, ...]:
        """The patterns of `rel_dir`'s own .gitignore, re-read when it changes."""
        path = self.root / rel_dir / ".gitignore"
        if has_file is False:
            self._own.pop(rel_dir, None)
            return ()
        try:
            info = path.stat()
        except OSError:
            self._own.pop(rel_dir, None)
            return ()
        signature = (info.st_mtime_ns, info.st_size)
        cached = self._own.get(rel_dir)
        if cached is None or cached[0] != signature:
            cached = (signature, read_ignore_file(path))
            self._own[rel_dir] = cached
        return cached[1]

    def _rules(self, rel_dir: str) -> Rules:
        """Every .gitignore in force for entries of `rel_dir`, outermost first."""
        rules = list(self._outer)
        parts = rel_dir.split("/") if rel_dir else []
        for depth in range(len(parts) + 1):
            folder = "/".join(parts[:depth])
            own = self._folder_rules(folder)
            if own:
                rules.append((len(folder) + 1 if folder else 0, "", own))
        return tuple(rules)

    def _ignored(self, rules: Rules, rel: str, is_dir: bool) -> bool:
        verdict: bool | None = None
        for strip, lead, patterns in rules:
            verdict = globs.decide(patterns, lead + rel[strip:], is_dir, verdict)
        return bool(globs.decide(self.patterns, rel, is_dir, verdict))

    def skips_dir(self, rel: str) -> bool:
        """Whether the folder at `rel` (and everything in it) is left out."""
        parts = rel.split("/")
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            name = parts[depth - 1]
            if hidden(name) or name in SKIPPED_DIRS:
                return True
            if self._ignored(self._rules("/".join(parts[: depth - 1])), folder, True):
                return True
        return False

    def skips_file(self, rel: str) -> bool:
        """Whether the file at `rel` is left out: what the watcher asks of each event."""
        folder, _, name = rel.rpartition("/")
        if hidden(name) or not name.endswith(WATCHED_SUFFIXES):
            return True
        if folder and self.skips_dir(folder):
            return True
        return self._ignored(self._rules(folder), rel, False)

    def walk(
        self, top: Path | None = None, prune: Callable[[str], bool] | None = None
    ) -> Iterator[tuple[str, Path]]:
        """(relative path, absolute path) of every analyzed file under `top` (default: the root), sorted.

        `prune` sees relative paths of folders and files; True leaves them out.
        """
        top = self.root if top is None else top.resolve()
        start = top.relative_to(self.root).as_posix()
        start = "" if start == "." else start
        inherited = {start: self._rules(start)}  # the folder named is walked even if ignored
        for directory, dirnames, filenames in os.walk(top):
            rel_dir = Path(directory).relative_to(self.root).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir
            rules = inherited.pop(rel_dir)
            if rel_dir != start:
                own = self._folder_rules(rel_dir, ".gitignore" in filenames)
                rules = rules + ((len(rel_dir) + 1, "", own),) if own else rules
            prefix = f"{rel_dir}/" if rel_dir else ""
            kept = []
            for name in sorted(dirnames):
                rel = prefix + name
                if hidden(name) or name in SKIPPED_DIRS or self._ignored(rules, rel, True):
                    continue
                if prune and prune(rel):
                    continue
                kept.append(name)
                inherited[rel] = rules
            dirnames[:] = kept
            for name in sorted(filenames):
                rel = prefix + name
                if hidden(name) or not name.endswith(WATCHED_SUFFIXES) or self._ignored(rules, rel, False):
                    continue
                if prune and prune(rel):
                    continue
                yield rel, Path(directory) / name
