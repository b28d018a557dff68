"""The collector side of the channels monitor: what one file says about channels.

FactCollector calls the hooks below during its one walk (imports, definitions, assignments,
loops, calls); they only record scopes and bindings. `finish` then resolves, for this file
alone: which calls are endpoints (by what the receiver is, through monitors/channel_endpoints.py),
what topics they carry (monitors/channel_values.py), which local functions and classes wrap an
endpoint (their parameter flows into a topic: each call site with a known value is then an
endpoint, through any number of wrappers), and what other modules may need to finish the job:
constants and instances this module defines, wrappers it exports, and calls into modules of
the tree whose meaning only those modules know. The monitor (monitors/channels.py) joins them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from monitors.channel_endpoints import (
    QUEUE_CLASSES,
    QUEUE_GETS,
    QUEUE_PUTS,
    SIGNAL_METHODS,
    STDLIB,
    TOPIC,
    is_queue_class,
    is_receiver_decorator,
    is_signal_class,
    normal_topic,
    table_for,
)  # fmt: skip
from monitors.channel_values import Alt, ClassInfo, Env, Evaluator, Func, Param, Sym, join, last_name
from monitors.config import Config
from monitors.facts import FileFacts

Slot = int | str  # where an argument is passed: its position, or its keyword
STATIC = {"staticmethod"}


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
    calls: set[tuple[str, Slot, str, int, bool]] = field(
        default_factory=set
    )  # (callable, slot, value, line, is_sym)
    wrappers: dict[str, set[Spec]] = field(default_factory=dict)  # callable -> how it takes a topic
    consts: set[tuple[str, str]] = field(default_factory=set)  # (dotted constant, topic-like value)
    instances: set[tuple[str, str]] = field(default_factory=set)  # (module-level name, its class)
    signals: set[tuple[str, int]] = field(default_factory=set)  # Django Signal() objects defined here
    queues: list[tuple[str, str, list[int]]] = field(default_factory=list)  # (class, attr, put lines)
    queue_reads: set[str] = field(default_factory=set)  # attrs something gets from: obj.<attr>.get()


class ChannelCollector:
    def __init__(self, facts: FileFacts, config: Config) -> None:
        self.facts = facts
        self.table = table_for(config)
        self.module = Env("module", facts.module, None)
        self.env = self.module
        self.stack: list[Env] = []
        self.classes: dict[str, ClassInfo] = {}
        self.funcs: dict[str, Func] = {}  # by the name call sites call
        self.defs: set[str] = set()
        self.scopes_with_imports: list[Env] = [self.module]
        self.calls: dict[str, list[tuple[ast.Call, Env]]] = {}
        self.queue_candidates: list[tuple[ClassInfo, str, ast.expr, Env]] = []
        self.top = facts.module.split(".")[0]

    # -- hooks (called during FactCollector's walk) ------------------------------

    def bound(self, name: str, target: str | None) -> None:
        """An import or definition binds `name` to `target` in the current scope."""
        if target:
            self.env.aliases[name] = target
            if self.env.kind == "function" and self.env not in self.scopes_with_imports:
                self.scopes_with_imports.append(self.env)

    def enter_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> None:
        outer = self.env
        env = Env("function", qualname, outer.parent if outer.kind == "class" else outer)
        args = node.args.posonlyargs + node.args.args
        callable_ = qualname
        if outer.kind == "class" and outer.cls is not None:
            decorators = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
            if args and not decorators & STATIC:
                env.self_name = args[0].arg
                args = args[1:]
            env.cls = outer.cls
            if node.name == "__init__":
                callable_ = outer.cls.qualname  # call sites construct the class
        elif outer.kind == "function":
            env.cls, env.self_name = outer.cls, outer.self_name  # a closure over the method's self
        func = Func(callable_, node.lineno)
        func.params = {a.arg: i for i, a in enumerate(args)} | {a.arg: None for a in node.args.kwonlyargs}
        positional = node.args.posonlyargs + node.args.args
        for arg, default in zip(
            positional[len(positional) - len(node.args.defaults) :], node.args.defaults, strict=True
        ):
            func.defaults[arg.arg] = default
        for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True):
            if default is not None:
                func.defaults[arg.arg] = default
        func.annotations = {a.arg: a.annotation for a in args if a.annotation is not None}
        func.env = outer  # defaults are evaluated where the function is defined
        env.func = func
        self.funcs.setdefault(callable_, func)
        if outer.kind == "class" and outer.cls is not None:
            outer.cls.methods.setdefault(node.name, func)
        self.defs.add(qualname)
        self.push(env)

    def enter_class(self, node: ast.ClassDef, qualname: str) -> None:
        outer = self.env
        env = Env("class", qualname, outer.parent if outer.kind == "class" else outer)
        env.cls = ClassInfo(qualname, node, env, list(node.bases))
        self.classes[qualname] = env.cls
        self.defs.add(qualname)
        self.push(env)

    def push(self, env: Env) -> None:
        self.stack.append(self.env)
        self.env = env

    def leave(self) -> None:
        self.env = self.stack.pop()

    def assign(self, targets: list[ast.expr], value: ast.expr) -> None:
        for target in targets:
            self.bind(target, (value, self.env, ()))

    def loop(self, target: ast.expr, iterable: ast.expr) -> None:
        self.bind(target, (iterable, self.env, ("iter",)))

    def bind(self, target: ast.expr, binding: tuple) -> None:
        env = self.env
        if isinstance(target, ast.Name):
            env.names.setdefault(target.id, []).append(binding)
            if env.kind == "class" and not binding[2]:
                self.queue_candidates.append((env.cls, target.id, binding[0], env))
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
            if not binding[2]:
                self.queue_candidates.append((env.cls, target.attr, binding[0], env))

    def entered(self, node: ast.withitem) -> None:
        """`with Publisher() as pub:` binds what __enter__ returns: nearly always the object itself."""
        if node.optional_vars is not None:
            self.bind(node.optional_vars, (node.context_expr, self.env, ()))

    def call(self, node: ast.Call, callee: str | None) -> None:
        if callee is not None and (node.args or node.keywords or callee in QUEUE_GETS):
            self.calls.setdefault(callee, []).append((node, self.env))

    # -- resolution (once per file) ----------------------------------------------

    def origin(self, dotted: str) -> str:
        if dotted in self.defs:
            return "local"
        top = dotted.split(".")[0]
        if top == self.top:
            return "tree"
        return "stdlib" if top in STDLIB else "external"

    def finish(self) -> ChannelFacts:
        self.ev = Evaluator(self.module, self.classes, self.origin, QUEUE_CLASSES)
        self.out = ChannelFacts()
        self.wrappers: dict[str, set[Spec]] = {}
        self.done: set[tuple[int, Spec | str]] = set()
        self.work: list[str] = sorted(self.table.names | SIGNAL_METHODS.keys() | {"receiver"})
        self.drain()
        if any(self.origin(t) == "tree" for env in self.scopes_with_imports for t in env.aliases.values()):
            for calls in list(self.calls.values()):
                for node, env in calls:
                    self.speculate(node, env)
            self.drain()
        self.module_objects()
        self.queues()
        self.export_wrappers()
        return self.out

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
        found = [(f"{dotted}.{method}", "local")]
        if method not in cls.methods and not any(method in c.methods for c in self.ev.ancestors(cls)):
            found += [(f"{b}.{method}", o) for b, o in self.bases(cls) if o != "local"]
        return found

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
            if is_receiver_decorator(dotted) and node.args:
                first = node.args[0]
                for sig in first.elts if isinstance(first, ast.List | ast.Tuple) else [first]:
                    topic = self.signal_topic(sig, env)
                    if topic:
                        self.out.endpoints.add(("signal", "consumer", topic, node.lineno))
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
            topic = "".join(alt)  # type: ignore[arg-type]
            if spec.role == "forward":
                if TOPIC.fullmatch(topic):
                    self.out.calls.add((spec.target, spec.slot, topic, line, False))  # type: ignore[arg-type]
            elif (topic := normal_topic(topic, spec.role)) is not None:
                self.out.endpoints.add(("channel", spec.role, topic, line))
            return
        part = unknown[0]
        if isinstance(part, Param):
            func = self.funcs.get(part.callable)
            if func is not None and part.name in func.params:
                tpl = tuple(None if p is part else p for p in alt)
                self.add_wrapper(
                    func, Spec(spec.role, func.params[part.name], part.name, tpl, spec.target, spec.slot)
                )
        elif isinstance(part, Sym) and len(alt) == 1:
            if spec.role == "forward":
                self.out.calls.add((spec.target, spec.slot, part.dotted, line, True))  # type: ignore[arg-type]
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

    def speculate(self, node: ast.Call, env: Env) -> None:
        """A call into another module of the tree: record the values it passes, its meaning is known there."""
        for dotted, origin in self.callees(node, env):
            if origin != "tree" or self.specs(dotted):
                continue
            for slot, arg in slots(node):
                if isinstance(arg, ast.Constant | ast.Name | ast.Attribute | ast.JoinedStr | ast.BinOp):
                    for alt in self.ev.values(arg, env) or ():
                        self.classify(alt, Spec("forward", None, None, (None,), dotted, slot), node.lineno)

    # -- what other modules need -------------------------------------------------

    def module_objects(self) -> None:
        module = self.facts.module
        for name, bindings in self.module.names.items():
            for value, scope, path in bindings:
                made = self.ev.obj(value, scope) if isinstance(value, ast.Call) and not path else None
                if made and made[0] == "instance" and made[2] != "stdlib":
                    self.out.instances.add((f"{module}.{name}", made[1]))
                    if is_signal_class(made[1]):
                        self.out.signals.add((f"{module}.{name}", value.lineno))
            if name.isupper():
                self.constant(f"{module}.{name}", bindings)
        for cls in self.classes.values():
            enum = any(last_name(b).endswith("Enum") for b in cls.bases)
            for name, bindings in cls.env.names.items():
                if enum or name.isupper():
                    self.constant(f"{cls.qualname}.{name}", bindings)

    def constant(self, dotted: str, bindings: list) -> None:
        for binding in bindings:
            for item in self.ev.bound(binding):
                vals = self.ev.item_values(item)
                if vals is None:
                    vals = [a for i in self.ev.items_of(item) or [] for a in self.ev.item_values(i) or []]
                for alt in vals:
                    if len(alt) == 1 and isinstance(alt[0], str) and alt[0] and TOPIC.fullmatch(alt[0]):
                        self.out.consts.add((dotted, alt[0]))

    def queues(self) -> None:
        found: dict[ClassInfo, set[str]] = {}
        for cls, attr, value, env in self.queue_candidates:
            made = self.ev.obj(value, env) if isinstance(value, ast.Call) else None
            if made and made[0] == "instance" and is_queue_class(made[1]):
                found.setdefault(cls, set()).add(attr)
        for cls, attrs in found.items():
            for attr, (puts, consumed) in sorted(queue_uses(cls.node, attrs).items()):
                if puts and not consumed:
                    self.out.queues.append((cls.qualname, attr, sorted(puts)))
        for name in QUEUE_GETS:
            for node, _ in self.calls.get(name, ()):
                receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
                plain = all(isinstance(a, ast.Constant) and not isinstance(a.value, str) for a in node.args)
                if (
                    isinstance(receiver, ast.Attribute)
                    and plain
                    and (name.startswith("get") or not node.args)
                ):
                    self.out.queue_reads.add(receiver.attr)

    def export_wrappers(self) -> None:
        """Subclasses inherit how their bases take topics; callers in other modules call them by their own name."""
        self.out.wrappers = {k: set(v) for k, v in self.wrappers.items()}
        endpoint_bases = any(
            last_name(b) in self.table.classes for c in self.classes.values() for b in c.bases
        )
        if not endpoint_bases and not self.wrappers:
            return
        for cls in self.classes.values():
            names = set(self.table.names) | {
                m
                for anc in self.ev.ancestors(cls)
                for m in anc.methods
                if f"{anc.qualname}.{m}" in self.wrappers
            }
            for method in sorted(names - cls.methods.keys()):
                found = self.specs(f"{cls.qualname}.{method}")
                if found:
                    self.out.wrappers.setdefault(f"{cls.qualname}.{method}", set()).update(found)
            if "__init__" not in cls.methods and (found := self.specs(cls.qualname)):
                self.out.wrappers.setdefault(cls.qualname, set()).update(found)


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


def queue_uses(node: ast.ClassDef, attrs: set[str]) -> dict[str, tuple[list[int], bool]]:
    """Per queue attribute: lines that put to it, and whether anything else touches it (gets,
    iterates, passes it on): anything but a put counts as a consumer."""
    parents: dict[int, ast.AST] = {}
    selves = {"self", "cls"}
    for parent in ast.walk(node):
        if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef) and parent.args.args:
            selves.add(parent.args.args[0].arg)
        for child in ast.iter_child_nodes(parent):
            parents[id(child)] = parent
    uses: dict[str, tuple[list[int], bool]] = {attr: ([], False) for attr in attrs}
    for sub in ast.walk(node):
        if not (
            isinstance(sub, ast.Attribute)
            and sub.attr in attrs
            and isinstance(sub.ctx, ast.Load)
            and isinstance(sub.value, ast.Name)
            and sub.value.id in selves
        ):
            continue
        puts, consumed = uses[sub.attr]
        method = parents.get(id(sub))
        call = parents.get(id(method)) if isinstance(method, ast.Attribute) else None
        if isinstance(call, ast.Call) and call.func is method and method.attr in QUEUE_PUTS:
            puts.append(sub.lineno)
        else:
            consumed = True
        uses[sub.attr] = (puts, consumed)
    return uses
