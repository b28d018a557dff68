"""gitignore-style patterns: what .gitignore files, `[tool.kloros]` globs and KLR_IGNORE mean.

One syntax everywhere, the one git documents (gitignore(5)):

- a pattern with no slash (but a trailing one) matches a file or folder name at any depth;
- a pattern with a slash at the start or in the middle matches from the base folder
  (the folder holding the .gitignore, or the tree root for configured patterns);
- a trailing slash matches folders only; `!` re-includes what an earlier pattern excluded;
- `*` and `?` stop at `/`, `**/` is any number of folders, a trailing `/**` everything inside;
- the last matching pattern wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool
    anchored: bool  # matched against the path from the base folder, not only the name

    def matches(self, path: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        return bool(self.regex.fullmatch(path if self.anchored else path.rpartition("/")[2]))


def translate(glob: str) -> str:
    """The regular expression of one gitignore glob (no `!`, no trailing slash)."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*" and glob.startswith("**", i) and (i == 0 or glob[i - 1] == "/"):
            if i + 2 == n:
                out.append(".*")  # "dir/**": everything inside
                i += 2
                continue
            if glob[i + 2] == "/":
                out.append("(?:.*/)?")  # "**/": zero or more folders
                i += 3
                continue
        if c == "*":
            while i + 1 < n and glob[i + 1] == "*":
                i += 1  # other runs of stars are one star
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (end := glob.find("]", i + 2)) != -1:
            body = glob[i + 1 : end]
            if body[0] in "!^":
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def parse(line: str) -> Pattern | None:
    """One line of a .gitignore (or one configured glob); None for blanks and comments."""
    line = line.rstrip("\r\n")
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    if not line or line.startswith("#"):
        return None
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    return Pattern(re.compile(translate(line.lstrip("/"))), negate, dir_only, anchored)


def parse_lines(lines: Iterable[str]) -> tuple[Pattern, ...]:
    return tuple(p for p in map(parse, lines) if p is not None)


def decide(patterns: Sequence[Pattern], path: str, is_dir: bool, verdict: bool | None = None) -> bool | None:
    """True (excluded), False (re-included) or the given verdict when no pattern matches."""
    for pattern in patterns:
        if pattern.matches(path, is_dir):
            verdict = not pattern.negate
    return verdict


@lru_cache(maxsize=64)
def compiled(globs: tuple[str, ...]) -> tuple[Pattern, ...]:
    return parse_lines(globs)


def matches(globs: Sequence[str], path: str) -> bool:
    """Whether a file at `path` (relative to the tree root), or a folder above it, is matched."""
    patterns = compiled(tuple(globs))
    if not patterns:
        return False
    parts = path.split("/")
    for depth in range(1, len(parts)):
        if decide(patterns, "/".join(parts[:depth]), True):
            return True
    return bool(decide(patterns, path, False))


def rebase(glob: str, prefix: str) -> str | None:
    """A glob written relative to a folder, made relative to its subfolder `prefix` ("src").

    `[tool.kloros]` patterns are written from the folder holding pyproject.toml, but paths in
    the analysis start at the tree root, which may be below it (`src/`). Returns None for an
    anchored glob that can match nothing under `prefix`.
    """
    if not prefix:
        return glob
    negate, body = ("!", glob[1:]) if glob.startswith("!") else ("", glob)
    if "/" not in body.rstrip("/"):
        return glob  # a name: matches at any depth, below the prefix too
    parts = body.lstrip("/").split("/")
    for folder in prefix.split("/"):
        if not parts or parts[0] == "**":
            break  # "**/x" matches at any depth already
        if not fnmatchcase(folder, parts[0]) or len(parts) == 1:
            return None
        parts = parts[1:]
    rest = "/".join(parts)
    if not rest:
        return None
    return negate + ("" if "/" in rest.rstrip("/") else "/") + rest
