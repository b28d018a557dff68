"""The collector side of the channels monitor: what one file says about channels.

FactCollector calls the hooks of monitors/channel_scopes.py during its one walk (imports,
definitions, assignments, loops, calls); they only record scopes and bindings. `finish` then
resolves, for this file alone: which calls are endpoints (by what the receiver is, through monitors/channel_endpoints.py),
what topics they carry (monitors/channel_values.py), which local functions and classes wrap an
endpoint (their parameter flows into a topic: each call site with a known value is then an
endpoint, through any number of wrappers), and what other modules may need to finish the job:
constants and instances this module defines, wrappers it exports (monitors/channel_exports.py),
and calls into modules of the tree whose meaning only those modules know. The monitor
(monitors/channels.py) joins them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from monitors import channel_exports as exports
from monitors.channel_endpoints import (
    LIGHT_WALK_HINTS,
    QUEUE_CLASSES,
    QUEUE_READ,
    QUEUE_READ_HINTS,
    SIGNAL_METHODS,
    STDLIB,
    TOPIC,
    TOPIC_KEYWORDS,
    is_partial,
    is_receiver_decorator,
    is_signal_class,
    normal_topic,
    table_for,
)  # fmt: skip
from monitors.channel_scopes import Alt, ClassInfo, Env, Func, Param, ScopeRecorder, Sym, join, root_of
from monitors.channel_values import Evaluator
from monitors.config import Config
from monitors.facts import FileFacts

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
    # Django Signal() objects defined here: (dotted, line, documented by an attribute docstring)
    signals: set[tuple[str, int, bool]] = field(default_factory=set)
    queues: list[tuple[str, str, list[int]]] = field(default_factory=list)  # (class, attr, put lines)
    queue_reads: set[str] = field(default_factory=set)  # attrs something gets from: obj.<attr>.get()


def ignore0() -> None:
    pass


def ignore1(_a: object) -> None:
    pass


def ignore2(_a: object, _b: object) -> None:
    pass


# a file that needs no full walk gets these instead of the hooks: the cheapest possible calls
NO_HOOKS = {"bound": ignore2, "enter_function": ignore2, "enter_class": ignore2, "leave": ignore0,
            "assign": ignore2, "loop": ignore2, "entered": ignore1, "call": ignore2}  # fmt: skip
COMPOUND = (ast.If, ast.Try, ast.With, ast.For, ast.While, ast.TryStar, ast.AsyncWith, ast.AsyncFor)


class ChannelCollector(ScopeRecorder):
    def __init__(self, facts: FileFacts, config: Config, source: bytes | None = None) -> None:
        super().__init__(facts.module, facts.is_package)
        self.facts = facts
        self.table = table_for(config)
        # Most files mention no endpoint. One that imports from the tree gets a light walk (calls,
        # functions, objects made by constructors: enough to pass topics on to other modules'
        # wrappers); any other a scan of its statements at the end for what other modules need.
        self.mode = "full" if source is None else self.walk_mode(source)
        self.active = self.mode != "none"
        self.reads: set[str] = set()
        if self.mode == "light":
            for hook, replacement in (("assign", self.assign_light), ("call", self.call_light),
                                      ("loop", ignore2), ("entered", ignore1)):  # fmt: skip
                setattr(self, hook, replacement)
        elif self.mode == "none":
            for hook, noop in NO_HOOKS.items():
                setattr(self, hook, noop)
        if source is not None and self.mode != "full" and any(hint in source for hint in QUEUE_READ_HINTS):
            self.reads = {m.decode() for m in QUEUE_READ.findall(source)}

    def walk_mode(self, source: bytes) -> str:
        """ "full" where an endpoint, a wrapper of one or a queue may be; "light" in a file that
        imports from the tree and may pass a topic on by keyword or use an imported signal
        (channel_endpoints.LIGHT_WALK_HINTS); else "none"."""
        if self.table.triggered(source):
            return "full"
        top = self.top.encode()
        if not (self.script or b"from ." in source or b"from " + top in source or b"import " + top in source):
            return "none"
        return "light" if any(hint in source for hint in LIGHT_WALK_HINTS) else "none"

    def assign_light(self, targets: list[ast.expr], value: ast.expr) -> None:
        """Light walk: module and class assignments, and anything a call makes (`bus = EventBus()`)."""
        if (
            self.env.kind != "function"
            or (isinstance(value, ast.Call) and root_of(value.func) in self.tree_names)
            or (isinstance(value, ast.Attribute) and value.attr in SIGNAL_METHODS)
        ):
            ScopeRecorder.assign(self, targets, value)

    # -- resolution (once per file) ----------------------------------------------

    def origin(self, dotted: str) -> str:
        """Where a name comes from: this module, the tree (the file's own top-level package; for a
        script at the top of the tree, any package but the stdlib), the stdlib, or outside."""
        if dotted in self.defs:
            return "local"
        if dotted.split(".")[0] in STDLIB:
            return "stdlib"
        return "tree" if self.in_tree(dotted) else "external"

    def finish(self, tree: ast.Module | None = None, aliases: dict[str, str] | None = None) -> ChannelFacts:
        self.documented = documented_names(tree.body if tree else [])
        if self.mode == "none":
            for hook in NO_HOOKS:
                delattr(self, hook)
            self.scan(tree.body if tree else [], self.facts.module)
            self.module.aliases.update(aliases or {})
        self.ev = Evaluator(self.module, self.classes, self.origin, QUEUE_CLASSES, self.arguments)
        self.passed: dict[tuple[str, str], list] = {}
        self.out = ChannelFacts()
        self.wrappers: dict[str, set[Spec]] = {}
        self.done: set[tuple[int, Spec | str]] = set()
        self.reaching: dict[tuple[str, int], bool] = {}
        self.work: list[str] = sorted(self.table.names | SIGNAL_METHODS.keys() | {"receiver", "partial"})
        try:
            if self.active:
                self.resolve()
            else:
                exports.module_objects(self)
            self.out.queue_reads |= self.reads  # gets read from the source where calls were not kept
        except RecursionError:  # guarded everywhere; should code still outrun the guards, keep what is known
            self.out = ChannelFacts()
        finally:
            self.release()
        return self.out

    def scan(self, body: list[ast.stmt], qualname: str) -> None:
        """What exports need of a file that gets no full walk: module and class assignments, and
        `self.x = Class(...)` in methods (channel_exports.module_objects reads nothing else)."""
        enum = self.env.kind == "class" and self.env.cls is not None and self.env.cls.enum
        for stmt in body:
            if isinstance(stmt, ast.Assign):
                if enum or exported(stmt.targets, stmt.value):
                    self.assign(stmt.targets, stmt.value)
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                if enum or exported([stmt.target], stmt.value):
                    self.assign([stmt.target], stmt.value)
            elif isinstance(stmt, ast.ClassDef):
                name = f"{qualname}.{stmt.name}" if qualname else stmt.name
                self.enter_class(stmt, name)
                self.scan(stmt.body, name)
                self.leave()
            elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{qualname}.{stmt.name}" if qualname else stmt.name
                self.defs.add(name)
                cls = self.env.cls if self.env.kind == "class" else None
                args = stmt.args.posonlyargs + stmt.args.args
                if cls is not None and args and stmt.name == "__init__":
                    self.constructed(stmt.body, cls, args[0].arg)
            elif isinstance(stmt, COMPOUND):
                self.scan_blocks(stmt, qualname)

    def scan_blocks(self, stmt: ast.stmt, qualname: str) -> None:
        for part in ("body", "orelse", "finalbody"):
            self.scan(getattr(stmt, part, []), qualname)
        for handler in getattr(stmt, "handlers", []):
            self.scan(handler.body, qualname)

    def constructed(self, body: list[ast.stmt], cls: ClassInfo, me: str) -> None:
        """`self.bus = EventBus()` anywhere in a method's statements."""
        for stmt in body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                for target in stmt.targets:
                    if isinstance(target, ast.Attribute) and getattr(target.value, "id", None) == me:
                        cls.attrs.setdefault(target.attr, []).append((stmt.value, self.module, ()))
            elif isinstance(stmt, COMPOUND):
                for part in ("body", "orelse", "finalbody"):
                    self.constructed(getattr(stmt, part, []), cls, me)
                for handler in getattr(stmt, "handlers", []):
                    self.constructed(handler.body, cls, me)

    def resolve(self) -> None:
        self.members()
        for ref, env in self.signal_refs:  # a bound send/connect kept in a name is used through it
            topic = self.signal_topic(ref.value, env)
            if topic:
                self.out.endpoints.add(("signal", SIGNAL_METHODS[ref.attr], topic, ref.lineno))
        self.drain()
        for node, env, root in self.tree_calls:  # calls that may lead into another module of the tree
            if self.mode == "light" and getattr(node.func, "attr", None) in SIGNAL_METHODS:
                self.handle(node, env)  # imported_signal.send(...): the light walk keeps no other calls
            self.speculate(node, env, root)
        if self.tree_calls:
            self.drain()
        exports.module_objects(self)
        exports.queues(self)
        exports.export_wrappers(self)

    def release(self) -> None:
        """Scopes, bindings and classes point at each other and at the AST; the batch scan runs
        with the cyclic GC paused, so break every link here or each file's tree stays in memory."""
        for env in self.envs:
            if env.func is not None:
                env.func.release()
            env.names, env.aliases, env.parent, env.cls, env.func = {}, {}, None, None, None
        for cls in self.classes.values():
            cls.attrs, cls.methods, cls.bases, cls.lineage, cls.node, cls.env = {}, {}, [], None, None, None
        self.envs, self.stack, self.scopes_with_imports, self.queue_candidates = [], [], [], []
        self.tree_calls, self.tree_names, self.signal_refs = [], set(), []
        self.calls, self.classes, self.funcs, self.wrappers, self.passed = {}, {}, {}, {}, {}
        self.defs, self.done, self.reaching = set(), set(), {}
        del self.ev

    def arguments(self, func: Func, name: str) -> list:
        """Bindings of what this module's own calls of `func` pass as parameter `name`
        (speaker.setup passes `dispatches` to self.async_setup, which sends each of them)."""
        key = (func.callable, name)
        if key not in self.passed:
            self.passed[key] = []  # a recursive function ends here
            found = []
            for node, env in self.calls.get(func.callable.rpartition(".")[2], ()):
                if any(dotted == func.callable for dotted, _ in self.callees(node, env)):
                    arg = argument(node, func.params.get(name), name)
                    if arg is not None:
                        found.append((arg, env, ()))
            self.passed[key] = found
        return self.passed[key]

    def members(self) -> None:
        """`x.append(item)` makes item an element of x (iterated later: for d in x: send(*d))."""
        for name, path in (("append", ("member",)), ("appendleft", ("member",)), ("add", ("member",)),
                           ("extend", ("iter", "member"))):  # fmt: skip
            for node, env in self.calls.get(name, ()):
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and len(node.args) == 1
                ):
                    found = self.ev.find(func.value.id, env)
                    scope = found[2] if found and found[0] == "bindings" else env
                    scope.names.setdefault(func.value.id, []).append((node.args[0], env, path))

    def drain(self) -> None:
        while self.work:
            for node, env in self.calls.get(self.work.pop(), ()):
                self.handle(node, env)

    def callees(self, node: ast.Call, env: Env) -> list[tuple[str, str]]:
        """(dotted callable, origin) a call may call; a constructor is called by its class's name."""
        func = node.func
        if isinstance(func, ast.Name):
            found = self.ev.obj(func, env)
            return [(found[1], found[2])] if found and found[0] == "dotted" else []
        if not isinstance(func, ast.Attribute):
            return []
        method = func.attr
        value = func.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super":
            cls = env.cls
            return (
                [(b, o) if method == "__init__" else (f"{b}.{method}", o) for b, o in self.bases(cls)]
                if cls
                else []
            )
        base = self.ev.obj(value, env)
        if base is None:
            return []
        kind, dotted, origin = base
        cls = self.classes.get(dotted) if origin == "local" else None
        if cls is None:
            return [(f"{dotted}.{method}", origin)]
        called = [(f"{dotted}.{method}", "local")]
        if method not in cls.methods and not any(method in c.methods for c in self.ev.ancestors(cls)):
            called += [(f"{b}.{method}", o) for b, o in self.bases(cls) if o != "local"]
        return called

    def bases(self, cls: ClassInfo) -> list[tuple[str, str]]:
        if cls.resolved is None:
            cls.resolved = []
            for base in cls.bases:
                found = self.ev.obj(base, self.module)
                if found and found[0] == "dotted":
                    cls.resolved.append((found[1], found[2]))
        return cls.resolved

    def specs(self, dotted: str, depth: int = 0) -> set[Spec]:
        found = {Spec(e.role, e.position, e.keyword) for e in self.table.match(dotted)}
        found |= self.wrappers.get(dotted, set())
        if found or depth > 6:
            return found
        owner, _, method = dotted.rpartition(".")
        if dotted in self.classes and "__init__" not in self.classes[dotted].methods:
            for base, _ in self.bases(self.classes[dotted]):
                found |= self.specs(base, depth + 1)
        elif owner in self.classes and method not in self.classes[owner].methods:
            for base, _ in self.bases(self.classes[owner]):
                found |= self.specs(f"{base}.{method}", depth + 1)
        return found

    def handle(self, node: ast.Call, env: Env) -> None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in SIGNAL_METHODS
            and (id(node), "sig") not in self.done
        ):
            self.done.add((id(node), "sig"))
            topic = self.signal_topic(func.value, env)
            if topic:
                self.out.endpoints.add(("signal", SIGNAL_METHODS[func.attr], topic, node.lineno))
        for dotted, _ in self.callees(node, env):
            if is_receiver_decorator(dotted):
                first = argument(node, 0, "signal")  # @receiver(sig) / @receiver(signal=sig)
                for sig in (
                    first.elts if isinstance(first, ast.List | ast.Tuple) else [first] if first else []
                ):
                    topic = self.signal_topic(sig, env)
                    if topic:
                        self.out.endpoints.add(("signal", "consumer", topic, node.lineno))
            if is_partial(dotted) and node.args:  # partial(f, a, b) is f(a, b, ...) called later
                later = ast.Call(func=node.args[0], args=node.args[1:], keywords=node.keywords)
                ast.copy_location(later, node)
                self.handle(later, env)
            for spec in self.specs(dotted):
                if (id(node), spec) not in self.done:
                    self.done.add((id(node), spec))
                    self.apply(spec, node, env)

    def signal_topic(self, expr: ast.expr, env: Env) -> str | None:
        """The qualified name of a module-level Django signal, defined here or imported."""
        if isinstance(expr, ast.Name):
            found = self.ev.find(expr.id, env)
            if found and found[0] == "bindings" and found[2] is self.module:
                for value, scope, path in found[1]:
                    made = None if path else self.ev.obj(value, scope)
                    if made and made[0] == "instance" and is_signal_class(made[1]):
                        return f"{self.facts.module}.{expr.id}"
                return None
            if not (found and found[0] == "alias"):
                return None
        elif not isinstance(expr, ast.Attribute):
            return None
        found_obj = self.ev.obj(expr, env)
        if found_obj and found_obj[0] == "dotted" and found_obj[2] in ("tree", "external"):
            return found_obj[1]  # imported: a signal if the module that defines it says so
        return None

    def apply(self, spec: Spec, node: ast.Call, env: Env) -> None:
        arg = argument(node, spec.pos, spec.kw)
        if arg is None:
            spread = starred(node, spec.pos)  # send(hass, *dispatch): the topic is inside a tuple
            if spread is not None:
                for alt in self.ev.element(spread[0], env, spread[1]) or ():
                    self.classify(substitute(spec.tpl, alt), spec, node.lineno)
            return
        vals = self.ev.values(arg, env)
        if vals is None and isinstance(arg, ast.Dict | ast.List | ast.Tuple | ast.Set | ast.Name):
            items = self.ev.items(arg, env) or []  # a dict of topic -> handler, a list of topics
            vals = [a for item in items for a in self.ev.item_values(item) or []] or None
        for alt in vals or ():
            self.classify(substitute(spec.tpl, alt), spec, node.lineno)

    def classify(self, alt: Alt | None, spec: Spec, line: int) -> None:
        if alt is None:
            return
        unknown = [p for p in alt if not isinstance(p, str)]
        if not unknown:
            text = "".join(p for p in alt if isinstance(p, str))
            if spec.role == "forward":
                if TOPIC.fullmatch(text):
                    self.out.calls.add((spec.target, spec.slot, text, line, False))
            elif (topic := normal_topic(text, spec.role)) is not None:
                self.out.endpoints.add(("channel", spec.role, topic, line))
            return
        part = unknown[0]
        if isinstance(part, Param):
            func = self.funcs.get(part.callable)
            if func is not None and part.name in func.params:
                tpl = tuple(None if p is part else str(p) for p in alt)
                self.add_wrapper(
                    func, Spec(spec.role, func.params[part.name], part.name, tpl, spec.target, spec.slot)
                )
        elif isinstance(part, Sym) and len(alt) == 1:
            if spec.role == "forward":
                self.out.calls.add((spec.target, spec.slot, part.dotted, line, True))
            else:
                self.out.via.add((spec.role, part.dotted, line))

    def add_wrapper(self, func: Func, spec: Spec) -> None:
        known = self.wrappers.setdefault(func.callable, set())
        if spec in known:
            return
        known.add(spec)
        self.work.append(func.callable.rpartition(".")[2])
        default = func.defaults.get(spec.kw or "")
        if default is not None:  # a call that leaves it out uses the default: an endpoint of its own
            for alt in self.ev.values(default, func.env) or ():
                self.classify(substitute(spec.tpl, alt), spec, func.line)

    def speculate(self, node: ast.Call, env: Env, root: str) -> None:
        """A call into another module of the tree: record the values it passes, its meaning is known there."""
        args = [
            (slot, arg)
            for slot, arg in slots(node)
            if (slot == 0 or slot in TOPIC_KEYWORDS) and self.may_carry_topic(arg, env)
        ]
        if not args or not self.reaches_tree(root, env):
            return
        for dotted, origin in self.callees(node, env):
            if origin != "tree" or self.specs(dotted):
                continue
            for slot, arg in args:
                for alt in self.ev.values(arg, env) or ():
                    self.classify(alt, Spec("forward", None, None, (None,), dotted, slot), node.lineno)

    @staticmethod
    def may_carry_topic(arg: ast.expr, env: Env) -> bool:
        """Cheaply: a literal topic, a parameter, a CONSTANT or Enum member, a string built from them."""
        if isinstance(arg, ast.Constant):
            return isinstance(arg.value, str) and TOPIC.fullmatch(arg.value) is not None
        if isinstance(arg, ast.Name):
            return arg.id.isupper() or (env.func is not None and arg.id in env.func.params)
        if isinstance(arg, ast.Attribute):
            return arg.attr.isupper() or arg.attr == "value"
        return isinstance(arg, ast.JoinedStr | ast.BinOp)

    def reaches_tree(self, name: str | None, env: Env, shallow: bool = False) -> bool:
        """Cheaply: can a call rooted at `name` land in another module of the tree?"""
        found = self.ev.find(name, env) if name else None
        if found is None:
            return False
        kind, what, scope = found
        if kind == "alias":
            return what in self.classes or self.origin(what) == "tree"
        if kind == "self":
            return not shallow and self.tree_class(what)
        if kind == "param":
            return name in what.annotations
        if shallow:
            return False
        key = (name or "", id(scope))
        if key not in self.reaching:  # an object made by a call into the tree: one level deep
            self.reaching[key] = any(
                isinstance(b[0], ast.Call) and self.reaches_tree(root_name(b[0].func), b[1], True)
                for b in what
            )
        return self.reaching[key]

    def tree_class(self, cls: ClassInfo) -> bool:
        """A class with a base, or an attribute made, in another module of the tree."""
        if cls.tree is None:
            cls.tree = False  # a cycle ends here
            made = [b[0].func for bs in cls.attrs.values() for b in bs if isinstance(b[0], ast.Call)]
            roots = {root_name(e) for e in made + cls.bases}
            cls.tree = any(self.reaches_tree(r, self.module, True) for r in roots if r)
        return cls.tree


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
