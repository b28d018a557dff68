"""Small helpers shared by the monitors for building postings and reading them back."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from monitors.registry import Lookup, Postings
from monitors.roots import ROOTS_KEY, root_postings


def ancestors(dotted: str) -> list[str]:
    """ "a.b.c" -> ["a", "a.b"]: the packages a module lives in."""
    parts = dotted.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def add_line(postings: Postings, key: str, field: str, line: int) -> None:
    """postings[key][field] is a sorted list of distinct lines."""
    lines = postings.setdefault(key, {}).setdefault(field, [])
    if line not in lines:
        lines.append(line)
        lines.sort()


def evidence(entries: dict[str, Any], field: str) -> list[str]:
    """ "path:line" for every line listed under `field` in each file's payload."""
    return [f"{path}:{line}" for path, payload in entries.items() for line in payload.get(field, [])]


def sorted_pairs(pairs: Iterable[tuple[Any, ...]]) -> list[list[Any]]:
    """JSON keeps lists, never tuples; sorting keeps payloads equal across runs."""
    return sorted([list(pair) for pair in set(pairs)])


def here(lookup: Lookup, module: str) -> bool:
    """A module file or a directory of modules (namespace package) by exactly that dotted name."""
    return lookup.exists(f"module:{module}") or lookup.exists(f"prefix:{module}")


def roots(lookup: Lookup) -> list[str]:
    """The other roots the tree imports itself under (monitors/roots.py), as dotted folders."""
    if not lookup.exists(ROOTS_KEY):
        return []
    return sorted({root for found in lookup(ROOTS_KEY).values() for root in found})


def resolve(lookup: Lookup, module: str, extra: Iterable[str] = ()) -> str | None:
    """The tree's name of `module` as code imports it: itself, or under one of its roots
    (`kloros.bus` is `src.kloros.bus` in a src-layout); None when the tree has no such module.
    `extra` adds roots of the importing files only (a script's own folder)."""
    if here(lookup, module):
        return module
    for root in [*roots(lookup), *extra]:
        if here(lookup, f"{root}.{module}"):
            return f"{root}.{module}"
    return None


def exists(lookup: Lookup, module: str, extra: Iterable[str] = ()) -> bool:
    return resolve(lookup, module, extra) is not None


def in_project(lookup: Lookup, dotted: str, extra: Iterable[str] = ()) -> bool:
    """Whether the top-level package or module of `dotted` is part of the tree (under any root)."""
    return exists(lookup, dotted.split(".")[0], extra)


def is_private(dotted: str) -> bool:
    """A leading underscore on the name or any enclosing module or class (dunders aside), or __main__.

    In a library only these are internal: everything else may be used by the library's users.
    """
    return any(
        part == "__main__" or (part.startswith("_") and not (part.startswith("__") and part.endswith("__")))
        for part in dotted.split(".")
    )


def module_postings(facts: Any, postings: Postings, payload: Any = True) -> None:
    """`module:<name>` for the file itself, `prefix:<pkg>` for every package containing it, and the
    roots the file adds (`roots:all`)."""
    root_postings(facts, postings)
    if facts.module:
        postings[f"module:{facts.module}"] = payload
        for prefix in ancestors(facts.module):
            postings[f"prefix:{prefix}"] = True
