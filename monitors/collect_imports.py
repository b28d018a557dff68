"""Facts about imports and Celery tasks: what a module imports, loads or sends by name.

A mixin of the one FactCollector walk (monitors/visitor.py, monitors/collector.py).
"""

from __future__ import annotations

import ast
import re

from monitors import roots
from monitors.facts import Import
from monitors.visitor import HOLE, Visitor, dotted, first_string, pattern_of, string_items

TASK_NAME_CALLS = {"send_task", "signature"}
IMPORT_CALLS = {"import_module", "__import__", "import_string"}
DISCOVERY_CALLS = {"iter_modules", "walk_packages", "autodiscover_tasks"}
SYS_PATH_EDITS = {"insert", "append", "addsitedir", "extend"}
IMPORT_GUARDS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def strip_init(module: str) -> str:
    return module.removesuffix(".__init__")


def target_is_celery_conf(target: ast.expr) -> bool:
    """`app.conf.include = [...]` / `app.conf.imports = [...]`."""
    return (
        isinstance(target, ast.Attribute)
        and target.attr in ("include", "imports")
        and (dotted(target.value) or "").endswith("conf")
    )


class ImportFacts(Visitor):
    # -- import statements -------------------------------------------------------

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

    # -- calls that import, discover or send tasks by name -----------------------

    def import_call(self, node: ast.Call, callee: str | None) -> None:
        """Calls of the import and task concern; the collector's visit_Call routes them here."""
        if callee in TASK_NAME_CALLS:
            name = first_string(node)
            if name and (name.isidentifier() or DOTTED.fullmatch(name)):
                self.facts.tasks_called.append((name, node.lineno))
        elif callee in IMPORT_CALLS and node.args:
            pattern = pattern_of(node.args[0], self.visible_patterns())
            if pattern and pattern.startswith("."):
                pattern = self.relative_pattern(node, pattern)
            if pattern and callee == "import_string":  # "pkg.mod.Name": the module is pkg.mod
                pattern = pattern.rpartition(".")[0]
            if not pattern:
                pass  # import_module(path): it names only what other strings of the tree name
            elif HOLE not in pattern:
                self.facts.dotted_strings.setdefault(pattern, node.lineno)
            else:
                self.facts.loader_patterns.add(pattern)
        elif callee in DISCOVERY_CALLS:
            self.facts.dynamic_loader = True
        if callee in SYS_PATH_EDITS:
            func = node.func  # sys.path.insert(...) / site.addsitedir(...): not every list's append
            on_path = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute)
            if callee == "addsitedir" or (on_path and func.value.attr == "path"):
                self.sys_path_edit(node)
        if callee == "Celery" or (callee == "update" and (dotted(node.func) or "").endswith("conf.update")):
            for keyword in node.keywords:
                if keyword.arg in ("include", "imports"):
                    names = string_items(keyword.value)
                    self.facts.declared.extend(("Celery imports entry", n, node.lineno) for n in names)

    # -- import roots --------------------------------------------------------------

    def file_parts(self) -> roots.Parts:
        return tuple(self.facts.path.split("/"))

    def sys_path_edit(self, node: ast.Call) -> None:
        names = self.path_names
        if (dotted(node.func) or "") == "sys.path.extend" and node.args:
            elts = node.args[0].elts if isinstance(node.args[0], ast.List | ast.Tuple) else []
            found = [roots.path_of(e, self.file_parts(), names) for e in elts]
        else:
            found = [roots.sys_path_root(node, self.file_parts(), names)]
        self.facts.roots.update(".".join(parts) for parts in found if parts)

    def assigned(self, target: ast.expr, value: ast.expr) -> None:
        """BASE_DIR = Path(__file__).resolve().parent.parent: a folder a later sys.path edit may use."""
        super().assigned(target, value)
        if isinstance(target, ast.Subscript) and dotted(target.value) == "sys.modules":
            self.facts.open_namespace = True  # sys.modules[__name__] = other: it answers for any name
        if isinstance(target, ast.Name) and roots.may_be_path(value):
            parts = roots.path_of(value, self.file_parts(), self.path_names)
            if parts is not None:
                self.path_names[target.id] = parts

    def relative_pattern(self, node: ast.Call, pattern: str) -> str | None:
        """import_module(".x", __package__): relative to this module's package (or, given __name__, to it)."""
        anchor = node.args[1] if len(node.args) > 1 else None
        for keyword in node.keywords:
            if keyword.arg == "package":
                anchor = keyword.value
        facts = self.facts
        package = facts.module if facts.is_package else facts.module.rpartition(".")[0]
        anchors = {"__package__": package, "__name__": facts.module, "__spec__.parent": package}
        base = anchors.get(dotted(anchor) or "") if anchor is not None else None
        if base is None:
            return None
        level = len(pattern) - len(pattern.lstrip("."))
        parts = base.split(".") if base else []
        if level - 1 > len(parts):
            return None
        parts = parts[: len(parts) - (level - 1)]
        return ".".join([*parts, pattern[level:]]) if parts else pattern[level:]

    def module_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """A module-level function decorated as a Celery task registers under a name."""
        super().module_function(node)
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
            self.facts.is_entry = self.facts.is_script = True
        self.generic_visit(node)
