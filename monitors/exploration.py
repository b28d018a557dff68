"""Exploration monitor: work the code itself says is unfinished.

The other monitors infer gaps from how code is wired; this one asks about gaps the
authors marked themselves, which is what someone exploring the tree wants first:

  UNIMPLEMENTED_STUB  a public module-level function whose whole body (docstring aside)
                      is `raise NotImplementedError`. Methods are left out on purpose:
                      in a class that is the usual "subclasses override this" idiom.
  OPEN_TODO           a module with `# TODO` / `# FIXME` comments, one question per file.
                      XXX is not counted: CPython-style code uses it as emphasis.

Keys: stub:<qualname> and todo:<path>, both posted by one file only.
"""

from __future__ import annotations

from monitors.facts import FileFacts
from monitors.question import Question
from monitors.registry import Lookup, Monitor, Postings, register


@register
class ExplorationMonitor(Monitor):
    id = "exploration"
    question_kinds = frozenset({"stub", "todo"})

    def postings(self, facts: FileFacts) -> Postings:
        postings: Postings = {}
        if facts.is_test:
            return postings
        for qualname, line in facts.stubs:
            postings[f"stub:{qualname}"] = line
        if facts.todos:
            postings[f"todo:{facts.path}"] = sorted([tag, line] for tag, line in set(facts.todos))
        return postings

    def evaluate(self, key: str, lookup: Lookup) -> list[Question]:
        kind, _, name = key.partition(":")
        entries = lookup(key)
        if kind == "stub":
            where = [f"{path}:{line}" for path, line in entries.items()]
            text = f"'{name}' only raises NotImplementedError - is it still planned, or should callers stop relying on it?"
            return [
                Question.make(self.id, "UNIMPLEMENTED_STUB", key, text, where, "medium", f"symbol.{name}")
            ]
        if kind == "todo":
            where = [f"{name}:{line}" for markers in entries.values() for _, line in markers]
            tags = sorted({tag for markers in entries.values() for tag, _ in markers})
            text = f"{name} has {len(where)} open {'/'.join(tags)} marker(s) - are they still planned?"
            module = name.rsplit(".", 1)[0].replace("/", ".")
            return [Question.make(self.id, "OPEN_TODO", key, text, where, "low", f"module.{module}")]
        return []
