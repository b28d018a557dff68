"""Structural hashes of function and class bodies, built during the collector's single walk.

The collector reports every node it enters and leaves (Visitor.visit appends the node's class
name to `tokens` and ")" after its children); a Unit turns that stream into a
token list where names bound inside the unit (parameters, assignments, loop targets)
are replaced by their order of first appearance. Two functions that differ only in
local names, docstrings or their own name hash the same; calls to different globals,
different attributes or different constant types do not.
"""

from __future__ import annotations

import hashlib

# Below this a "clone" is an idiom (a getter, a delegating call), not a shared responsibility.
MIN_STATEMENTS = 3
MIN_NODES = 25


class Unit:
    __slots__ = ("tokens", "names", "stored", "nodes", "statements", "qualname", "line")

    def __init__(self, qualname: str, line: int) -> None:
        self.tokens: list[str] = []
        self.names: list[int] = []  # where in tokens a name stands (renamed if bound inside)
        self.stored: set[str] = set()
        self.nodes = 0
        self.statements = 0
        self.qualname = qualname
        self.line = line

    def word(self, word: str) -> None:
        self.tokens.append(word)

    def name(self, name: str, store: bool) -> None:
        self.names.append(len(self.tokens))
        self.tokens.append(name)
        if store:
            self.stored.add(name)

    def digest(self) -> str:
        # only the name tokens can change: renaming visits them, not every token
        local: dict[str, str] = {}
        out = self.tokens.copy()
        stored = self.stored
        for at in self.names:
            name = out[at]
            if name in stored:
                renamed = local.get(name)
                if renamed is None:
                    renamed = local[name] = f"\x00{len(local)}"
                out[at] = renamed
        return hashlib.blake2b("\x1f".join(out).encode(), digest_size=10).hexdigest()

    def big_enough(self) -> bool:
        return self.statements >= MIN_STATEMENTS and self.nodes >= MIN_NODES
