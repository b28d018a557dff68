"""Calls into other modules of the tree, whose meaning only those modules know (channel_facts).

`audit(event="user.viewed")` or `self.events.fire(topic="svc.done")` may be an endpoint
through a wrapper or an object of another module: record the value passed and where, as a
"call" the monitor resolves with that module's postings (monitors/channel_resolve.py). A
subscription whose topic arrives in a message (`msg["event_type"]`) is recorded as "received".
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from monitors.channel_bindings import ClassInfo, Env
from monitors.channel_endpoints import TOPIC, TOPIC_KEYWORDS
from monitors.channel_records import Spec, root_name, slots

if TYPE_CHECKING:
    from monitors.channel_facts import ChannelCollector


def speculate(c: ChannelCollector, node: ast.Call, env: Env, root: str) -> None:
    """A call into another module of the tree: record the values it passes, its meaning is known there."""
    topical = [(slot, arg) for slot, arg in slots(node) if slot == 0 or slot in TOPIC_KEYWORDS]
    args = [(slot, arg) for slot, arg in topical if may_carry_topic(arg, env)]
    chosen = [slot for slot, arg in topical if received(c, arg, env)]
    if not (args or chosen) or not reaches_tree(c, root, env):
        return
    for dotted, origin in c.callees(node, env):
        if origin != "tree" or c.specs(dotted):
            continue
        for slot, arg in args:
            for alt in c.ev.values(arg, env) or ():
                c.classify(alt, Spec("forward", None, None, (None,), dotted, slot), node.lineno)
        for slot in chosen:
            c.out.received.add((dotted, slot, node.lineno))


def received(c: ChannelCollector, arg: ast.expr, env: Env) -> bool:
    """`msg["event_type"]`, or a name bound to it: a topic that arrives in a field of a parameter
    (a client's message, a configuration), chosen by whoever sends it rather than by the tree."""
    if isinstance(arg, ast.Name) and not arg.id.isupper():
        found = c.ev.find(arg.id, env)
        return bool(
            found
            and found[0] == "bindings"
            and any(not b[2] and item_of_param(c, b[0], b[1]) for b in found[1])
        )
    return item_of_param(c, arg, env)


def item_of_param(c: ChannelCollector, expr: ast.expr, env: Env) -> bool:
    if not (isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name)):
        return False
    key = expr.slice  # a field named like a topic: msg["event_type"], not msg["id"]
    if not (isinstance(key, ast.Constant) and key.value in TOPIC_KEYWORDS):
        return False
    found = c.ev.find(expr.value.id, env)
    return bool(found and found[0] == "param")


def may_carry_topic(arg: ast.expr, env: Env) -> bool:
    """Cheaply: a literal topic, a parameter, a CONSTANT or Enum member, a string built from them."""
    if isinstance(arg, ast.Constant):
        return isinstance(arg.value, str) and TOPIC.fullmatch(arg.value) is not None
    if isinstance(arg, ast.Name):
        return arg.id.isupper() or (env.func is not None and arg.id in env.func.params)
    if isinstance(arg, ast.Attribute):
        return arg.attr.isupper() or arg.attr == "value"
    return isinstance(arg, ast.JoinedStr | ast.BinOp)


def reaches_tree(c: ChannelCollector, name: str | None, env: Env, shallow: bool = False) -> bool:
    """Cheaply: can a call rooted at `name` land in another module of the tree?"""
    found = c.ev.find(name, env) if name else None
    if found is None:
        return False
    kind, what, scope = found
    if kind == "alias":
        return what in c.classes or c.origin(what) == "tree"
    if kind == "self":
        return not shallow and tree_class(c, what)
    if kind == "param":
        return name in what.annotations
    if shallow:
        return False
    key = (name or "", id(scope))
    if key not in c.reaching:  # an object made by a call into the tree: one level deep
        c.reaching[key] = any(
            isinstance(b[0], ast.Call) and reaches_tree(c, root_name(b[0].func), b[1], True) for b in what
        )
    return c.reaching[key]


def tree_class(c: ChannelCollector, cls: ClassInfo) -> bool:
    """A class with a base, or an attribute made, in another module of the tree."""
    if cls.tree is None:
        cls.tree = False  # a cycle ends here
        made = [b[0].func for bs in cls.attrs.values() for b in bs if isinstance(b[0], ast.Call)]
        roots = {root_name(e) for e in made + cls.bases}
        cls.tree = any(reaches_tree(c, r, c.module, True) for r in roots if r)
    return cls.tree
