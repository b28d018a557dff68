"""The records the channel collector produces, and small helpers on call nodes (no state)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from monitors.channel_algebra import Alt, join

Slot = int | str  # where an argument is passed: its position, or its keyword


@dataclass(frozen=True)
class Spec:
    """How a callable takes a topic: a role, where the argument is, and what the topic is built from it."""

    role: str  # "producer", "consumer", or "forward": passed on to `target` at `slot`, meaning unknown here
    pos: int | None
    kw: str | None
    tpl: tuple[str | None, ...] = (None,)  # the topic; None where the argument goes
    target: str = ""
    slot: Slot | None = None


@dataclass
class ChannelFacts:
    endpoints: set[tuple[str, str, str, int]] = field(default_factory=set)  # (kind, role, topic, line)
    via: set[tuple[str, str, int]] = field(default_factory=set)  # (role, constant of another module, line)
    calls: set[tuple[str, Slot | None, str, int, bool]] = field(
        default_factory=set
    )  # (callable, slot, value, line, is_sym)
    wrappers: dict[str, set[Spec]] = field(default_factory=dict)  # callable -> how it takes a topic
    consts: set[tuple[str, str]] = field(default_factory=set)  # (dotted constant, topic-like value)
    instances: set[tuple[str, str]] = field(default_factory=set)  # (module-level name, its class)
    bases: set[tuple[str, str]] = field(default_factory=set)  # (class, a base defined in the tree)
    # calls into another module passing a topic that arrives in a message: (callable, slot, line)
    received: set[tuple[str, Slot, int]] = field(default_factory=set)
    # Django Signal() objects defined here: (dotted, line, documented by an attribute docstring)
    signals: set[tuple[str, int, bool]] = field(default_factory=set)
    queues: list[tuple[str, str, list[int]]] = field(default_factory=list)  # (class, attr, put lines)
    queue_reads: set[str] = field(default_factory=set)  # attrs something gets from: obj.<attr>.get()


def root_name(expr: ast.expr) -> str | None:
    """`a` of `a.b.c(...)`, of `a(...).b` and of `a`."""
    while isinstance(expr, ast.Attribute | ast.Call):
        expr = expr.value if isinstance(expr, ast.Attribute) else expr.func
    return expr.id if isinstance(expr, ast.Name) else None


def argument(node: ast.Call, pos: int | None, kw: str | None) -> ast.expr | None:
    if kw:
        for keyword in node.keywords:
            if keyword.arg == kw:
                return keyword.value
    if pos is not None:
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                return None
            if i == pos:
                return arg
    return None


def starred(node: ast.Call, pos: int | None) -> tuple[ast.expr, int] | None:
    """(the starred expression, the index in it) of positional argument `pos` after a `*x`."""
    if pos is None:
        return None
    for i, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            return (arg.value, pos - i) if i <= pos else None
    return None


def slots(node: ast.Call) -> list[tuple[Slot, ast.expr]]:
    out: list[tuple[Slot, ast.expr]] = []
    for i, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            break
        out.append((i, arg))
    return out + [(k.arg, k.value) for k in node.keywords if k.arg]


def substitute(tpl: tuple[str | None, ...], alt: Alt) -> Alt | None:
    parts: list = []
    for piece in tpl:
        parts.extend(alt if piece is None else (piece,))
    joined = join([tuple(parts)])
    return joined[0] if joined else None
