"""The fact collector: one walk over one module's AST, one handler per node type.

Modelled on pyflakes' checker: `visit` dispatches on the node's class, handlers record
facts and walk their children, everything else walks generically. The structural
hash units (monitors/clones.py) listen to the same walk, so hashing costs no extra pass.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable
from typing import TypeGuard

from monitors import text
from monitors.clones import Unit
from monitors.config import DEFAULT, Config
from monitors.facts import ChannelEndpoint, ClassFacts, Clone, Definition, FileFacts, Import

PRODUCER_CALLS = {"emit", "publish"}
CONSUMER_CALLS = {"subscribe", "ChemSub"}
CHANNEL_KEYWORDS = ("signal", "topic", "channel")
TASK_NAME_CALLS = {"send_task", "signature"}
IMPORT_CALLS = {"import_module", "__import__", "import_string"}
ATTRIBUTE_CALLS = {"hasattr", "getattr", "setattr", "__setattr__", "delattr", "vars"}
NAMESPACE_WRITERS = {"globals", "exec"}  # a module that does this can define any name
DISCOVERY_CALLS = {"iter_modules", "walk_packages", "autodiscover_tasks"}
# Decorators that change how a function is called, not whether something calls it.
PLAIN_DECORATORS = {"staticmethod", "classmethod", "property", "functools.cached_property", "cached_property"}
IMPORT_GUARDS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
CELERY_SETTINGS = {"CELERY_IMPORTS", "CELERY_INCLUDE"}
BUILTIN_NAMES = frozenset(dir(builtins))

CHANNEL = re.compile(r"[\w\-*#]+(?:\.[\w\-*#]+)*")
DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
ENTRY_POINT = re.compile(r"=\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*:\s*([A-Za-z_]\w*)")
PERCENT_PREFIX = re.compile(r"([A-Za-z_]\w*_)%[sdr]")
MAX_STRING = 200  # longer strings are prose, not names


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` for Name/Attribute chains (and `a.b[...]`), None for anything computed."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Subscript):
        return dotted(node.value)
    return None


def string_items(node: ast.expr) -> list[str]:
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def docstring(body: list[ast.stmt]) -> ast.Constant | None:
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first.value
    return None


def is_stub(body: list[ast.stmt]) -> bool:
    """Only `raise NotImplementedError` (after an optional docstring)."""
    body = body[1:] if docstring(body) else body
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


class Scope:
    """A class or function body being walked."""

    __slots__ = ("kind", "qualname", "cls", "self_name")

    def __init__(self, kind: str, qualname: str, cls: ClassFacts | None, self_name: str | None) -> None:
        self.kind = kind
        self.qualname = qualname
        self.cls = cls  # the class whose `self` is in scope, if any
        self.self_name = self_name


class FactCollector:
    def __init__(self, facts: FileFacts, config: Config = DEFAULT) -> None:
        self.facts = facts
        self.config = config
        self.scopes: list[Scope] = []
        self.units: list[Unit] = []
        self.guarded = 0
        self.aliases: dict[str, str] = {}  # module-level name -> dotted target
        self.pending_methods: list[tuple[Unit, str]] = []  # method units waiting for the class digest
        self._handlers: dict[type, Callable[[ast.AST], None]] = {}

    # -- walking -----------------------------------------------------------------

    def collect(self, tree: ast.Module) -> None:
        doc = docstring(tree.body)
        self.facts.documented = doc is not None
        if doc is not None:
            text.scan_docstring(self.facts, str(doc.value), doc.lineno)
        for stmt in tree.body:
            self.visit(stmt)
        self.resolve_bases()

    def visit(self, node: ast.AST) -> None:
        unit = self.units[-1] if self.units else None
        if unit is not None:
            unit.enter(node)
        handler = self._handlers.get(node.__class__)
        if handler is None:
            handler = getattr(self, "visit_" + node.__class__.__name__, self.generic_visit)
            self._handlers[node.__class__] = handler
        handler(node)
        if unit is not None:
            unit.leave()

    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST) and name != "ctx":
                self.visit(value)

    def visit_all(self, nodes: list) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    @property
    def at_module_level(self) -> bool:
        return not self.scopes

    @property
    def self_scope(self) -> Scope | None:
        return self.scopes[-1] if self.scopes and self.scopes[-1].self_name else None

    def qualify(self, name: str) -> str:
        prefix = self.scopes[-1].qualname if self.scopes else self.facts.module
        return f"{prefix}.{name}" if prefix else name

    def bind(self, name: str, target: str | None = None) -> None:
        if self.at_module_level:
            self.facts.bound.add(name)
            if target:
                self.aliases[name] = target
        elif self.scopes[-1].kind == "class" and self.scopes[-1].cls is not None:
            self.scopes[-1].cls.attrs.add(name)

    # -- imports -----------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.bind(alias.asname, alias.name)
            else:
                top = alias.name.split(".")[0]
                self.bind(top, top)
            self.facts.imports.append(Import(strip_init(alias.name), None, node.lineno, self.guarded > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = self.absolute(node.module, node.level)
        if module is None or module == "__future__":
            return
        module = strip_init(module)
        for alias in node.names:
            if alias.name == "*":
                if self.at_module_level:
                    self.facts.open_namespace = True
                self.facts.imports.append(Import(module, None, node.lineno, self.guarded > 0))
                continue
            self.bind(alias.asname or alias.name, f"{module}.{alias.name}")
            self.facts.refs.add(alias.name)
            self.facts.imports.append(Import(module, alias.name, node.lineno, self.guarded > 0))

    def absolute(self, module: str | None, level: int) -> str | None:
        if not level:
            return module
        parts = self.facts.module.split(".") if self.facts.module else []
        if not self.facts.is_package:
            parts = parts[:-1]
        if level - 1 > len(parts) or (level - 1 == len(parts) and not module):
            return None  # beyond the top of the tree
        parts = parts[: len(parts) - (level - 1)]
        if module:
            parts.append(module)
        return ".".join(parts) or None

    def visit_Try(self, node: ast.Try) -> None:
        guards = any(self.catches_import_error(handler) for handler in node.handlers)
        self.guarded += guards
        self.visit_all(node.body)
        self.guarded -= guards
        self.visit_all(node.handlers)
        self.visit_all(node.orelse)
        self.visit_all(node.finalbody)

    visit_TryStar = visit_Try

    @staticmethod
    def catches_import_error(handler: ast.ExceptHandler) -> bool:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        return any((dotted(t) or "").split(".")[-1] in IMPORT_GUARDS for t in types)

    # -- definitions -------------------------------------------------------------

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        facts = self.facts
        parent = self.scopes[-1] if self.scopes else None
        qualname = self.qualify(node.name)
        decorators = [dotted(d.func if isinstance(d, ast.Call) else d) or "?" for d in node.decorator_list]
        registering = [d for d in decorators if d not in PLAIN_DECORATORS]
        doc = docstring(node.body)
        in_class = parent is not None and parent.kind == "class"
        kind = "function" if parent is None else "method" if in_class else None
        if kind and not facts.is_test:
            owner = parent.qualname if in_class and parent is not None else ""
            facts.definitions.append(
                Definition(qualname, node.name, kind, node.lineno, bool(registering), doc is not None, owner)
            )
        if parent is None:
            if node.name == "__getattr__":  # PEP 562: the module answers for any name
                facts.open_namespace = True
            self.task_definition(node)
            if not registering and is_stub(node.body) and not node.name.startswith("_"):
                facts.stubs.append((qualname, node.lineno))
        self.bind(node.name, qualname)
        if in_class and parent is not None and parent.cls is not None:
            if node.name in ("__getattr__", "__getattribute__"):
                parent.cls.dynamic = True
            if any(d.split(".")[-1] == "abstractmethod" for d in decorators):
                parent.cls.abstract = True
        if doc is not None:
            text.scan_docstring(facts, str(doc.value), doc.lineno)

        self.visit_all(node.decorator_list)
        hashed = not facts.is_test and (parent is None or (in_class and len(self.scopes) == 1))
        if hashed:
            self.units.append(Unit(qualname, node.lineno))
        self.visit(node.args)
        if node.returns:
            self.visit(node.returns)
        self.scopes.append(self.function_scope(node, parent, in_class, qualname, decorators))
        self.visit_all(node.body[1:] if doc is not None else node.body)
        self.scopes.pop()
        if hashed:
            self.finish_unit(node.name, method=in_class)

    visit_AsyncFunctionDef = visit_FunctionDef

    def function_scope(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, parent: Scope | None, in_class: bool,
        qualname: str, decorators: list[str],
    ) -> Scope:  # fmt: skip
        if in_class:
            args = node.args.posonlyargs + node.args.args
            self_name = args[0].arg if args and "staticmethod" not in decorators else None
            return Scope("function", qualname, parent.cls if parent is not None else None, self_name)
        if parent is not None:  # nested function: closes over the method's `self`
            return Scope("function", qualname, parent.cls, parent.self_name)
        return Scope("function", qualname, None, None)

    def finish_unit(self, name: str, method: bool) -> None:
        unit = self.units.pop()
        digest = unit.digest()
        if self.units:
            outer = self.units[-1]
            outer.word(name)
            outer.word(digest)
            outer.nodes += unit.nodes
            outer.statements += unit.statements
        if not unit.big_enough():
            return
        if method:
            self.pending_methods.append((unit, digest))
        else:
            self.facts.clones.append(Clone(unit.qualname, unit.line, digest))

    def task_definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = dotted(call.func if call else decorator) or ""
            if target.split(".")[-1] not in ("task", "shared_task"):
                continue
            name = f"{self.facts.module}.{node.name}"
            for keyword in call.keywords if call else []:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    name = str(keyword.value.value)
            self.facts.tasks_defined.append((name, node.lineno))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        facts = self.facts
        parent = self.scopes[-1] if self.scopes else None
        qualname = self.qualify(node.name)
        doc = docstring(node.body)
        in_function = any(scope.kind == "function" for scope in self.scopes)
        cls = ClassFacts(qualname, node.lineno, bases=[dotted(b) or "?" for b in node.bases])
        for keyword in node.keywords:
            if keyword.arg == "metaclass":
                cls.abstract = (dotted(keyword.value) or "").endswith("ABCMeta")
        if not in_function:
            facts.classes.append(cls)
        if parent is None and not facts.is_test:
            decorated = bool(node.decorator_list)
            facts.definitions.append(
                Definition(qualname, node.name, "class", node.lineno, decorated, doc is not None)
            )
        self.bind(node.name, qualname)
        if doc is not None:
            text.scan_docstring(facts, str(doc.value), doc.lineno)

        self.visit_all(node.decorator_list)
        self.visit_all(node.bases)
        self.visit_all(node.keywords)
        hashed = parent is None and not facts.is_test
        if hashed:
            self.units.append(Unit(qualname, node.lineno))
            self.pending_methods = []
        self.scopes.append(Scope("class", qualname, None if in_function else cls, None))
        self.visit_all(node.body[1:] if doc is not None else node.body)
        self.scopes.pop()
        if hashed:
            unit = self.units.pop()
            digest = unit.digest()
            for method, method_digest in self.pending_methods:
                facts.clones.append(Clone(method.qualname, method.line, method_digest, digest))
            if unit.big_enough():
                facts.clones.append(Clone(qualname, node.lineno, digest))

    def resolve_bases(self) -> None:
        for cls in self.facts.classes:
            cls.bases = [self.resolve(base) for base in cls.bases]

    def resolve(self, name: str) -> str:
        head, _, rest = name.partition(".")
        if head in self.aliases:
            return self.aliases[head] + (f".{rest}" if rest else "")
        if head in BUILTIN_NAMES:
            return f"builtins.{name}"
        return name

    # -- names and attributes ----------------------------------------------------

    def visit_Name(self, node: ast.Name) -> None:
        store = isinstance(node.ctx, ast.Store)
        if store:
            self.bind(node.id)
        else:
            self.facts.refs.add(node.id)
        if self.units:
            self.units[-1].name(node.id, store)

    def visit_arg(self, node: ast.arg) -> None:
        if self.units:
            self.units[-1].name(node.arg, True)
        if node.annotation:
            self.visit(node.annotation)

    def visit_Global(self, node: ast.Global) -> None:
        self.facts.bound.update(node.names)
        if self.units:
            for name in node.names:
                self.units[-1].word(name)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.facts.refs.add(node.attr)
        if self.units:
            self.units[-1].word(node.attr)
        if not isinstance(node.ctx, ast.Load):
            self.facts.attr_stores.add(node.attr)
        scope = self.self_scope
        if scope is not None and scope.cls is not None:
            value = node.value
            if isinstance(value, ast.Name) and value.id == scope.self_name:
                if not isinstance(node.ctx, ast.Load):
                    scope.cls.attrs.add(node.attr)
                elif node.attr == "__dict__":
                    scope.cls.dynamic = True
        self.visit(node.value)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg:
            self.facts.refs.add(node.arg)
            if self.units:
                self.units[-1].word(node.arg)
        self.visit(node.value)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if self.units:
            self.units[-1].word(value.__class__.__name__)
        if isinstance(value, str) and len(value) <= MAX_STRING:
            self.string(value, node.lineno)

    def string(self, value: str, line: int) -> None:
        facts = self.facts
        if value.isidentifier():
            facts.refs.add(value)
            if value.endswith("_"):
                facts.string_prefixes.add(value)
        elif DOTTED.fullmatch(value):
            facts.dotted_strings.setdefault(value, line)
            facts.refs.update(value.split("."))
        elif "%" in value and (match := PERCENT_PREFIX.fullmatch(value)):
            facts.string_prefixes.add(match.group(1))
        elif ":" in value and "=" in value and (match := ENTRY_POINT.search(value)):
            module, function = match.groups()
            facts.dotted_strings.setdefault(module, line)
            facts.refs.add(function)
            facts.declared.append(("entry point", module, line))

    def visit_BinOp(self, node: ast.BinOp) -> None:
        left = node.left
        # getattr(self, "visit_" + kind), "Fix" + name: names built at runtime from a literal prefix
        if isinstance(node.op, ast.Add) and isinstance(left, ast.Constant) and is_identifier(left.value):
            self.facts.string_prefixes.add(left.value)
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        first = node.values[0] if node.values else None
        if isinstance(first, ast.Constant) and is_identifier(first.value):
            self.facts.string_prefixes.add(first.value)
        self.generic_visit(node)

    # -- assignments that configure things ---------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.configured(target, node.value, node.lineno)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.configured(node.target, node.value, node.lineno)
        self.generic_visit(node)

    def configured(self, target: ast.expr, value: ast.expr, line: int) -> None:
        facts = self.facts
        if isinstance(target, ast.Name) and self.at_module_level:
            items = string_items(value)
            if target.id == "__all__":
                self.exports(value, items)
            if target.id == "__all__" and facts.is_package:
                # `from pkg import *` imports the submodules listed in the package's __all__
                for name in items:
                    facts.dotted_strings.setdefault(f"{facts.module}.{name}", line)
            elif target.id.isupper():
                for name in items:
                    if name.isidentifier():  # settings list entries such as INSTALLED_APPS = ["blog"]
                        facts.dotted_strings.setdefault(name, line)
            if target.id == "INSTALLED_APPS":
                facts.declared.extend(("INSTALLED_APPS entry", name, line) for name in items)
            elif target.id in CELERY_SETTINGS:
                facts.declared.extend(("Celery imports entry", name, line) for name in items)
        elif target_is_celery_conf(target):
            facts.declared.extend(("Celery imports entry", n, line) for n in string_items(value))

    def exports(self, value: ast.expr, items: list[str]) -> None:
        literal = isinstance(value, ast.List | ast.Tuple) and len(items) == len(value.elts)
        if not literal:
            self.facts.dynamic_exports = True
        self.facts.exports = (self.facts.exports or set()) | set(items)

    # -- calls -------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        callee = (
            func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        )
        if callee in PRODUCER_CALLS or callee in CONSUMER_CALLS:
            self.channel_endpoint(node, "producer" if callee in PRODUCER_CALLS else "consumer")
        elif callee in TASK_NAME_CALLS:
            name = first_string(node)
            if name and (name.isidentifier() or DOTTED.fullmatch(name)):
                self.facts.tasks_called.append((name, node.lineno))
        elif callee in IMPORT_CALLS:
            name = first_string(node)
            if name and not name.startswith("."):
                self.facts.dotted_strings.setdefault(name, node.lineno)
            else:
                self.facts.dynamic_loader = True
        elif callee in DISCOVERY_CALLS:
            self.facts.dynamic_loader = True
        elif callee in NAMESPACE_WRITERS and isinstance(func, ast.Name):
            self.facts.open_namespace = True
        if callee == "Celery" or (callee == "update" and (dotted(func) or "").endswith("conf.update")):
            for keyword in node.keywords:
                if keyword.arg in ("include", "imports"):
                    names = string_items(keyword.value)
                    self.facts.declared.extend(("Celery imports entry", n, node.lineno) for n in names)
        self.self_call(node, callee)
        self.generic_visit(node)

    def channel_endpoint(self, node: ast.Call, role: str) -> None:
        channel = None
        for keyword in node.keywords:
            if keyword.arg in CHANNEL_KEYWORDS and isinstance(keyword.value, ast.Constant):
                channel = keyword.value.value
                break
        else:
            channel = first_string(node)
        if isinstance(channel, str) and CHANNEL.fullmatch(channel):
            self.facts.channels.append(ChannelEndpoint(role, channel, node.lineno))

    def self_call(self, node: ast.Call, callee: str | None) -> None:
        scope = self.self_scope
        if scope is None or scope.cls is None:
            return
        cls, me = scope.cls, scope.self_name
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Attribute)
            and isinstance(func.value.value, ast.Name)
            and func.value.value.id == me
        ):
            cls.uses.append((func.value.attr, node.lineno))
        args = node.args
        if callee in ATTRIBUTE_CALLS and args and isinstance(args[0], ast.Name) and args[0].id == me:
            name = args[1].value if len(args) > 1 and isinstance(args[1], ast.Constant) else None
            if not isinstance(name, str):
                cls.dynamic = True  # vars(self), setattr(self, computed, ...)
            elif callee in ("setattr", "__setattr__"):
                cls.attrs.add(name)
            else:
                cls.guarded.add(name)

    # -- module entry points -----------------------------------------------------

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (
            self.at_module_level
            and isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
        ):
            self.facts.is_entry = True
        self.generic_visit(node)


def is_identifier(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.isidentifier()


def target_is_celery_conf(target: ast.expr) -> bool:
    """`app.conf.include = [...]` / `app.conf.imports = [...]`."""
    return (
        isinstance(target, ast.Attribute)
        and target.attr in ("include", "imports")
        and (dotted(target.value) or "").endswith("conf")
    )


def strip_init(module: str) -> str:
    return module.removesuffix(".__init__")


def first_string(node: ast.Call) -> str | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None
