"""What a receiver is: the objects of expressions, for the channel evaluator.

An object is ("dotted", name, origin), ("instance", class, origin) or ("self", class, "local"):
what `bus` in `bus.publish(...)` is decides whether the call is an endpoint. ObjectResolver
finds names in the scopes the collector built (monitors/channel_scopes.py) and follows
assignments, annotations and local class hierarchies; it is the base of the Evaluator
(monitors/channel_values.py), kept apart because receivers need no string values.
"""

from __future__ import annotations

import ast
from typing import Any

from monitors.channel_bindings import ClassInfo, Env, Obj


class ObjectResolver:
    """Objects of expressions, given the scopes the collector built for one file."""

    def __init__(
        self, module: Env, classes: dict[str, ClassInfo], origin: Any, lower_classes: Any = ()
    ) -> None:
        self.module = module
        self.lower_classes = lower_classes  # classes not named like one
        self.classes = classes  # local classes by qualname
        self.origin = origin  # dotted -> "local" | "tree" | "stdlib" | "external" | "unbound"

    # -- names -------------------------------------------------------------------

    def find(self, name: str, env: Env) -> tuple[str, Any, Env] | None:
        """Where `name` is bound, seen from `env`: ("param"|"bindings"|"alias"|"self", what, scope)."""
        scope: Env | None = env
        while scope is not None:
            if scope.kind == "function":
                if scope.self_name == name and scope.cls is not None:
                    return ("self", scope.cls, scope)
                if scope.func is not None and name in scope.func.params:
                    return ("param", scope.func, scope)
            if scope.kind != "class" or scope is env:
                if name in scope.aliases:
                    return ("alias", scope.aliases[name], scope)
                if name in scope.names:
                    return ("bindings", scope.names[name], scope)
            scope = scope.parent
        return None

    def family(self, cls: ClassInfo) -> list[ClassInfo]:
        """The class, its local bases, and the local subclasses that may override its constants."""
        out = [cls]
        for other in self.classes.values():
            if other is not cls and (cls in self.ancestors(other) or other in self.ancestors(cls)):
                out.append(other)
        return out

    def ancestors(self, cls: ClassInfo, depth: int = 0) -> list[ClassInfo]:
        if cls.lineage is not None:
            return cls.lineage
        cls.lineage = []  # a cycle (class A(A)) ends here
        out = []
        for base in cls.bases:
            found = self.obj(base, self.module)
            parent = self.classes.get(found[1]) if found and found[2] == "local" else None
            if parent is not None and parent is not cls and depth < 8:
                out += [parent, *self.ancestors(parent, depth + 1)]
        cls.lineage = out
        return out

    # -- objects -----------------------------------------------------------------

    def obj(self, expr: ast.expr, env: Env, depth: int = 0) -> Obj | None:
        if depth > 8:
            return None
        if isinstance(expr, ast.Name):
            return self.name_obj(expr.id, env, depth)
        if isinstance(expr, ast.Attribute):
            return self.attribute_obj(expr, env, depth)
        if isinstance(expr, ast.Call):
            func = self.obj(expr.func, env, depth + 1)
            if func is None or func[0] != "dotted":
                return None
            dotted, origin = func[1], func[2]
            last = dotted.rpartition(".")[2]
            lower_class = dotted in self.lower_classes  # collections.deque
            if dotted in self.classes or lower_class or (origin != "local" and last[:1].isupper()):
                return ("instance", dotted, origin)
        return None

    def attribute_obj(self, expr: ast.Attribute, env: Env, depth: int) -> Obj | None:
        base = self.obj(expr.value, env, depth + 1)
        if base is None:
            return None
        kind, dotted, origin = base
        cls = self.classes.get(dotted) if origin == "local" else None
        if cls is not None:
            return self.member_obj(cls, kind, expr.attr, depth)
        if kind == "dotted" and origin != "local":
            return ("dotted", f"{dotted}.{expr.attr}", origin)
        if kind == "instance" and origin == "tree":  # hass.bus: the module of HomeAssistant knows
            return ("dotted", f"{dotted}.{expr.attr}", origin)
        return None

    def member_obj(self, cls: ClassInfo, kind: str, attr: str, depth: int) -> Obj | None:
        """`Cls.attr`, `self.attr`, `instance.attr` of a class of this module (or its bases here);
        an attribute no class here binds is the one a base in another module of the tree declares
        (Entity.hass: that module posts what it is, monitors/channel_resolve.py classes_of)."""
        lineage = [cls, *self.ancestors(cls)]
        bound = False
        for c in lineage:
            bindings = c.body_names.get(attr, [])
            if kind != "dotted":
                bindings = bindings + c.attrs.get(attr, [])
                note = c.annotated.get(attr)
                found = self.annotated_obj(note, c.env or self.module, depth) if note is not None else None
                if found is not None:
                    return found
            bound = bound or bool(bindings)
            for expr2, env2, path in bindings:
                found = None if path else self.obj(expr2, env2, depth + 1)
                if found is not None:
                    return found
            if attr in c.methods:
                return ("dotted", f"{c.qualname}.{attr}", "local")
        if not bound:
            for c in lineage:
                for base in c.bases:
                    found = self.obj(base, self.module, depth + 1)
                    if found and found[0] == "dotted" and found[2] == "tree":
                        return ("dotted", f"{found[1]}.{attr}", "tree")
        return None

    def annotated_obj(self, note: ast.expr, env: Env, depth: int = 0) -> Obj | None:
        """The instance an annotation names: `HomeAssistant`, `core.HomeAssistant`, `HomeAssistant | None`."""
        if isinstance(note, ast.BinOp) and isinstance(note.op, ast.BitOr):
            return self.annotated_obj(note.left, env, depth) or self.annotated_obj(note.right, env, depth)
        if not isinstance(note, ast.Name | ast.Attribute):
            return None
        found = self.obj(note, env, depth + 1)
        if found and found[0] == "dotted" and found[2] not in ("stdlib", "unbound"):
            return ("instance", found[1], found[2])
        return None

    def name_obj(self, name: str, env: Env, depth: int) -> Obj | None:
        found = self.find(name, env)
        if found is None:
            return ("dotted", name, "unbound")
        kind, what, _ = found
        if kind == "self":
            return ("self", what.qualname, "local")
        if kind == "alias":
            return ("dotted", what, self.origin(what))
        if kind == "param":
            note = what.annotations.get(name)
            typ = self.obj(note, self.module, depth + 1) if note is not None else None
            return ("instance", typ[1], typ[2]) if typ and typ[0] == "dotted" else None
        for expr, scope, path in what:
            found_obj = None if path else self.obj(expr, scope, depth + 1)
            if found_obj is not None:
                return found_obj
        return None
