"""What the channel collector records during the one walk: scopes, bindings, functions and classes.

Every assignment, loop target, `with ... as` and parameter becomes a Binding (an expression
and the scope it is evaluated in), kept per name and flow-insensitive: a name that is bound
to several values has all of them. Only at the end of the file does anything get evaluated
(monitors/channel_values.py), so definition order does not matter. This module holds the
recorder, the hooks the walk calls; the types it fills are in monitors/channel_bindings.py
and the value algebra in monitors/channel_algebra.py.
"""

from __future__ import annotations

import ast

from monitors.channel_bindings import ClassInfo, Env, Func
from monitors.channel_endpoints import QUEUE_GETS, SIGNAL_METHODS, STDLIB

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
