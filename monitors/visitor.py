"""The walk every fact collector shares: dispatch on node class, scopes, module-level bindings.

Modelled on pyflakes' checker: `visit` dispatches on the node's class to a `visit_<Class>`
handler, handlers record facts and walk their children, everything else walks generically.
The concerns (imports and tasks, definitions and components, references) add handlers as
mixins of `Visitor` (monitors/collect_*.py); monitors/collector.py assembles them into the one
FactCollector, so a file is still walked once. The structural hash units (monitors/clones.py)
listen to the same walk, so hashing costs no extra pass.
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
from collections.abc import Callable, Mapping

from monitors import text
from monitors.clones import Unit
from monitors.config import DEFAULT, Config
from monitors.facts import ClassFacts, FileFacts

BUILTIN_NAMES = frozenset(dir(builtins))
HOLE = "*"  # a part of a built string computed at runtime
PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[a-zA-Z]")
FORMAT_FIELD = re.compile(r"\{[^{}]*\}")


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


def first_string(node: ast.Call) -> str | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def pattern_of(node: ast.expr, names: Mapping[str, str] | None = None) -> str | None:
    """The string an expression builds, with HOLE for each part computed at runtime.

    "visit_" + kind -> "visit_*";  f"{pkg}.base" and "%s.base" % pkg -> "*.base";
    "get_{}".format(x) -> "get_*". `names` maps local names already bound to such a pattern.
    None when nothing of it is literal (a variable, a call): it can build anything.
    """
    built = _pattern(node, names or {})
    while HOLE * 2 in built:
        built = built.replace(HOLE * 2, HOLE)
    return None if not built.replace(HOLE, "") else built


def _pattern(node: ast.expr, names: Mapping[str, str]) -> str:
    if isinstance(node, ast.Constant):
        return node.value.replace(HOLE, "") if isinstance(node.value, str) else HOLE
    if isinstance(node, ast.JoinedStr):
        return "".join(_pattern(v, names) if isinstance(v, ast.Constant) else HOLE for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _pattern(node.left, names) + _pattern(node.right, names)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
        template = node.left.value
        if isinstance(template, str):
            return PERCENT_FIELD.sub(HOLE, template.replace("%%", "\0")).replace("\0", "%")
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        return FORMAT_FIELD.sub(HOLE, node.func.value.value)
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    return HOLE


def pattern_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split(HOLE)))


def matches(pattern: str, name: str) -> bool:
    """Whether a string built as `pattern` (see pattern_of) can be `name`."""
    return pattern_regex(pattern).fullmatch(name) is not None


def docstring(body: list[ast.stmt]) -> ast.Constant | None:
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first.value
    return None


def callee_name(func: ast.expr) -> str | None:
    """The called name: `f` of `f(...)` and of `obj.f(...)`."""
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


Dispatch = tuple[Callable[[ast.AST], None], str, bool]  # see Visitor.dispatch


@functools.cache
def child_fields(cls: type[ast.AST]) -> tuple[str, ...]:
    """The fields generic_visit walks: all but `ctx` (Load/Store is read off the parent)."""
    return tuple(name for name in cls._fields if name != "ctx")


class Scope:
    """A class or function body being walked."""

    __slots__ = ("kind", "qualname", "cls", "self_name", "prefixes")

    def __init__(self, kind: str, qualname: str, cls: ClassFacts | None, self_name: str | None) -> None:
        self.kind = kind
        self.qualname = qualname
        self.cls = cls  # the class whose `self` is in scope, if any
        self.self_name = self_name
        self.prefixes: dict[str, str] = {}  # local name -> literal prefix of the string it holds


class Visitor:
    def __init__(self, facts: FileFacts, config: Config = DEFAULT) -> None:
        self.facts = facts
        self.config = config
        self.scopes: list[Scope] = []
        self.module_prefixes: dict[str, str] = {}  # module-level name -> literal string prefix
        self.path_names: dict[str, tuple[str, ...]] = {}  # BASE_DIR = ...: name -> folder of the tree
        self.units: list[Unit] = []
        self.guarded = 0
        self.aliases: dict[str, str] = {}  # module-level name -> dotted target
        self.pending_methods: list[tuple[Unit, str]] = []  # method units waiting for the class digest
        self.method_keys: list[set[str]] = []  # identifier strings of each method being walked
        self.templates: dict[str, str] = {}  # module-level format templates: name -> pattern
        self.computes: set[str] = set()  # methods returning results of their own (no forwards)
        self._handlers: dict[type, Dispatch] = {}

    def collect(self, tree: ast.Module) -> None:
        for stmt in tree.body:
            self.visit(stmt)

    def visit(self, node: ast.AST) -> None:
        # runs once per node of every file: what depends only on the node's class is looked up once
        dispatch = self._handlers.get(node.__class__)
        if dispatch is None:
            dispatch = self._handlers[node.__class__] = self.dispatch(node.__class__)
        handler, kind, statement = dispatch
        if self.units:
            unit = self.units[-1]
            if unit.__class__ is not Unit:  # the module's unit also records its constants' values
                unit.enter(node)
                handler(node)
                unit.leave()
                return
            # Unit.enter and Unit.leave, inlined: a tenth of the walk's Python calls
            tokens = unit.tokens
            tokens.append(kind)
            unit.nodes += 1
            unit.statements += statement
            handler(node)
            tokens.append(")")
        else:
            handler(node)

    def dispatch(self, cls: type) -> Dispatch:
        """A node class's handler, its name (the hash token) and whether it is a statement."""
        handler = getattr(self, "visit_" + cls.__name__, self.generic_visit)
        return handler, cls.__name__, issubclass(cls, ast.stmt)

    def generic_visit(self, node: ast.AST) -> None:
        for name in child_fields(node.__class__):
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
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

    @property
    def prefixes(self) -> dict[str, str]:
        """Names of the innermost scope bound to a string built from a literal prefix."""
        return self.scopes[-1].prefixes if self.scopes else self.module_prefixes

    def visible_patterns(self) -> dict[str, str]:
        """Local names holding a built string (see pattern_of), innermost scope first."""
        return {**self.module_prefixes, **self.prefixes} if self.scopes else self.module_prefixes

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

    def docstring_seen(self, doc: ast.Constant) -> None:
        """A docstring (never walked as a constant): its Sphinx roles, and its span for TODO markers."""
        text.scan_docstring(self.facts, doc.value, doc.lineno)
        self.string_seen(doc)

    def string_seen(self, node: ast.Constant | ast.JoinedStr) -> None:
        """A string literal holding TODO/FIXME: a "# TODO" in it belongs to the text, not to this file."""
        self.facts.todo_strings.append(
            (node.lineno, node.col_offset, node.end_lineno or node.lineno, node.end_col_offset or 0)
        )

    def module_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """Hook: a module-level function was defined; concerns extend it (calling super())."""

    def assigned(self, target: ast.expr, value: ast.expr) -> None:
        """Hook: `target = value` was walked; concerns extend it (calling super())."""

    def resolve(self, name: str) -> str:
        """A module-level name as the dotted target it was imported or defined as."""
        head, _, rest = name.partition(".")
        if head in self.aliases:
            return self.aliases[head] + (f".{rest}" if rest else "")
        if head in BUILTIN_NAMES:
            return f"builtins.{name}"
        return name
