"""The fact collector: one walk over one module's AST, one handler per node type.

Modelled on pyflakes' checker (see monitors/visitor.py). Each concern contributes its
handlers as a mixin: imports and tasks (collect_imports), definitions, classes and clone
hashes (collect_definitions), references and configuring assignments (collect_references),
scopes and bindings for the channels monitor (collect_channels).
Calls are routed here, because several concerns look at the same call.
"""

from __future__ import annotations

import ast

from monitors.clones import ModuleUnit
from monitors.collect_channels import ChannelHooks
from monitors.collect_definitions import DefinitionFacts
from monitors.collect_imports import ImportFacts
from monitors.collect_references import ReferenceFacts
from monitors.visitor import callee_name, docstring, dotted, first_string  # noqa: F401  (re-exported)

NAMESPACE_WRITERS = {"globals", "exec"}  # a module that does this can define any name


class FactCollector(ChannelHooks, ImportFacts, DefinitionFacts, ReferenceFacts):
    def collect(self, tree: ast.Module) -> None:
        doc = docstring(tree.body)
        self.facts.documented = doc is not None
        if doc is not None:
            self.docstring_seen(doc)
        # the whole module is a hash unit too: a file copied whole is one clone, not one per function
        hashed = not self.facts.is_test and not self.facts.generated
        if hashed:
            self.units.append(ModuleUnit(self.facts.module, 1))
        super().collect(tree)
        if hashed:
            self.finish_module_unit()
        self.resolve_bases()
        self.facts.channels = self.channels.finish(tree, self.aliases)
        if self.facts.is_package:  # `from pkg import Base` names pkg.base.Base: classes are found through it
            module = self.facts.module
            self.facts.reexports = {
                name: target
                for name, target in self.aliases.items()
                if "." in target and target != f"{module}.{name}" and not name.startswith("_")
            }

    # -- calls -------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        callee = callee_name(func)
        self.channels.call(node, callee)
        if callee in NAMESPACE_WRITERS and isinstance(func, ast.Name):
            self.facts.open_namespace = True
        else:
            self.import_call(node, callee)
        self.lookup_call(node, callee)
        self.self_call(node)
        self.generic_visit(node)
