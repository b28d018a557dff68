"""Structural hashes of function and class bodies, built during the collector's single walk.

The collector reports every node it enters and leaves; a Unit turns that stream into a
token list where names bound inside the unit (parameters, assignments, loop targets)
are replaced by their order of first appearance. Two functions that differ only in
local names, docstrings or their own name hash the same; calls to different globals,
different attributes or different constant types do not.
"""

from __future__ import annotations

import ast
import hashlib

# Below this a "clone" is an idiom (a getter, a delegating call), not a shared responsibility.
MIN_STATEMENTS = 3
MIN_NODES = 25


class Unit:
    __slots__ = ("tokens", "stored", "nodes", "statements", "qualname", "line")

    def __init__(self, qualname: str, line: int) -> None:
        self.tokens: list[str | tuple[str]] = []
        self.stored: set[str] = set()
        self.nodes = 0
        self.statements = 0
        self.qualname = qualname
        self.line = line

    def enter(self, node: ast.AST) -> None:
        self.tokens.append(node.__class__.__name__)
        self.nodes += 1
        if isinstance(node, ast.stmt):
            self.statements += 1

    def leave(self) -> None:
        self.tokens.append(")")

    def word(self, word: str) -> None:
        self.tokens.append(word)

    def name(self, name: str, store: bool) -> None:
        self.tokens.append((name,))
        if store:
            self.stored.add(name)

    def digest(self) -> str:
        local: dict[str, str] = {}
        out: list[str] = []
        for token in self.tokens:
            if isinstance(token, tuple):
                name = token[0]
                out.append(local.setdefault(name, f"\x00{len(local)}") if name in self.stored else name)
            else:
                out.append(token)
        return hashlib.blake2b("\x1f".join(out).encode(), digest_size=10).hexdigest()

    def big_enough(self) -> bool:
        return self.statements >= MIN_STATEMENTS and self.nodes >= MIN_NODES
