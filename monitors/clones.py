"""Structural hashes of function and class bodies, built during the collector's single walk.

The collector reports every node it enters and leaves (Visitor.visit appends the node's class
name to `tokens` and ")" after its children, inlined for speed; the module's unit is told through
`enter`/`leave`); a Unit turns that stream into a
token list where names bound inside a function (parameters, assignments, loop targets)
are replaced by their order of first appearance. Two functions that differ only in
local names, docstrings or their own name hash the same; calls to different globals,
different attributes or different constant types do not.

Constants count by value: a literal is its value, and a module constant (an UPPER_CASE
name, PEP 8) is what the module binds it to (`PLATFORMS = [Platform.SENSOR]`) or the
module it was imported from (`from .const import DOMAIN`). Two plugins' unload hooks of one
shape, each popping its own DOMAIN's data, are two configurations, not one responsibility.
A class body binds attributes, not locals: its names are its interface and count as written.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Mapping

# Below this a "clone" is an idiom (a getter, a delegating call), not a shared responsibility.
MIN_STATEMENTS = 3
MIN_NODES = 25


def short_hash(parts: list[str]) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=10).hexdigest()


class Unit:
    """The token stream of one function, class or module body, and its size."""

    __slots__ = ("tokens", "names", "stored", "nodes", "statements", "qualname", "line", "attributes")

    def __init__(self, qualname: str, line: int, attributes: bool = False) -> None:
        self.tokens: list[str] = []
        self.names: list[int] = []  # where in tokens a name stands (renamed if bound inside)
        self.stored: set[str] = set()
        self.nodes = 0
        self.statements = 0
        self.qualname = qualname
        self.line = line
        self.attributes = attributes  # a class body: the names it binds are kept as written

    def enter(self, node: ast.AST) -> None:
        """The walk entered `node`: its type is a token; statements and nodes count the size
        (what Visitor.visit does inline for every unit but the module's)."""
        self.tokens.append(node.__class__.__name__)
        self.nodes += 1
        if isinstance(node, ast.stmt):
            self.statements += 1

    def leave(self) -> None:
        self.tokens.append(")")

    def word(self, word: str) -> None:
        self.tokens.append(word)

    def name(self, name: str, store: bool) -> None:
        """A name the body uses; `store` when it binds it (a local, or a class body's attribute)."""
        self.names.append(len(self.tokens))
        self.tokens.append(name)
        if store:
            self.stored.add(name)

    def digest(self, outer: list[Unit] | None = None, aliases: Mapping[str, str] | None = None) -> str:
        """The hash of the body; `outer` (the units around this one) and `aliases` (the module's
        imports) let module constants count by value. Only name tokens can change: renaming
        visits them by position, not every token."""
        module = outer[0] if outer and isinstance(outer[0], ModuleUnit) else None
        local: dict[str, str] = {}
        out = self.tokens.copy()
        stored = self.stored
        for at in self.names:
            name = out[at]
            if name in stored:
                if not self.attributes:
                    renamed = local.get(name)
                    if renamed is None:
                        renamed = local[name] = f"\x00{len(local)}"
                    out[at] = renamed
            elif module is not None and name.isupper():
                out[at] = module.constant(name, aliases or {})
        return short_hash(out)

    def big_enough(self) -> bool:
        return self.statements >= MIN_STATEMENTS and self.nodes >= MIN_NODES


class ModuleUnit(Unit):
    """The whole module's unit; it also records what its top-level constants are bound to."""

    __slots__ = ("depth", "pending", "values")

    def __init__(self, qualname: str, line: int) -> None:
        super().__init__(qualname, line)
        self.depth = 0
        self.pending: tuple[str, int] | None = None  # (constant, first token of its assignment)
        self.values: dict[str, str] = {}  # constant -> hash of its assignment

    def enter(self, node: ast.AST) -> None:
        """As Unit.enter; a top-level `CONSTANT = value` starts recording the value's tokens."""
        super().enter(node)
        self.depth += 1
        if self.depth == 1 and isinstance(node, ast.Assign | ast.AnnAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target = node.target
            if isinstance(target, ast.Name) and target.id.isupper():
                self.pending = (target.id, len(self.tokens))

    def leave(self) -> None:
        """As Unit.leave; the end of a recorded top-level assignment binds the constant's value."""
        super().leave()
        self.depth -= 1
        if self.depth == 0 and self.pending is not None:
            name, start = self.pending
            self.values[name] = "=" + short_hash(self.tokens[start:])
            self.pending = None

    def constant(self, name: str, aliases: Mapping[str, str]) -> str:
        """What an UPPER_CASE name stands for in this module: its value, or where it was imported from."""
        if name in self.values:
            return self.values[name]
        target = aliases.get(name)
        if target is not None and target != f"{self.qualname}.{name}":  # imported, not defined here
            return target
        return name
