"""Wiring concern of the integration monitor: imports and Celery tasks that lead nowhere.

Keys:
  import:<mod>   lines importing mod / names of mod      MISSING_WIRING
                 {"module": [lines], "names": {name: [lines]}, "guarded": [...], "guarded_names": {...},
                  "root": folder of a script importing it (its own first sys.path entry)}
  task:<name>    Celery task definitions and by-name calls   MISSING_WIRING
  module:<mod>   the module's top-level names (posted by the integration monitor)
  decorated:<mod> its module-level classes with a decorator: a decorator may set names derived
                 from the class's on the module (hierarkey's `@hk.add()` on Event sets Event_SettingsStore)
  prefix:<pkg>   "some module lives under pkg" (tells project modules from stdlib/third party)
  roots:all      other roots the tree imports itself under (monitors/roots.py): `kloros.bus`
                 and `src.kloros.bus` are one module

An import under try/except ImportError plans for the module to be missing; when the module
belongs to the tree and is not in it, the import can never succeed here: a low-severity
question, unless the name says it is optional by design (a private accelerator `_speedups`,
compiled and so not in the tree; a `local_settings` kept out of version control).
"""

from __future__ import annotations

import re
from typing import Any

from monitors.facts import FileFacts
from monitors.keys import add_line, evidence, exists, in_project, resolve
from monitors.question import Question
from monitors.registry import Concern, Hypothesis, Lookup, Postings
from monitors.roots import script_root
from monitors.signals import INTEGRATION_QUESTION

OPTIONAL_BY_DESIGN = re.compile(r"(^|\.)_[^.]*$|(^|[._])local([._]|$)")
# Every module has these without binding them.
MODULE_ATTRIBUTES = {"__doc__", "__name__", "__file__", "__path__", "__spec__", "__loader__",
                     "__package__", "__builtins__", "__dict__", "__all__"}  # fmt: skip

MISSING_WIRING = Hypothesis(
    "MISSING_WIRING",
    "high",
    "Module '{module}' is imported but does not exist in the tree. Was it moved or never written?",
    INTEGRATION_QUESTION,
    variants=(
        ("name", "'{name}' is imported from '{module}', which defines no such name. Is the wiring stale?"),
        ("task", "Celery task '{name}' is sent by name but no task in the tree is registered under it."),
        (
            "guarded",
            "Module '{module}' is imported under try/except ImportError, but the tree has no such "
            "module, so the import can never succeed here. Is it stale?",
        ),
        (
            "guarded_name",
            "'{name}' is imported from '{module}' under try/except ImportError, but '{module}' "
            "defines no such name, so the import can never succeed. Is it stale?",
        ),
    ),
)


class Wiring(Concern):
    hypotheses = (MISSING_WIRING,)
    question_kinds = frozenset({"import", "task"})

    def postings(self, facts: FileFacts, postings: Postings) -> None:
        if facts.kind != "python" or facts.is_test:  # tests import and poke at missing things on purpose
            return
        root = script_root(facts.path, facts.is_script)
        for imp in facts.imports:
            if imp.module == facts.module:
                continue
            key = f"import:{imp.module}"
            if root:
                postings.setdefault(key, {})["root"] = root
            if imp.name is None:
                add_line(postings, key, "guarded" if imp.guarded else "module", imp.line)
            else:
                field = "guarded_names" if imp.guarded else "names"
                lines = postings.setdefault(key, {}).setdefault(field, {}).setdefault(imp.name, [])
                if imp.line not in lines:
                    lines.append(imp.line)
                    lines.sort()
        top = f"{facts.module}."
        decorated = sorted(
            d.name
            for d in facts.definitions
            if d.kind == "class" and d.decorated and d.qualname == top + d.name
        )
        if decorated:
            postings[f"decorated:{facts.module}"] = decorated
        for name, line in facts.tasks_defined:
            add_line(postings, f"task:{name}", "defined", line)
        for name, line in facts.tasks_called:
            if not name.startswith("celery."):  # Celery's own built-in tasks
                add_line(postings, f"task:{name}", "called", line)

    def evaluate(self, kind: str, name: str, lookup: Lookup) -> list[Question]:
        return self.evaluate_import(name, lookup) if kind == "import" else self.evaluate_task(name, lookup)

    def evaluate_import(self, module: str, lookup: Lookup) -> list[Question]:
        entries = lookup(f"import:{module}")
        scripts = sorted({e["root"] for e in entries.values() if "root" in e})
        resolved = resolve(lookup, module, scripts)
        if resolved is None:
            if not in_project(lookup, module, scripts) or self.bound_in_parent(module, lookup, scripts):
                return []  # stdlib or third party; or `import os.path` where os binds path
            where = lines_of(entries, "module", "names")
            guarded = lines_of(entries, "guarded", "guarded_names")
            if where:
                return [self.question(lookup, "MISSING_WIRING", f"import:{module}", where + guarded,
                                      f"module.{module}", module=module)]  # fmt: skip
            if guarded and not OPTIONAL_BY_DESIGN.search(module):
                return [self.question(lookup, "MISSING_WIRING", f"import:{module}", guarded, f"module.{module}",
                                      severity="low", variant="guarded", module=module)]  # fmt: skip
            return []
        defined = lookup(f"module:{resolved}")
        if any(payload["open"] for payload in defined.values()):
            return []
        names = {n for payload in defined.values() for n in payload["names"]} | MODULE_ATTRIBUTES
        derived = tuple(f"{c}_" for classes in lookup(f"decorated:{resolved}").values() for c in classes)
        wanted: dict[str, tuple[list[str], list[str]]] = {}
        for path, entry in entries.items():
            for field, guarded in (("names", False), ("guarded_names", True)):
                for name, lines in entry.get(field, {}).items():
                    wanted.setdefault(name, ([], []))[guarded].extend(f"{path}:{line}" for line in lines)
        questions = []
        for name, (where, guarded) in sorted(wanted.items()):
            # `import pkg.name` elsewhere: the module-level key asks about it, under the same subject
            if (
                name in names
                or (derived and name.startswith(derived))
                or exists(lookup, f"{resolved}.{name}")
                or lookup.exists(f"import:{module}.{name}")
                or (not where and (OPTIONAL_BY_DESIGN.search(module) or name.startswith("_")))
            ):
                continue
            target = f"{module}.{name}"
            severity, variant = (None, "name") if where else ("low", "guarded_name")
            questions.append(
                self.question(lookup, "MISSING_WIRING", f"import:{target}", where + guarded, f"symbol.{target}",
                              severity=severity, variant=variant, name=name, module=module)
            )  # fmt: skip
        return questions

    @staticmethod
    def bound_in_parent(module: str, lookup: Lookup, scripts: list[str]) -> bool:
        parent, _, name = module.rpartition(".")
        resolved = resolve(lookup, parent, scripts) if parent else None
        found = lookup(f"module:{resolved}") if resolved else {}
        return any(payload["open"] or name in payload["names"] for payload in found.values())

    def evaluate_task(self, name: str, lookup: Lookup) -> list[Question]:
        entries = lookup(f"task:{name}")
        called = evidence(entries, "called")
        if not called or evidence(entries, "defined"):
            return []
        return [
            self.question(
                lookup, "MISSING_WIRING", f"task:{name}", called, f"task.{name}", variant="task", name=name
            )
        ]


def lines_of(entries: dict[str, Any], module_field: str, names_field: str) -> list[str]:
    """ "path:line" of every `import mod` (module_field) and `from mod import x` (names_field)."""
    where = evidence(entries, module_field)
    where += [
        f"{path}:{line}"
        for path, entry in entries.items()
        for lines in entry.get(names_field, {}).values()
        for line in lines
    ]
    return where
