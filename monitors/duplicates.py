"""Duplicates concern of the integration monitor: the same body in several modules.

Keys:
  clone:<digest>   functions/classes/whole modules with this normalized body (monitors/clones.py):
                   {"clones": [[qualname, line, digest of the enclosing class or copied file,
                   "file" or ""]], "module": dotted name ("pkg.__init__" for a package),
                   "statements": size of the body}                         DUPLICATE_RESPONSIBILITY
  holds:<pkg>      pkg holds a module of its own, besides __init__ and subpackages
  capability:imported:<pkg>  read: the files importing pkg or a module under it

Constants count by value (two queries of one shape with different SQL are no clones); a class
or file that is a clone as a whole is one question, its members are not asked about again
(but one of them stands for the copies when a third module shares just that member).
Generated files (facts.generated) are left out.

Copies that each sit in their own plugin are asked about only from PLUGIN_STATEMENTS
statements on: a few lines of the scaffold every plugin repeats are cheaper than a dependency
between two independently maintained plugins (a fork is not). A plugin here is a subpackage of
a folder of plugins (a package holding nothing but subpackages, so no shared home for the
copies beside them) that nothing outside it imports: the framework loads it by name, as Home
Assistant does its integrations. Django's GIS backends are no such plugins: their package
holds utils.py and a base package, where shared code goes.
"""

from __future__ import annotations

from typing import Any

from monitors.facts import FileFacts, is_test_path
from monitors.question import Question
from monitors.registry import Concern, Hypothesis, Lookup, Postings
from monitors.signals import INTEGRATION_QUESTION

PLUGIN_STATEMENTS = 10

DUPLICATE_RESPONSIBILITY = Hypothesis(
    "DUPLICATE_RESPONSIBILITY",
    "low",
    "{names} have the same body in {modules} modules. Should they share one implementation?",
    INTEGRATION_QUESTION,
    variants=(
        (
            "file",
            "Modules {names} have the same content. Is one a copy of the other that could import it instead?",
        ),
    ),
)


def plugin_of(module: str, common: list[str]) -> str | None:
    """The package right below the copies' common package that holds `module`, if it is a package."""
    parts = module.split(".")
    return ".".join(parts[: len(common) + 1]) if len(parts) > len(common) + 1 else None


def common_package(modules: list[str]) -> list[str]:
    """The parts of the deepest package holding every one of `modules`."""
    first, *rest = [m.split(".")[:-1] for m in modules]
    size = min([len(first)] + [len(parts) for parts in rest])
    for i in range(size):
        if any(parts[i] != first[i] for parts in rest):
            return first[:i]
    return first[:size]


class Duplicates(Concern):
    hypotheses = (DUPLICATE_RESPONSIBILITY,)
    question_kinds = frozenset({"clone"})

    def postings(self, facts: FileFacts, postings: Postings) -> None:
        if facts.kind == "python" and not facts.is_package and "." in facts.module:
            postings[f"holds:{facts.module.rpartition('.')[0]}"] = True
        if facts.generated:
            return  # a family of generated files is the generator's business, not a shared responsibility
        module = f"{facts.module}.__init__" if facts.is_package else facts.module
        for clone in facts.clones:
            entry = postings.setdefault(
                f"clone:{clone.digest}", {"clones": [], "module": module, "statements": clone.statements}
            )
            entry["clones"].append([clone.qualname, clone.line, clone.parent, "file" if clone.file else ""])

    def evaluate(self, kind: str, digest: str, lookup: Lookup) -> list[Question]:
        entries = lookup(f"clone:{digest}")
        if len(entries) < 2 or self.plugin_scaffold(entries, lookup):
            return []
        kept: dict[str, list[list[Any]]] = {}
        covered: dict[str, list[tuple[str, str, int]]] = {}
        files = False
        for path, payload in entries.items():
            for qualname, line, parent, file in payload["clones"]:
                files = files or bool(file)
                if parent and len(lookup(f"clone:{parent}")) >= 2:
                    # the whole class (or file) is a clone: that question covers this one
                    covered.setdefault(parent, []).append((path, qualname, line))
                    continue
                kept.setdefault(path, []).append([qualname, line])
        for members in covered.values():  # one stands for its copies, for a module sharing just this
            path, qualname, line = min(members)
            kept.setdefault(path, []).append([qualname, line])
        if len(kept) < 2:
            return []
        names = sorted({qualname for clones in kept.values() for qualname, _ in clones})
        where = [f"{path}:{line}" for path, clones in kept.items() for _, line in clones]
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        capability = f"module.{names[0]}" if files else f"symbol.{names[0]}"
        return [
            self.question(lookup, "DUPLICATE_RESPONSIBILITY", f"clone:{digest}", where, capability,
                          variant="file" if files else None, names=shown, modules=len(kept))
        ]  # fmt: skip

    @staticmethod
    def plugin_scaffold(entries: dict[str, Any], lookup: Lookup) -> bool:
        """Small copies, each in a different plugin package that nothing outside it imports."""
        if max(payload["statements"] for payload in entries.values()) >= PLUGIN_STATEMENTS:
            return False
        modules = {path: payload["module"] for path, payload in entries.items()}
        common = common_package(list(modules.values()))
        if not common or lookup.exists(f"holds:{'.'.join(common)}"):
            return False  # top-level packages (programs of their own), or a package with shared code
        plugins: dict[str, str] = {}  # plugin package -> its folder
        for path, module in modules.items():
            plugin = plugin_of(module, common)
            if plugin is None or plugin in plugins:
                return False  # a copy beside the common package, or two copies in one plugin
            depth = len(module.split(".")) - len(plugin.split("."))  # folders below the plugin's
            plugins[plugin] = path.rsplit("/", depth)[0]
        for plugin, folder in plugins.items():
            importers = lookup.read(f"capability:imported:{plugin}")
            # tests import the plugin they test: that does not make it a library
            if any(
                not path.startswith(f"{folder}/") and not is_test_path(path, lookup.config)
                for path in importers
            ):
                return False  # a package others import is a shared library, not a plugin
        return True
