"""What the channel collector records during the one walk: scopes, bindings, functions and classes.

Every assignment, loop target, `with ... as` and parameter becomes a Binding (an expression
and the scope it is evaluated in), kept per name and flow-insensitive: a name that is bound
to several values has all of them. Only at the end of the file does anything get evaluated
(monitors/channel_values.py), so definition order does not matter. The value algebra lives
here too: a value is a list of alternatives, each a tuple of parts (a literal string, a Param:
whatever a caller passes, or a Sym: a name another module of the tree defines).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from monitors.channel_endpoints import QUEUE_GETS, SIGNAL_METHODS, STDLIB

MAX_ALTS = 32  # beyond this a value is unknown: a topic built from a cross product is no topic


@dataclass(frozen=True, slots=True)
class Param:
    callable: str  # the dotted name its call sites call: "pkg.mod.fire", "pkg.mod.Listener" (constructor)
    name: str


@dataclass(frozen=True, slots=True)
class Sym:
    dotted: str  # "pkg.topics.ORDER": defined by another module, which posts its values


Part = str | Param | Sym
Alt = tuple[Part, ...]
Values = list[Alt] | None  # None: unknown


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


def join(alts: list[Alt]) -> list[Alt]:
    """Merge adjacent literals; drop alternatives with more than one unknown part."""
    out = []
    for alt in alts:
        parts: list[Part] = []
        for part in alt:
            if isinstance(part, str) and parts and isinstance(parts[-1], str):
                parts[-1] += part
            elif part != "":
                parts.append(part)
        if sum(not isinstance(p, str) for p in parts) <= 1:
            out.append(tuple(parts) if parts else ("",))
    return out


def concat(left: Values, right: Values) -> Values:
    if left is None or right is None or len(left) * len(right) > MAX_ALTS:
        return None
    return join([a + b for a in left for b in right])


def union(values: list[Values]) -> Values:
    known = [v for v in values if v is not None]
    if not known:
        return None
    out: list[Alt] = []
    for alts in known:
        out += [a for a in alts if a not in out]
    return out if len(out) <= MAX_ALTS else None


def last_name(expr: ast.expr) -> str:
    """`Enum` of `enum.Enum`, without resolving anything."""
    return expr.id if isinstance(expr, ast.Name) else expr.attr if isinstance(expr, ast.Attribute) else ""


STATIC = {"staticmethod"}


class ScopeRecorder:
    """The hooks FactCollector calls while it walks one module."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.top = module.split(".")[0]
        self.script = "." not in module and not is_package  # a script at the top of the tree
        self.module = Env("module", module, None)
        self.prefix = module + "."
        self.env = self.module
        self.envs: list[Env] = [self.module]
        self.stack: list[Env] = []
        self.classes: dict[str, ClassInfo] = {}
        self.funcs: dict[str, Func] = {}  # by the name call sites call
        self.defs: set[str] = set()
        self.scopes_with_imports: list[Env] = [self.module]
        self.calls: dict[str, list[tuple[ast.Call, Env]]] = {}
        self.queue_candidates: list[tuple[ClassInfo, str, ast.expr, Env]] = []
        # names that may lead into another module of the tree, and the calls rooted at them:
        # only those are looked at again at the end (most calls of a file are not)
        self.tree_names: set[str] = set()
        self.tree_calls: list[tuple[ast.Call, Env, str]] = []
        self.signal_refs: list[tuple[ast.Attribute, Env]] = []  # bound signal methods kept for later

    def in_tree(self, dotted: str) -> bool:
        """The file's own top-level package; for a script at the top of the tree, any non-stdlib one."""
        top = dotted.split(".")[0]
        return top == self.top or (self.script and top not in STDLIB)

    def bound(self, name: str, target: str | None) -> None:
        """An import or definition binds `name` to `target` in the current scope."""
        if not target:
            return
        here = self.env.qualname
        if target == here:
            return  # a def or class bound from inside itself (the walk enters it first): see enter_*
        self.env.aliases[name] = target
        if self.env.kind == "function" and self.env not in self.scopes_with_imports:
            self.scopes_with_imports.append(self.env)
        if target != (f"{here}.{name}" if here else name) and self.in_tree(target):  # not defined here
            self.tree_names.add(name)

    def enter_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> None:
        outer = self.env
        env = Env("function", qualname, outer.parent if outer.kind == "class" else outer)
        callable_ = qualname
        bound = False
        if outer.kind == "class" and outer.cls is not None:
            first = node.args.posonlyargs[:1] or node.args.args[:1]
            if first and not any(isinstance(d, ast.Name) and d.id in STATIC for d in node.decorator_list):
                env.self_name = first[0].arg
                bound = True
            env.cls = outer.cls
            if node.name == "__init__":
                callable_ = outer.cls.qualname  # call sites construct the class
        elif outer.kind == "function":
            env.cls, env.self_name = outer.cls, outer.self_name  # a closure over the method's self
        func = env.func = Func(callable_, node.lineno, node.args, bound, outer)
        outer.aliases.setdefault(node.name, qualname)  # @receiver(x) before `def x` sees the import
        if self.tree_names:
            for arg in node.args.args + node.args.kwonlyargs:  # hass: HomeAssistant
                if arg.annotation is not None and root_of(arg.annotation) in self.tree_names:
                    self.tree_names.add(arg.arg)
        self.funcs.setdefault(callable_, func)
        if outer.kind == "class" and outer.cls is not None:
            outer.cls.methods.setdefault(node.name, func)
        self.defs.add(qualname)
        self.envs.append(env)
        self.stack.append(outer)
        self.env = env

    def enter_class(self, node: ast.ClassDef, qualname: str) -> None:
        outer = self.env
        env = Env("class", qualname, outer.parent if outer.kind == "class" else outer)
        env.cls = ClassInfo(qualname, node, env, list(node.bases))
        outer.aliases.setdefault(node.name, qualname)  # @receiver(x) before `def x` sees the import
        env.cls.tree_hint = any(self.leads_to_tree(base) for base in node.bases)
        self.classes[qualname] = env.cls
        self.defs.add(qualname)
        self.push(env)

    def leads_to_tree(self, base: ast.expr) -> bool:
        """A base imported from the tree, or a class defined above whose base or attribute is."""
        root = root_of(base)
        if root in self.tree_names:
            return True
        local = self.classes.get(self.env.aliases.get(root, "")) if root else None
        return local is not None and local.tree_hint

    def push(self, env: Env) -> None:
        self.envs.append(env)
        self.stack.append(self.env)
        self.env = env

    def leave(self) -> None:
        self.env = self.stack.pop()

    def assign(self, targets: list[ast.expr], value: ast.expr) -> None:
        for target in targets:
            self.bind(target, (value, self.env, ()))

    def annotate(self, target: ast.expr, annotation: ast.expr) -> None:
        """`hass: HomeAssistant = None` in a class body: what its instances' attribute will be."""
        if self.env.kind == "class" and self.env.cls is not None and isinstance(target, ast.Name):
            self.env.cls.annotated[target.id] = annotation
            self.env.cls.tree_hint |= root_of(annotation) in self.tree_names

    def loop(self, target: ast.expr, iterable: ast.expr) -> None:
        self.bind(target, (iterable, self.env, ("iter",)))

    def bind(self, target: ast.expr, binding: tuple) -> None:
        env = self.env
        made = (
            bool(self.tree_names)
            and type(binding[0]) is ast.Call
            and root_of(binding[0].func) in self.tree_names
        )
        if isinstance(target, ast.Name):
            env.names.setdefault(target.id, []).append(binding)
            if type(binding[0]) is ast.Attribute and binding[0].attr in SIGNAL_METHODS:
                self.signal_refs.append((binding[0], env))  # send_prerun = signals.task_prerun.send
            if env.kind == "class" and env.cls is not None and not binding[2]:
                self.queue_candidates.append((env.cls, target.id, binding[0], env))
            if made:  # bus = EventBus()
                self.tree_names.add(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for i, elt in enumerate(target.elts):
                self.bind(elt, (binding[0], binding[1], binding[2] + (i,)))
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == env.self_name
            and env.cls is not None
        ):
            env.cls.attrs.setdefault(target.attr, []).append(binding)
            env.cls.tree_hint |= made  # self.events = EventBus()
            if not binding[2]:
                self.queue_candidates.append((env.cls, target.attr, binding[0], env))

    def entered(self, node: ast.withitem) -> None:
        """`with Publisher() as pub:` binds what __enter__ returns: nearly always the object itself."""
        if node.optional_vars is not None:
            self.bind(node.optional_vars, (node.context_expr, self.env, ()))

    def call(self, node: ast.Call, callee: str | None) -> None:
        if callee is not None and (node.args or node.keywords or callee in QUEUE_GETS):
            env = self.env
            known = self.calls.get(callee)
            if known is None:
                self.calls[callee] = [(node, env)]
            else:
                known.append((node, env))
            if self.tree_names:
                self.call_light(node, callee)

    def call_light(self, node: ast.Call, callee: str | None) -> None:
        """A call rooted at a name that leads into another module of the tree: looked at again at the
        end (the whole of the light walk's interest in calls: no endpoint can be local there)."""
        if not self.tree_names or not (node.args or node.keywords):
            return
        func = node.func
        root: str | None
        if type(func) is ast.Attribute and type(func.value) is ast.Name:
            root = func.value.id
        else:
            root = func.id if type(func) is ast.Name else root_of(func)
        env = self.env
        if root is None:
            return
        if root in self.tree_names or (root == env.self_name and env.cls is not None and env.cls.tree_hint):
            self.tree_calls.append((node, env, root))


def root_of(expr: ast.expr) -> str | None:
    """`a` of `a.b.c`, of `a(...).b` and of `a`."""
    while True:
        if type(expr) is ast.Attribute:
            expr = expr.value
        elif type(expr) is ast.Call:
            expr = expr.func
        else:
            return expr.id if type(expr) is ast.Name else None
