"""Facts about references: every name, attribute, keyword and name-like string a module uses,
and module-level assignments that configure things (__all__, settings lists, Celery imports).

A mixin of the one FactCollector walk (monitors/visitor.py, monitors/collector.py).
"""

from __future__ import annotations

import ast
import re

from monitors.collect_imports import DOTTED, target_is_celery_conf
from monitors.text import BACKTICKED
from monitors.visitor import FORMAT_FIELD, HOLE, Visitor, callee_name, pattern_of, string_items

CELERY_SETTINGS = {"CELERY_IMPORTS", "CELERY_INCLUDE"}
ENTRY_POINT = re.compile(r"=\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*:\s*([A-Za-z_]\w*)")
LOOKUP_CALLS = {"getattr", "hasattr"}  # the second argument names an attribute looked up at runtime
MAX_STRING = 200  # longer strings are prose, not names
# documentation showing a name: ``pkg.mod.Name``, "the @event_view decorator", code examples
DOC_MARKERS = ("``", "@", "::", ">>>")
DECORATOR_MENTION = re.compile(r"(?<![\w.])@([A-Za-z_]\w*)")
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


class ReferenceFacts(Visitor):
    # -- names, arguments, keywords ----------------------------------------------

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

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg:
            self.facts.refs.add(node.arg)
            if self.units:
                self.units[-1].word(node.arg)
        self.visit(node.value)

    # -- strings that name things ------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if self.units:  # by value: two queries of the same shape and different SQL are no clones
            self.units[-1].word(f"{value.__class__.__name__}:{value!r}")
        if isinstance(value, str):
            if len(value) <= MAX_STRING:
                self.string(value, node.lineno)
            if any(marker in value for marker in DOC_MARKERS):
                self.documentation(value)
            if "TODO" in value or "FIXME" in value:
                self.string_seen(node)
        elif isinstance(value, bytes) and (b"TODO" in value or b"FIXME" in value):
            self.string_seen(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        if any(
            isinstance(v, ast.Constant) and ("TODO" in v.value or "FIXME" in v.value) for v in node.values
        ):
            self.string_seen(node)
        self.generic_visit(node)

    def docstring_seen(self, doc: ast.Constant) -> None:
        super().docstring_seen(doc)
        if any(marker in doc.value for marker in DOC_MARKERS):
            self.documentation(doc.value)

    def documentation(self, text: str) -> None:
        """Names documentation shows are used, by the readers it is written for (plugins,
        users): ``pkg.mod.Name``, "the @decorator", and every name in a code example (an
        indented block after a line ending in "::", `>>>` lines)."""
        refs = self.facts.refs
        refs.update(name.rpartition(".")[2] for name in BACKTICKED.findall(text))
        refs.update(DECORATOR_MENTION.findall(text))
        if "::" not in text and ">>>" not in text:
            return
        example_indent = None  # inside an example: the indentation of the line that opened it
        for line in text.splitlines():
            stripped = line.lstrip()
            indent = len(line) - len(stripped)
            if example_indent is not None and stripped and indent <= example_indent:
                example_indent = None
            if example_indent is not None or stripped.startswith((">>>", "... ")):
                refs.update(IDENTIFIER.findall(stripped))
            elif stripped.endswith("::") or stripped.startswith(".. code"):  # also code-block:: python
                example_indent = indent

    def string(self, value: str, line: int) -> None:
        facts = self.facts
        if value.isidentifier():
            facts.refs.add(value)
            if self.method_keys:
                self.method_keys[-1].add(value)
            if value.islower():  # could name a module a computed import loads by convention
                facts.string_names.add(value)
        elif DOTTED.fullmatch(value):
            facts.dotted_strings.setdefault(value, line)
            facts.refs.update(value.split("."))
        elif ":" in value and "=" in value and (match := ENTRY_POINT.search(value)):
            module, function = match.groups()
            facts.dotted_strings.setdefault(module, line)
            facts.refs.add(function)
            facts.declared.append(("entry point", module, line))

    # -- names looked up by a string built at runtime ------------------------------

    def lookup_call(self, node: ast.Call, callee: str | None) -> None:
        """getattr(obj, "get_" + x) / hasattr(obj, f"visit_{kind}"): names that prefix can build are used.

        A string only counts when it reaches such a lookup, directly or through a local name:
        one "get_" elsewhere (a startswith test, a message) says nothing about which names are used.
        """
        if callee in LOOKUP_CALLS and isinstance(node.func, ast.Name) and len(node.args) >= 2:
            for pattern in self.built_names(node.args[1]):
                # "_" + x could be any private name: too little literal text to say which are used
                if HOLE in pattern and len(pattern.replace(HOLE, "").strip("_")) >= 2:
                    self.facts.name_patterns.add(pattern)

    def built_names(self, node: ast.expr) -> list[str]:
        """The patterns of the name a lookup builds; `fmt.format(x)` of a module-level template
        (FROM_CONFIG_FORMAT = "{}_from_config"), or of a loop variable over such templates,
        builds any of the module's templates."""
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Attribute) and func.attr == "format" and isinstance(func.value, ast.Name):
            template = self.templates.get(func.value.id)
            return [template] if template else list(self.templates.values())
        pattern = pattern_of(node, self.visible_patterns())
        return [pattern] if pattern else []

    def bind_pattern(self, target: ast.expr, value: ast.expr) -> None:
        """`name = "visit_" + kind`: remember what `name` holds, for a lookup further down."""
        if not isinstance(target, ast.Name):
            return
        kind = value.__class__
        template = isinstance(value, ast.Constant) and isinstance(value.value, str) and "{" in value.value
        if template and self.at_module_level and FORMAT_FIELD.search(value.value):  # "{}_from_config"
            self.templates[target.id] = FORMAT_FIELD.sub(HOLE, value.value)
        # only these build strings; checked first because every assignment comes through here
        if (
            kind is ast.BinOp
            or kind is ast.JoinedStr
            or (kind is ast.Call and callee_name(value.func) == "format")
        ):
            pattern = pattern_of(value, self.visible_patterns())
            if pattern and HOLE in pattern:
                self.prefixes[target.id] = pattern
                return
        if target.id in self.prefixes:
            del self.prefixes[target.id]

    # -- assignments that configure things ---------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.configured(target, node.value, node.lineno)
            self.bind_pattern(target, node.value)
            self.assigned(target, node.value)
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
