"""Wiring concern of the integration monitor: imports and Celery tasks that lead nowhere.

Keys:
  import:<mod>   lines importing mod / names of mod      MISSING_WIRING
  task:<name>    Celery task definitions and by-name calls   MISSING_WIRING
  module:<mod>   the module's top-level names (posted by the integration monitor)
  prefix:<pkg>   "some module lives under pkg" (tells project modules from stdlib/third party)
"""

from __future__ import annotations

from monitors.facts import FileFacts
from monitors.keys import add_line, evidence, exists, in_project
from monitors.question import Question
from monitors.registry import Concern, Hypothesis, Lookup, Postings
from monitors.signals import INTEGRATION_QUESTION

# Every module has these without binding them.
MODULE_ATTRIBUTES = {"__doc__", "__name__", "__file__", "__path__", "__spec__", "__loader__",
                     "__package__", "__builtins__", "__dict__", "__all__"}  # fmt: skip

MISSING_WIRING = Hypothesis(
    "MISSING_WIRING",
    "high",
    "Module '{module}' is imported but does not exist in the tree - was it moved or never written?",
    INTEGRATION_QUESTION,
    variants=(
        ("name", "'{name}' is imported from '{module}', which defines no such name - is the wiring stale?"),
        ("task", "Celery task '{name}' is sent by name but no task in the tree is registered under it."),
    ),
)


class Wiring(Concern):
    hypotheses = (MISSING_WIRING,)
    question_kinds = frozenset({"import", "task"})

    def postings(self, facts: FileFacts, postings: Postings) -> None:
        if facts.kind != "python" or facts.is_test:  # tests import and poke at missing things on purpose
            return
        for imp in facts.imports:
            if imp.guarded or imp.module == facts.module:
                continue  # try/except ImportError: the code plans for it to be missing
            key = f"import:{imp.module}"
            if imp.name is None:
                add_line(postings, key, "module", imp.line)
            else:
                names = postings.setdefault(key, {}).setdefault("names", {})
                lines = names.setdefault(imp.name, [])
                if imp.line not in lines:
                    lines.append(imp.line)
                    lines.sort()
        for name, line in facts.tasks_defined:
            add_line(postings, f"task:{name}", "defined", line)
        for name, line in facts.tasks_called:
            if not name.startswith("celery."):  # Celery's own built-in tasks
                add_line(postings, f"task:{name}", "called", line)

    def evaluate(self, kind: str, name: str, lookup: Lookup) -> list[Question]:
        return self.evaluate_import(name, lookup) if kind == "import" else self.evaluate_task(name, lookup)

    def evaluate_import(self, module: str, lookup: Lookup) -> list[Question]:
        entries = lookup(f"import:{module}")
        if not exists(lookup, module):
            if not in_project(lookup, module) or self.bound_in_parent(module, lookup):
                return []  # stdlib or third party; or `import os.path` where os binds path
            where = evidence(entries, "module")
            where += [
                f"{p}:{line}"
                for p, e in entries.items()
                for lines in e.get("names", {}).values()
                for line in lines
            ]
            return [
                self.question(
                    lookup, "MISSING_WIRING", f"import:{module}", where, f"module.{module}", module=module
                )
            ]
        defined = lookup(f"module:{module}")
        if any(payload["open"] for payload in defined.values()):
            return []
        names = {n for payload in defined.values() for n in payload["names"]} | MODULE_ATTRIBUTES
        wanted: dict[str, list[str]] = {}
        for path, entry in entries.items():
            for name, lines in entry.get("names", {}).items():
                wanted.setdefault(name, []).extend(f"{path}:{line}" for line in lines)
        questions = []
        for name, where in sorted(wanted.items()):
            # `import pkg.name` elsewhere: the module-level key asks about it, under the same subject
            if (
                name not in names
                and not exists(lookup, f"{module}.{name}")
                and not lookup.exists(f"import:{module}.{name}")
            ):
                target = f"{module}.{name}"
                questions.append(
                    self.question(lookup, "MISSING_WIRING", f"import:{target}", where, f"symbol.{target}",
                             variant="name", name=name, module=module)
                )  # fmt: skip
        return questions

    @staticmethod
    def bound_in_parent(module: str, lookup: Lookup) -> bool:
        parent, _, name = module.rpartition(".")
        found = lookup(f"module:{parent}") if parent else {}
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
