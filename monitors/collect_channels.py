"""The channels monitor's part of the one walk: scopes, bindings and calls, handed to channel_facts.

A mixin of the one FactCollector walk (monitors/visitor.py, monitors/collector.py). It only
forwards what the walk sees to monitors.channel_facts.ChannelCollector (imports and
definitions, function and class scopes, assignments, loop targets, `with ... as`, calls),
which resolves channel endpoints at the end of the file; it records no facts of its own.
"""

from __future__ import annotations

import ast

from monitors.channel_facts import ChannelCollector
from monitors.config import DEFAULT, Config
from monitors.facts import FileFacts
from monitors.visitor import Visitor


class ChannelHooks(Visitor):
    def __init__(self, facts: FileFacts, config: Config = DEFAULT, source: bytes | None = None) -> None:
        super().__init__(facts, config)
        # with the source, a file that names no endpoint gets a cheaper walk (channel_facts)
        self.channels = ChannelCollector(facts, config, source)

    def bind(self, name: str, target: str | None = None) -> None:
        if target:
            self.channels.bound(name, target)
        super().bind(name, target)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.channels.enter_function(node, self.qualify(node.name))
        super().visit_FunctionDef(node)  # type: ignore[misc]
        self.channels.leave()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.channels.enter_class(node, self.qualify(node.name))
        super().visit_ClassDef(node)  # type: ignore[misc]
        self.channels.leave()

    def assigned(self, target: ast.expr, value: ast.expr) -> None:
        self.channels.assign([target], value)
        super().assigned(target, value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.channels.annotate(node.target, node.annotation)
        if node.value is not None:
            self.channels.assign([node.target], node.value)
        self.generic_visit(node)

    def visit_For(self, node: ast.For | ast.AsyncFor | ast.comprehension) -> None:
        self.channels.loop(node.target, node.iter)
        self.generic_visit(node)

    visit_AsyncFor = visit_comprehension = visit_For

    def visit_withitem(self, node: ast.withitem) -> None:
        self.channels.entered(node)
        self.generic_visit(node)
