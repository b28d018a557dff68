"""The scan a file gets instead of the full walk when it names no endpoint (channel_facts).

Only what other modules need of it (channel_exports.module_objects): module and class
assignments of constants and of objects calls make, `self.x = Class(...)` in `__init__`,
and attribute docstrings (a documented signal is a hook for code outside the tree).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from monitors.channel_bindings import ClassInfo

if TYPE_CHECKING:
    from monitors.channel_facts import ChannelCollector

COMPOUND = (ast.If, ast.Try, ast.With, ast.For, ast.While, ast.TryStar, ast.AsyncWith, ast.AsyncFor)


def scan(c: ChannelCollector, body: list[ast.stmt], qualname: str) -> None:
    """What exports need of a file that gets no full walk: module and class assignments, and
    `c.x = Class(...)` in methods (channel_exports.module_objects reads nothing else)."""
    enum = c.env.kind == "class" and c.env.cls is not None and c.env.cls.enum
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            if enum or exported(stmt.targets, stmt.value):
                c.assign(stmt.targets, stmt.value)
        elif isinstance(stmt, ast.AnnAssign):
            c.annotate(stmt.target, stmt.annotation)
            if stmt.value is not None and (enum or exported([stmt.target], stmt.value)):
                c.assign([stmt.target], stmt.value)
        elif isinstance(stmt, ast.ClassDef):
            name = f"{qualname}.{stmt.name}" if qualname else stmt.name
            c.enter_class(stmt, name)
            scan(c, stmt.body, name)
            c.leave()
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{qualname}.{stmt.name}" if qualname else stmt.name
            c.defs.add(name)
            cls = c.env.cls if c.env.kind == "class" else None
            args = stmt.args.posonlyargs + stmt.args.args
            if cls is not None and args and stmt.name == "__init__":
                constructed(c, stmt.body, cls, args[0].arg)
        elif isinstance(stmt, COMPOUND):
            scan_blocks(c, stmt, qualname)


def scan_blocks(c: ChannelCollector, stmt: ast.stmt, qualname: str) -> None:
    for part in ("body", "orelse", "finalbody"):
        scan(c, getattr(stmt, part, []), qualname)
    for handler in getattr(stmt, "handlers", []):
        scan(c, handler.body, qualname)


def constructed(c: ChannelCollector, body: list[ast.stmt], cls: ClassInfo, me: str) -> None:
    """`c.bus = EventBus()` anywhere in a method's statements."""
    for stmt in body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            for target in stmt.targets:
                if isinstance(target, ast.Attribute) and getattr(target.value, "id", None) == me:
                    cls.attrs.setdefault(target.attr, []).append((stmt.value, c.module, ()))
        elif isinstance(stmt, COMPOUND):
            for part in ("body", "orelse", "finalbody"):
                constructed(c, getattr(stmt, part, []), cls, me)
            for handler in getattr(stmt, "handlers", []):
                constructed(c, handler.body, cls, me)


def documented_names(body: list[ast.stmt]) -> set[str]:
    """Module-level names assigned right before a string: an attribute docstring (Sphinx), which
    is how an application documents a hook for plugins (pretix: `checkin_created = EventPluginSignal()`
    followed by \"\"\"Arguments: ...\"\"\")."""
    found: set[str] = set()
    for stmt, after in zip(body, body[1:], strict=False):
        if (
            isinstance(stmt, ast.Assign)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            found.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
    return found


def exported(targets: list[ast.expr], value: ast.expr) -> bool:
    """What channel_exports.module_objects reads of an assignment: an UPPER constant (or one a
    constant is built from: those are upper case too, by convention), or an object a call makes."""
    return isinstance(value, ast.Call) or any(isinstance(t, ast.Name) and t.id.isupper() for t in targets)
