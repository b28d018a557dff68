"""What a topic expression can be: a small flow-insensitive evaluator.

The channel collector records, while the one walk runs, every assignment, loop and parameter
as a Binding (monitors/channel_scopes.py); at the end of the file it asks this module what
values an argument can have. A value
is a list of alternatives; an alternative is a tuple of parts, each a literal string, a
Param (the topic is whatever a caller passes) or a Sym (a name another module of the tree
defines): monitors/channel_algebra.py. Only names are followed, never calls: the analyzed
code is never run. What a receiver is (the objects of expressions) is the base class, in
monitors/channel_objects.py.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from monitors.channel_algebra import Param, Sym, Values, concat, union
from monitors.channel_bindings import Binding, ClassInfo, Env, Item
from monitors.channel_objects import ObjectResolver


class Evaluator(ObjectResolver):
    """Values and objects of expressions, given the scopes the collector built for one file."""

    def __init__(
        self,
        module: Env,
        classes: dict[str, ClassInfo],
        origin: Any,
        lower_classes: Any = (),
        arguments: Any = None,
    ) -> None:
        super().__init__(module, classes, origin, lower_classes)
        # (func, parameter) -> bindings of what this module's calls pass it (channel_facts.arguments)
        self.arguments: Callable[[Any, str], list[Binding]] = arguments or (lambda func, name: [])
        self.busy: set[tuple[int, ...] | tuple[int, int, str]] = set()
        self.memo: dict[tuple[int, int], Values] = {}

    # -- bindings ----------------------------------------------------------------

    def bound(self, binding: Binding) -> list[Item]:
        """The items a binding gives its name, after unpacking."""
        expr, env, path = binding
        items: list[Item] = [("expr", expr, env)]
        for step in path:
            nxt: list[Item] = []
            for item in items:
                if step == "iter":
                    nxt += self.items_of(item) or []
                elif step == "member":  # x.append(item): an element of x, not a value of it
                    nxt += [("member", item[1], item[2])] if item[0] == "expr" else []
                else:
                    nxt += self.index(item, step)
            items = nxt
        return items

    def index(self, item: Item, i: int) -> list[Item]:
        if item[0] == "pair":
            return [item[1 + i]] if i < 2 and item[1 + i] is not None else []
        if item[0] == "expr" and isinstance(item[1], ast.Tuple | ast.List) and i < len(item[1].elts):
            return [("expr", item[1].elts[i], item[2])]
        return []

    # -- string values -----------------------------------------------------------

    def values(self, expr: ast.expr, env: Env) -> Values:
        key = (id(expr), id(env))
        if key in self.memo:
            return self.memo[key]
        if key in self.busy:
            return None  # x = x + "a": a cycle has no value
        self.busy.add(key)
        try:
            result = self._values(expr, env)
        finally:
            self.busy.discard(key)
        self.memo[key] = result
        return result

    def item_values(self, item: Item) -> Values:
        if item[0] == "vals":
            return item[1]
        if item[0] == "expr":
            return self.values(item[1], item[2])
        return None

    def _values(self, expr: ast.expr, env: Env) -> Values:
        if isinstance(expr, ast.Constant):
            return [(expr.value,)] if isinstance(expr.value, str) else None
        if isinstance(expr, ast.Name):
            return self.name_values(expr.id, env)
        if isinstance(expr, ast.Attribute):
            return self.attribute_values(expr, env)
        if isinstance(expr, ast.JoinedStr):
            return self.fstring(expr, env)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return concat(self.values(expr.left, env), self.values(expr.right, env))
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod):
            return self.percent(expr, env)
        if isinstance(expr, ast.IfExp):
            return union([self.values(expr.body, env), self.values(expr.orelse, env)])
        if isinstance(expr, ast.BoolOp):
            return union([self.values(v, env) for v in expr.values])
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "str":
            return self.values(expr.args[0], env) if len(expr.args) == 1 else None
        if isinstance(expr, ast.Subscript) or is_get(expr):
            return union([self.item_values(item) for item in self.looked_up(expr, env)])
        return None

    def looked_up(self, expr: ast.expr, env: Env) -> list[Item]:
        """What `MAP[key]` or `MAP.get(key)` can be: the value under a literal key, else any value
        (a dict of constants: SIGNAL_MAP[update_type]); any element of a list or tuple."""
        base = expr.value if isinstance(expr, ast.Subscript) else expr.func.value  # type: ignore[attr-defined]
        key = expr.slice if isinstance(expr, ast.Subscript) else expr.args[0]  # type: ignore[attr-defined]
        dicts = self.dict_literals(base, env)
        if dicts:
            wanted = key.value if isinstance(key, ast.Constant) else None
            chosen = [(v, e) for d, e in dicts for k, v in zip(d.keys, d.values, strict=True)
                      if wanted is None or (isinstance(k, ast.Constant) and k.value == wanted)]  # fmt: skip
            return [("expr", v, e) for v, e in chosen or [(v, e) for d, e in dicts for v in d.values]]
        return (self.items(base, env) or []) if isinstance(expr, ast.Subscript) else []

    def element(self, expr: ast.expr, env: Env, i: int) -> Values:
        """The values of element `i` of what `expr` holds: `*dispatch` of dispatches.append((SIGNAL, x))."""
        bindings: list[Binding] = [(expr, env, ())]
        if isinstance(expr, ast.Name):
            found = self.find(expr.id, env)
            bindings = found[1] if found and found[0] == "bindings" else []
        held = [item for binding in bindings for item in self.bound(binding)]
        return union([self.item_values(part) for item in held for part in self.index(item, i)])

    def fstring(self, expr: ast.JoinedStr, env: Env) -> Values:
        result: Values = [("",)]
        for part in expr.values:
            if isinstance(part, ast.FormattedValue):
                if part.format_spec is not None or part.conversion not in (-1, ord("s")):
                    return None
                result = concat(result, self.values(part.value, env))
            else:
                result = concat(result, self.values(part, env))
        return result

    def percent(self, expr: ast.BinOp, env: Env) -> Values:
        """ "%s.created" % PREFIX: only plain %s."""
        if not (isinstance(expr.left, ast.Constant) and isinstance(expr.left.value, str)):
            return None
        pieces = expr.left.value.split("%s")
        if "%" in "".join(pieces):
            return None
        args = expr.right.elts if isinstance(expr.right, ast.Tuple) else [expr.right]
        if len(args) != len(pieces) - 1:
            return None
        result: Values = [(pieces[0],)]
        for arg, piece in zip(args, pieces[1:], strict=True):
            result = concat(concat(result, self.values(arg, env)), [(piece,)])
        return result

    def name_values(self, name: str, env: Env) -> Values:
        found = self.find(name, env)
        if found is None:
            return None
        kind, what, scope = found
        if kind == "param":
            return [(Param(what.callable, name),)]
        if kind == "alias":
            origin = self.origin(what)
            if origin == "local":  # a function or class of this module: not a string
                return None
            # a try/except ImportError fallback may also bind a literal
            literal = union([self.item_values(i) for b in scope.names.get(name, ()) for i in self.bound(b)])
            return union([[(Sym(what),)], literal])
        if kind == "bindings":
            return union([self.item_values(item) for b in what for item in self.bound(b)])
        return None

    def attribute_values(self, expr: ast.Attribute, env: Env) -> Values:
        attr = expr.attr
        if attr in ("value", "name") and isinstance(expr.value, ast.Attribute):  # Enum members
            member = expr.value
            owner = self.obj(member.value, env)
            if owner is not None and owner[0] == "dotted":
                if attr == "name":
                    return [(member.attr,)]
                if owner[2] != "local":
                    return [(Sym(f"{owner[1]}.{member.attr}"),)]
        owner = self.obj(expr.value, env)
        if owner is None:
            return self.values(expr.value, env) if attr == "value" else None  # loop over an Enum
        kind, dotted, origin = owner
        cls = self.classes.get(dotted) if origin == "local" else None
        if cls is not None:
            found = [self.class_values(c, attr) for c in self.family(cls)]
            if kind in ("self", "instance"):
                found += [self.item_values(i) for b in cls.attrs.get(attr, ()) for i in self.bound(b)]
            return union(found)
        if kind == "dotted" and origin not in ("local", "unbound", "stdlib"):
            return [(Sym(f"{dotted}.{attr}"),)]
        return None

    def class_values(self, cls: ClassInfo, attr: str) -> Values:
        return union([self.item_values(i) for b in cls.body_names.get(attr, ()) for i in self.bound(b)])

    # -- collections -------------------------------------------------------------

    def items_of(self, item: Item) -> list[Item] | None:
        if item[0] == "vals":
            return [item]  # iterating an imported constant: one of its values
        if item[0] == "member":
            return [("expr", item[1], item[2])]
        if item[0] == "expr":
            return self.items(item[1], item[2])
        return None

    def items(self, expr: ast.expr, env: Env) -> list[Item] | None:
        key = (id(expr), id(env), "items")
        if key in self.busy:
            return None  # x = x + [...]
        self.busy.add(key)
        try:
            return self._items(expr, env)
        finally:
            self.busy.discard(key)

    def _items(self, expr: ast.expr, env: Env) -> list[Item] | None:
        if isinstance(expr, ast.Subscript) or is_get(expr):  # for signal in MAP.get(kind, ()):
            return [i for item in self.looked_up(expr, env) for i in self.items_of(item) or []] or None
        if isinstance(expr, ast.List | ast.Tuple | ast.Set):
            return [("expr", e, env) for e in expr.elts if not isinstance(e, ast.Starred)]
        if isinstance(expr, ast.Dict):
            return [("expr", k, env) for k in expr.keys if k is not None]
        if isinstance(expr, ast.Call):
            return self.call_items(expr, env)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = self.items(expr.left, env), self.items(expr.right, env)
            return None if left is None or right is None else left + right
        if isinstance(expr, ast.Name | ast.Attribute):
            owner = self.obj(expr, env)
            if owner is not None and owner[0] == "dotted" and owner[1] in self.classes:
                members = self.classes[owner[1]].body_names  # iterating an Enum class: its members
                return [i for bs in members.values() for b in bs for i in self.bound(b)]
            vals = self.values(expr, env)
            if vals is not None and all(len(a) == 1 and isinstance(a[0], Sym) for a in vals):
                return [("vals", vals)]
            return self.named_items(expr, env)
        return None

    def named_items(self, expr: ast.Name | ast.Attribute, env: Env) -> list[Item] | None:
        bindings: list[Binding] = []
        if isinstance(expr, ast.Name):
            found = self.find(expr.id, env)
            if found and found[0] == "bindings":
                bindings = found[1]
            elif found and found[0] == "param":  # a collection handed in: what local callers pass
                bindings = self.arguments(found[1], expr.id)
        else:
            owner = self.obj(expr.value, env)
            cls = self.classes.get(owner[1]) if owner and owner[2] == "local" else None
            if cls is not None:
                bindings = [b for c in self.family(cls) for b in c.body_names.get(expr.attr, ())]
        out: list[Item] = []
        for binding in bindings:
            for item in self.bound(binding):
                out += self.items_of(item) or []
        return out or None

    def call_items(self, call: ast.Call, env: Env) -> list[Item] | None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("items", "keys", "values") and not call.args:
            base = func.value
            if isinstance(base, ast.Name | ast.Attribute) and self.values(base, env):
                vals = self.values(base, env)  # an imported dict: its keys
                if vals and all(len(a) == 1 and isinstance(a[0], Sym) for a in vals):
                    key: Item = ("vals", vals)
                    return [("pair", key, None)] if func.attr == "items" else [key]
            dicts = self.dict_literals(base, env)
            if func.attr == "keys":
                return [("expr", k, e) for d, e in dicts for k in d.keys if k is not None]
            if func.attr == "values":
                return [("expr", v, e) for d, e in dicts for v in d.values]
            return [
                ("pair", ("expr", k, e), ("expr", v, e))
                for d, e in dicts
                for k, v in zip(d.keys, d.values, strict=True)
                if k is not None
            ]
        if isinstance(func, ast.Name) and len(call.args) == 1:
            if func.id in ("sorted", "list", "tuple", "set", "reversed", "frozenset", "iter"):
                return self.items(call.args[0], env)
            if func.id == "enumerate":
                inner = self.items(call.args[0], env)
                return None if inner is None else [("pair", None, i) for i in inner]
        return None

    def dict_literals(self, expr: ast.expr, env: Env) -> list[tuple[ast.Dict, Env]]:
        if isinstance(expr, ast.Dict):
            return [(expr, env)]
        if isinstance(expr, ast.Name):
            found = self.find(expr.id, env)
            if found and found[0] == "bindings":
                return [(b[0], b[1]) for b in found[1] if isinstance(b[0], ast.Dict) and not b[2]]
        if isinstance(expr, ast.Attribute):
            owner = self.obj(expr.value, env)
            cls = self.classes.get(owner[1]) if owner and owner[2] == "local" else None
            if cls is not None:
                return [(b[0], b[1]) for b in cls.body_names.get(expr.attr, ()) if isinstance(b[0], ast.Dict)]
        return []


def is_get(expr: ast.expr) -> bool:
    """`MAP.get(key)` / `MAP.get(key, default)`."""
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "get"
        and 1 <= len(expr.args) <= 2
    )
