"""Facts about definitions: functions, classes, their members, and their structural hashes.

A mixin of the one FactCollector walk (monitors/visitor.py, monitors/collector.py). Covers
what DEAD_CODE and MISSING_DOCSTRINGS list (definitions), what UNINITIALIZED_COMPONENT
checks (classes: bases, declared attributes, `self.x.method()` uses) and what
DUPLICATE_RESPONSIBILITY compares (clone digests of function and class bodies).
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from monitors.clones import Unit
from monitors.facts import ClassFacts, Clone, Definition
from monitors.visitor import Scope, Visitor, callee_name, docstring, dotted

# Decorators that change how a function is called, not whether something calls it.
PLAIN_DECORATORS = {"staticmethod", "classmethod", "property", "functools.cached_property", "cached_property"}
ATTRIBUTE_CALLS = {"hasattr", "getattr", "setattr", "__setattr__", "delattr", "vars"}
# documentation addressing subclasses: "Base class for payment providers ...", "Subclasses are
# recommended to implement ...", "Implementations must override this property ...", "Optionally
# override to ..."; not a class describing itself ("A subclass of dict", "Override save to ...")
FOR_SUBCLASSES = re.compile(
    r"\b(?:base class for|subclasses (?:must|should|may|can|are)|derived classes|to be subclassed"
    r"|(?:may|must|should|can|optionally) (?:be )?overrid(?:e|den)|override this"
    r"|implementations? (?:must|should|may))",
    re.IGNORECASE,
)


COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match,
            ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)  # fmt: skip
if hasattr(ast, "TryStar"):
    COMPOUND += (ast.TryStar,)


def is_trivial(body: list[ast.stmt]) -> bool:
    """One simple statement after an optional docstring: `return self.x`, `pass`, `quote_name = complain`."""
    body = body[1:] if docstring(body) else body
    return len(body) == 1 and not isinstance(body[0], COMPOUND)


def is_declarative(body: list[ast.stmt]) -> bool:
    """A class body without methods: it declares what a framework reads (`lookup_name = "contains"`)."""
    return not any(isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) for stmt in body)


def is_stub(body: list[ast.stmt]) -> bool:
    """Only `raise NotImplementedError` (after an optional docstring)."""
    body = body[1:] if docstring(body) else body
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


# a docstring written for an API reference: Sphinx field lists (":param new_values: ...")
FIELD_LIST = re.compile(r"^\s*:(?:param|returns?|raises|rtype)\b", re.MULTILINE)


def is_extension_point(body: list[ast.stmt], doc: ast.Constant | None) -> bool:
    """A class made to be subclassed: its docstring, or a method's, addresses subclasses. When
    nothing in the tree subclasses it, its subclasses live outside (plugins), as a library's
    users do."""
    docs = [doc] + [docstring(s.body) for s in body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)]
    return any(d is not None and FOR_SUBCLASSES.search(d.value) for d in docs)


def is_deprecation_shim(body: list[ast.stmt]) -> bool:
    """The body starts by warning that it is deprecated (`warnings.warn(..., RemovedInX0Warning)`):
    it is deleted when that release comes, so copies of it are no responsibility to share."""
    first = body[1] if len(body) > 1 and docstring(body) is not None else body[0] if body else None
    call = first.value if isinstance(first, ast.Expr) else None
    if not isinstance(call, ast.Call) or (dotted(call.func) or "").split(".")[-1] != "warn":
        return False
    category = (
        call.args[1]
        if len(call.args) > 1
        else next((k.value for k in call.keywords if k.arg == "category"), None)
    )
    name = (dotted(category) or "").split(".")[-1] if category is not None else ""
    return "Deprecat" in name or name.startswith("RemovedIn")


def mark_extension(definitions: list[Definition], index: int) -> None:
    definitions[index] = replace(definitions[index], extension=True)


class DefinitionFacts(Visitor):
    # -- functions and methods ---------------------------------------------------

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        facts = self.facts
        parent = self.scopes[-1] if self.scopes else None
        qualname = self.qualify(node.name)
        decorators = [dotted(d.func if isinstance(d, ast.Call) else d) or "?" for d in node.decorator_list]
        registering = [d for d in decorators if d not in PLAIN_DECORATORS]
        doc = docstring(node.body)
        in_class = parent is not None and parent.kind == "class"
        kind = "function" if parent is None else "method" if in_class else None
        # a method of a class made inside a function is an implementation detail of that function
        nested = in_class and parent.cls is None
        index = None
        if kind and not facts.is_test and not nested:
            owner = parent.qualname if in_class else ""
            index = len(facts.definitions)
            facts.definitions.append(
                Definition(qualname, node.name, kind, node.lineno, bool(registering), doc is not None, owner,
                           is_trivial(node.body), doc is not None and FIELD_LIST.search(doc.value) is not None)
            )  # fmt: skip
        if parent is None:
            if node.name == "__getattr__":  # PEP 562: the module answers for any name
                facts.open_namespace = True
            self.module_function(node)
            if not registering and is_stub(node.body) and not node.name.startswith("_"):
                facts.stubs.append((qualname, node.lineno))
        self.bind(node.name, qualname)
        if in_class and parent.cls is not None:
            if node.name in ("__getattr__", "__getattribute__"):
                parent.cls.dynamic = True
            elif node.name == "__init_subclass__":
                parent.cls.registers = True
            if any(d.split(".")[-1] == "abstractmethod" for d in decorators):
                parent.cls.abstract = True
        if doc is not None:
            self.docstring_seen(doc)

        self.visit_all(node.decorator_list)
        hashed = not facts.is_test and (parent is None or (in_class and len(self.scopes) == 1))
        if hashed:
            self.units.append(Unit(qualname, node.lineno))
        self.visit(node.args)
        if node.returns:
            self.visit(node.returns)
        self.scopes.append(self.function_scope(node, parent, in_class, qualname, decorators))
        self.method_keys.append(set())
        self.visit_all(node.body[1:] if doc is not None else node.body)
        keys = self.method_keys.pop()
        self.scopes.pop()
        # clean_<field> reading the field 'x' it is named after: the framework calls it per key
        if in_class and index is not None and any(node.name.endswith(f"_{key}") for key in keys):
            mark_extension(facts.definitions, index)
        if hashed:
            self.finish_unit(node.name, method=in_class, shim=is_deprecation_shim(node.body))

    visit_AsyncFunctionDef = visit_FunctionDef

    def function_scope(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, parent: Scope | None, in_class: bool,
        qualname: str, decorators: list[str],
    ) -> Scope:  # fmt: skip
        if in_class:
            args = node.args.posonlyargs + node.args.args
            self_name = args[0].arg if args and "staticmethod" not in decorators else None
            return Scope("function", qualname, parent.cls, self_name)
        if parent is not None:  # nested function: closes over the method's `self`
            return Scope("function", qualname, parent.cls, parent.self_name)
        return Scope("function", qualname, None, None)

    def finish_unit(self, name: str, method: bool, shim: bool = False) -> None:
        unit = self.units.pop()
        digest = unit.digest(self.units, self.aliases)
        if self.units:
            outer = self.units[-1]
            outer.word(name)
            outer.word(digest)
            outer.nodes += unit.nodes
            outer.statements += unit.statements
        if shim or not unit.big_enough():
            return
        if method:
            self.pending_methods.append((unit, digest))
        else:
            self.facts.clones.append(Clone(unit.qualname, unit.line, digest, statements=unit.statements))

    # -- classes -----------------------------------------------------------------

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
        index = None
        if parent is None and not facts.is_test:
            index = len(facts.definitions)
            # class keywords go to a base's __init_subclass__, which registers it (domain=DOMAIN)
            decorated = bool(node.decorator_list) or any(k.arg != "metaclass" for k in node.keywords)
            facts.definitions.append(
                Definition(qualname, node.name, "class", node.lineno, decorated, doc is not None, "",
                           is_declarative(node.body))
            )  # fmt: skip
        self.bind(node.name, qualname)
        if doc is not None:
            self.docstring_seen(doc)

        self.visit_all(node.decorator_list)
        self.visit_all(node.bases)
        self.visit_all(node.keywords)
        hashed = parent is None and not facts.is_test
        if hashed:
            self.units.append(Unit(qualname, node.lineno, attributes=True))
            self.pending_methods = []
        self.scopes.append(Scope("class", qualname, None if in_function else cls, None))
        self.visit_all(node.body[1:] if doc is not None else node.body)
        self.scopes.pop()
        if index is not None and is_extension_point(node.body, doc):
            mark_extension(facts.definitions, index)
        if hashed:
            unit = self.units.pop()
            digest = unit.digest(self.units, self.aliases)
            if self.units:  # the module's unit
                self.units[-1].word(node.name)
                self.units[-1].word(digest)
                self.units[-1].nodes += unit.nodes
                self.units[-1].statements += unit.statements
            for method, method_digest in self.pending_methods:
                facts.clones.append(
                    Clone(method.qualname, method.line, method_digest, digest, statements=method.statements)
                )
            if unit.big_enough():
                facts.clones.append(Clone(qualname, node.lineno, digest, statements=unit.statements))

    def finish_module_unit(self) -> None:
        """A module with two or more top-level definitions whose whole body is a clone: one question
        for the copied file, and its definitions point at it (as a class's methods at the class)."""
        unit = self.units.pop()
        facts = self.facts
        if sum(d.kind != "method" for d in facts.definitions) < 2 or not unit.big_enough():
            return
        digest = unit.digest()
        facts.clones = [c if c.parent else replace(c, parent=digest) for c in facts.clones]
        facts.clones.append(Clone(facts.module, 1, digest, "", file=True, statements=unit.statements))

    def resolve_bases(self) -> None:
        for cls in self.facts.classes:
            cls.bases = [self.resolve(base) for base in cls.bases]

    # -- components: what a class sets and uses on self --------------------------

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

    def visit_Return(self, node: ast.Return) -> None:
        """`return self.file.readable()` in `readable`: the method forwards to what it holds,
        unless it also returns results of its own (constants, as in a guard, are not its own)."""
        value = node.value.value if isinstance(node.value, ast.Await) else node.value
        scope = self.self_scope
        if scope is not None:
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and isinstance(value.func.value, ast.Attribute)
                and isinstance(value.func.value.value, ast.Name)
                and value.func.value.value.id == scope.self_name
                and scope.qualname.endswith(f".{value.func.attr}")
            ):
                if scope.qualname not in self.computes:
                    self.facts.delegates.add(scope.qualname)
            elif value is not None and not isinstance(value, ast.Constant):
                self.computes.add(scope.qualname)
                self.facts.delegates.discard(scope.qualname)
        self.generic_visit(node)

    def self_call(self, node: ast.Call) -> None:
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
        callee = callee_name(func)
        args = node.args
        if callee in ATTRIBUTE_CALLS and args and isinstance(args[0], ast.Name) and args[0].id == me:
            name = args[1].value if len(args) > 1 and isinstance(args[1], ast.Constant) else None
            if not isinstance(name, str):
                cls.dynamic = True  # vars(self), setattr(self, computed, ...)
            elif callee in ("setattr", "__setattr__"):
                cls.attrs.add(name)
            else:
                cls.guarded.add(name)
