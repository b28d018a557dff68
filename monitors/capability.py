"""Capability discovery monitor: what the tree declares or contains but never wires in.

Keys:
  module:<mod>     the module exists; whether it is an entry point     UNDISCOVERED_MODULE
  imported:<mod>   lines importing it (statements, dotted strings, settings lists)
  package:<pkg>    a regular package (__init__.py)
  loader:<pkg>     a module of pkg imports modules by computed name (read by everything below pkg)
  prefix:<pkg>     "some module lives under pkg" (namespace packages, project membership)
  childimported:<pkg>  "some module directly in pkg is imported" (see below)
  declared:<name>  INSTALLED_APPS / Celery include / configured entry points   MISSING_CAPABILITY

Only modules inside a regular package are asked about: a top-level module or package
is what users and scripts import from outside, and the tree cannot see them. Entry
points by convention (facts.ENTRY_FILES / ENTRY_DIRS, `if __name__ == "__main__"`,
tests) are never asked about. A package with a module that discovers modules at runtime
(pkgutil.iter_modules, import_module(non-literal)) silences everything below it, and so does
a package none of whose modules is imported: its members are loaded some other way
(a plugin directory scanned by a loader elsewhere, a directory of scripts).

A declared "pkg.mod.Name" is satisfied by a module pkg.mod.Name or a name Name in pkg.mod.
"""

from __future__ import annotations

from monitors.facts import FileFacts
from monitors.keys import ancestors, exists, in_project, module_postings
from monitors.question import Question
from monitors.registry import Hypothesis, Lookup, Monitor, Postings, register
from monitors.signals import CAPABILITY_QUESTION

UNDISCOVERED_MODULE = Hypothesis(
    "UNDISCOVERED_MODULE",
    "medium",
    "Module '{module}' is never imported in the tree and is no entry point - is it wired in anywhere?",
    CAPABILITY_QUESTION,
)
MISSING_CAPABILITY = Hypothesis(
    "MISSING_CAPABILITY",
    "high",
    "'{name}' is configured ({kinds}) but no such module exists in the tree - is it missing?",
    CAPABILITY_QUESTION,
)


@register
class CapabilityMonitor(Monitor):
    id = "capability"
    hypotheses = (UNDISCOVERED_MODULE, MISSING_CAPABILITY)
    question_kinds = frozenset({"module", "declared"})

    def postings(self, facts: FileFacts) -> Postings:
        postings: Postings = {}
        if facts.kind == "python":
            names = sorted(facts.bound | (facts.exports or set()))
            module_postings(
                facts, postings, {"entry": facts.is_entry, "names": names, "open": facts.open_namespace}
            )
            if facts.is_package:
                postings[f"package:{facts.module}"] = True
            package = facts.module if facts.is_package else facts.module.rpartition(".")[0]
            if facts.dynamic_loader and package:
                postings[f"loader:{package}"] = True
        targets: dict[str, int] = {}
        for imp in facts.imports:
            names = [imp.module] if imp.name is None else [imp.module, f"{imp.module}.{imp.name}"]
            for name in names:
                targets.setdefault(name, imp.line)
        targets.update({n: line for n, line in facts.dotted_strings.items() if n not in targets})
        for name, line in list(targets.items()):
            for parent in ancestors(name):
                targets.setdefault(parent, line)
        for name, line in targets.items():
            if name != facts.module:
                postings[f"imported:{name}"] = line
                parent = name.rpartition(".")[0]
                if parent:
                    postings[f"childimported:{parent}"] = True
        for kind, name, line in facts.declared:
            entries = postings.setdefault(f"declared:{name}", [])
            if [kind, line] not in entries:
                entries.append([kind, line])
                entries.sort()
        return postings

    def evaluate(self, key: str, lookup: Lookup) -> list[Question]:
        kind, _, name = key.partition(":")
        if kind == "module":
            return self.undiscovered(name, lookup)
        if kind == "declared":
            return self.missing(name, lookup)
        return []

    def undiscovered(self, module: str, lookup: Lookup) -> list[Question]:
        found = lookup(f"module:{module}")
        if any(payload["entry"] for payload in found.values()) or lookup.exists(f"imported:{module}"):
            return []
        parent = module.rpartition(".")[0]
        if not parent or not lookup.exists(f"package:{parent}"):
            return []
        if any(lookup.exists(f"loader:{package}") for package in ancestors(module)):
            return []
        if not lookup.exists(f"childimported:{parent}"):
            return []  # no sibling is imported either: a plugin or script directory, loaded some other way
        where = [f"{path}:1" for path in found]
        return [
            self.question(
                lookup, "UNDISCOVERED_MODULE", f"module:{module}", where, f"module.{module}", module=module
            )
        ]

    def missing(self, name: str, lookup: Lookup) -> list[Question]:
        if exists(lookup, name) or self.defined_in_parent(name, lookup) or not in_project(lookup, name):
            return []
        entries = lookup(f"declared:{name}")
        kinds = sorted({kind for payload in entries.values() for kind, _ in payload})
        where = [f"{path}:{line}" for path, payload in entries.items() for _, line in payload]
        return [
            self.question(lookup, "MISSING_CAPABILITY", f"declared:{name}", where, f"module.{name}",
                          name=name, kinds=", ".join(kinds))
        ]  # fmt: skip

    @staticmethod
    def defined_in_parent(name: str, lookup: Lookup) -> bool:
        """ "blog.apps.BlogConfig": a name in an existing module."""
        parent, _, last = name.rpartition(".")
        found = lookup(f"module:{parent}") if parent else {}
        return any(payload["open"] or last in payload["names"] for payload in found.values())
