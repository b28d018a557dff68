"""The collector side of the channels monitor: what one file says about channels.

FactCollector calls the hooks of monitors/channel_scopes.py during its one walk (imports,
definitions, assignments, loops, calls; monitors/collect_channels.py); they only record
scopes and bindings. `finish` then resolves, for this file alone: which calls are endpoints
(by what the receiver is: monitors/channel_endpoints.py), what topics they carry
(monitors/channel_values.py), which local functions and classes wrap an endpoint (their
parameter flows into a topic: each call site with a known value is then an endpoint, through
any number of wrappers), calls into other modules of the tree (monitors/channel_tree.py) and
what other modules need of this one (monitors/channel_exports.py). A file that names no
endpoint gets no full walk: a light one, or a scan of its statements (monitors/channel_scan.py).
The records it produces are in monitors/channel_records.py; the monitor (monitors/channels.py)
joins them across the tree.
"""

from __future__ import annotations

import ast

from monitors import channel_exports as exports
from monitors import channel_scan as statements
from monitors import channel_tree as tree_calls
from monitors.channel_algebra import Alt, Param, Sym
from monitors.channel_bindings import ClassInfo, Env, Func
from monitors.channel_endpoints import (
    LIGHT_WALK_HINTS,
    QUEUE_CLASSES,
    QUEUE_READ,
    QUEUE_READ_HINTS,
    SIGNAL_METHODS,
    STDLIB,
    TOPIC,
    is_partial,
    is_receiver_decorator,
    is_signal_class,
    normal_topic,
    table_for,
)  # fmt: skip
from monitors.channel_records import ChannelFacts, Spec, argument, starred, substitute
from monitors.channel_scopes import ScopeRecorder, root_of
from monitors.channel_values import Evaluator
from monitors.config import Config
from monitors.facts import FileFacts

Slot = int | str  # where an argument is passed: its position, or its keyword


def ignore0() -> None:
    pass


def ignore1(_a: object) -> None:
    pass


def ignore2(_a: object, _b: object) -> None:
    pass


# a file that needs no full walk gets these instead of the hooks: the cheapest possible calls
NO_HOOKS = {"bound": ignore2, "enter_function": ignore2, "enter_class": ignore2, "leave": ignore0,
            "assign": ignore2, "annotate": ignore2, "loop": ignore2, "entered": ignore1, "call": ignore2}  # fmt: skip


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
        self.documented = statements.documented_names(tree.body if tree else [])
        if self.mode == "none":
            for hook in NO_HOOKS:
                delattr(self, hook)
            statements.scan(self, tree.body if tree else [], self.facts.module)
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
            tree_calls.speculate(self, node, env, root)
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
            cls.annotated = {}
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
