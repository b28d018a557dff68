"""What the channel collector's scopes hold: functions, classes, scopes and their bindings.

Every assignment, loop target, `with ... as` and parameter becomes a Binding (an expression
and the scope it is evaluated in), kept per name and flow-insensitive. These are the data
types ScopeRecorder (monitors/channel_scopes.py) builds during the walk and the evaluator
(monitors/channel_values.py) reads at the end; kept apart from the recorder because the
evaluator, the scan and the tree resolution read them without recording anything.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any


class Func:
    """A function or method as its call sites see it; its parameter tables are built when first asked."""

    __slots__ = ("callable", "line", "args", "bound", "env", "_params", "_defaults", "_annotations")

    def __init__(self, callable_: str, line: int, args: ast.arguments | None, bound: bool, env: Any) -> None:
        self.callable = callable_
        self.line = line
        self.args = args
        self.bound = bound  # a method: call sites do not pass its first parameter
        self.env = env  # the scope the function is defined in (its defaults are evaluated there)
        self._params: dict[str, int | None] | None = None
        self._defaults: dict[str, ast.expr] = {}
        self._annotations: dict[str, ast.expr] = {}

    @property
    def params(self) -> dict[str, int | None]:
        """Name -> position at call sites (None: keyword-only)."""
        if self._params is None:
            self._params = {}
            if self.args is not None:
                a = self.args
                positional = a.posonlyargs + a.args
                shown = positional[1:] if self.bound else positional
                self._params = {p.arg: i for i, p in enumerate(shown)} | {p.arg: None for p in a.kwonlyargs}
                tail = positional[len(positional) - len(a.defaults) :]
                self._defaults = {p.arg: d for p, d in zip(tail, a.defaults, strict=True)}
                self._defaults |= {p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d}
                self._annotations = {p.arg: p.annotation for p in shown if p.annotation is not None}
        return self._params

    @property
    def defaults(self) -> dict[str, ast.expr]:
        return self._defaults if self.params is not None else {}

    @property
    def annotations(self) -> dict[str, ast.expr]:
        return self._annotations if self.params is not None else {}

    def release(self) -> None:
        self.args, self.env, self._params, self._defaults, self._annotations = None, None, {}, {}, {}


@dataclass(eq=False)
class ClassInfo:
    qualname: str
    node: ast.ClassDef | None
    env: Env | None
    bases: list[ast.expr]
    attrs: dict[str, list[Binding]] = field(default_factory=dict)  # self.x = ... in any method
    annotated: dict[str, ast.expr] = field(default_factory=dict)  # `hass: HomeAssistant = None` in the body
    methods: dict[str, Func] = field(default_factory=dict)
    resolved: list[tuple[str, str]] | None = None  # (dotted, origin) of the bases, once resolved
    lineage: list[ClassInfo] | None = None  # local ancestors, once resolved
    tree: bool | None = None  # reaches another module of the tree (channel_facts.tree_class)
    tree_hint: bool = False  # a base or an attribute comes from the tree (known during the walk)

    @property
    def enum(self) -> bool:
        """Named like an Enum on some base (enum.Enum, StrEnum, IntEnum): its members are constants."""
        return any(last_name(base).endswith("Enum") for base in self.bases)

    @property
    def body_names(self) -> dict[str, list[Binding]]:
        """Names bound in the class body (empty once released)."""
        return self.env.names if self.env is not None else {}


class Env:
    """A module, class or function scope; names map to every binding they get (flow-insensitive)."""

    __slots__ = ("kind", "qualname", "parent", "names", "func", "cls", "self_name", "aliases")

    def __init__(self, kind: str, qualname: str, parent: Env | None) -> None:
        self.kind = kind
        self.qualname = qualname
        self.parent = parent  # lexical: a function's parent is never a class body
        self.names: dict[str, list[Binding]] = {}
        self.func: Func | None = None
        self.cls: ClassInfo | None = None  # the class body, or the class whose `self` a method has
        self.self_name: str | None = None
        self.aliases: dict[str, str] = {}  # imports and definitions: name -> dotted


# expression, the scope it is evaluated in, how the name is unpacked from it ("iter", or an index)
Binding = tuple[ast.expr, Env, tuple[Any, ...]]
# what an object expression is: ("dotted", name, origin), ("instance", class, origin), ("self", class, "local")
Obj = tuple[str, str, str]
# an element of a collection: ("expr", node, env), ("vals", values), ("pair", first, second)
Item = tuple[Any, ...]


def last_name(expr: ast.expr) -> str:
    """`Enum` of `enum.Enum`, without resolving anything."""
    return expr.id if isinstance(expr, ast.Name) else expr.attr if isinstance(expr, ast.Attribute) else ""
