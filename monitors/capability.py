"""Capability discovery monitor: what the tree declares or contains but never wires in.

Keys:
  module:<mod>     the module exists; whether it is an entry point     UNDISCOVERED_MODULE
  imported:<mod>   lines importing it (statements, dotted strings, settings lists)
  package:<pkg>    a regular package (__init__.py)
  loader:<pkg>     a module of pkg lists its package's modules at runtime (pkgutil.iter_modules):
                   read by everything below pkg
  loadable:<word>  what a computed import can load, under the first literal component of its
                   pattern (or "*"): [["*.base", ""], ["*", "base"]] of import_module("%s.base" % x)
                   (a module matching "*.base", and a package matching "*" with a child "base")
  prefix:<pkg>     "some module lives under pkg" (namespace packages, project membership)
  childimported:<pkg>  "some module directly in pkg is imported" (see below)
  scriptroot:<dir>  a script in that folder imports the modules beside it by their bare names
  strname:<name>   a lower-case identifier string of the tree ("config_flow"): what the holes of
                   f"{pkg}.{platform}" can be, for the entries of loadable:* marked "named"
  declared:<name>  INSTALLED_APPS / Celery include / configured entry points   MISSING_CAPABILITY

Only modules inside a regular package are asked about: a top-level module or package
is what users and scripts import from outside, and the tree cannot see them. Entry
points by convention (facts.ENTRY_FILES / ENTRY_DIRS, `if __name__ == "__main__"`,
tests) are never asked about. A package with a module that lists its modules at runtime
(pkgutil.iter_modules) silences everything below it, and so does a package none of whose
modules is imported: its members, and the package itself, are loaded some other way (a
plugin directory scanned by a loader elsewhere, a directory of scripts, a package kept for
importers outside the tree). A computed import (import_module(f"pkg.{x}"),
"%s.base" % name) makes loadable only the modules its pattern can name; a fully computed
one (import_module(path)) names only what strings elsewhere name, and those count already.

In a library (Config.kind == "library") public modules are API: only private ones
(keys.is_private) are asked about.

A declared "pkg.mod.Name" is satisfied by a module pkg.mod.Name or a name Name in pkg.mod.
"""

from __future__ import annotations

import itertools

from monitors.facts import FileFacts
from monitors.keys import ancestors, exists, in_project, is_private, module_postings, roots
from monitors.question import Question
from monitors.registry import Hypothesis, Lookup, Monitor, Postings, register
from monitors.roots import script_root
from monitors.signals import CAPABILITY_QUESTION
from monitors.visitor import HOLE, matches

UNDISCOVERED_MODULE = Hypothesis(
    "UNDISCOVERED_MODULE",
    "medium",
    "Module '{module}' is never imported in the tree and is no entry point. Is it wired in anywhere?",
    CAPABILITY_QUESTION,
)
MISSING_CAPABILITY = Hypothesis(
    "MISSING_CAPABILITY",
    "high",
    "'{name}' is configured ({kinds}) but no such module exists in the tree. Is it missing?",
    CAPABILITY_QUESTION,
)


def loaded_packages(pattern: str) -> list[tuple[str, str]]:
    """(head, child): a module matching head is loaded when it has that child.

    Importing a module imports its packages: "*.formats" loads pkg.locale.en.formats, and so
    pkg.locale.en (a head "*" with child "formats"). ("*.formats", "") is the pattern itself.
    """
    found = [(pattern, "")]
    parts = pattern.split(".")
    for i in range(1, len(parts)):
        head, tail = ".".join(parts[:i]), parts[i:]
        literal = list(itertools.takewhile(lambda w: HOLE not in w, tail))
        if literal:
            found.append((head, ".".join(literal)))
    return found


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
        for name in facts.string_names:
            postings[f"strname:{name}"] = True
        for pattern in sorted(facts.loader_patterns):
            if not any(w and HOLE not in w for w in pattern.split(".")):
                # f"{pkg}.{platform}": no literal word; it loads modules whose last part some string
                # of the tree names (the platform names: "config_flow", "sensor")
                if pattern.endswith(f".{HOLE}"):
                    postings.setdefault("loadable:*", []).append([pattern, "", "named"])
                continue
            for head, child in loaded_packages(pattern):
                word = next((w for w in head.split(".") if w and HOLE not in w), "*")
                entries = postings.setdefault(f"loadable:{word}", [])
                if [head, child] not in entries:
                    entries.append([head, child])
                    entries.sort()
        targets: dict[str, int] = {}
        for imp in facts.imports:
            names = [imp.module] if imp.name is None else [imp.module, f"{imp.module}.{imp.name}"]
            for name in names:
                targets.setdefault(name, imp.line)
        targets.update({n: line for n, line in facts.dotted_strings.items() if n not in targets})
        if root := script_root(facts.path, facts.is_script):  # `import helper` beside tools/run.py
            postings[f"scriptroot:{root}"] = True
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
        if any(payload["entry"] for payload in found.values()) or self.posted("imported", module, lookup):
            return []
        parent = module.rpartition(".")[0]
        if not parent or not lookup.exists(f"package:{parent}"):
            return []
        if lookup.config.library and not is_private(module):
            return []  # a library's public module is API, imported from outside the tree
        if any(lookup.exists(f"loader:{package}") for package in ancestors(module)):
            return []
        if self.loadable(module, lookup):
            return []
        if not self.posted("childimported", parent, lookup):
            return []  # no sibling is imported either: a plugin or script directory, loaded some other way
        package = lookup.exists(f"package:{module}") and lookup.exists(f"prefix:{module}")
        if package and not self.posted("childimported", module, lookup):
            return []  # nor any of its modules, which are not asked about: the package is loaded like them
        where = [f"{path}:1" for path in found]
        return [
            self.question(
                lookup, "UNDISCOVERED_MODULE", f"module:{module}", where, f"module.{module}", module=module
            )
        ]

    @staticmethod
    def posted(kind: str, module: str, lookup: Lookup) -> bool:
        """`kind:module` is posted, under the module's name or its name under another root."""
        if lookup.exists(f"{kind}:{module}"):
            return True
        if any(
            module.startswith(f"{root}.") and lookup.exists(f"{kind}:{module[len(root) + 1 :]}")
            for root in roots(lookup)
        ):
            return True
        # tools/helper.py imported as `helper` by a script beside it (a root for that script)
        return any(
            lookup.exists(f"scriptroot:{folder}") and lookup.exists(f"{kind}:{module[len(folder) + 1 :]}")
            for folder in ancestors(module)
        )

    @staticmethod
    def loadable(module: str, lookup: Lookup) -> bool:
        """A computed import elsewhere can name this module, or a module inside this package."""
        for word in [*dict.fromkeys(module.split(".")), "*"]:
            if not lookup.exists(f"loadable:{word}"):
                continue
            for entries in lookup(f"loadable:{word}").values():
                for head, child, *named in entries:
                    if not matches(head, module):
                        continue
                    if named:
                        if lookup.exists(f"strname:{module.rpartition('.')[2]}"):
                            return True
                    elif not child or exists(lookup, f"{module}.{child}"):
                        return True
        return False

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
