"""Exploration monitor: work the code itself says is unfinished.

The other monitors infer gaps from how code is wired; this one asks about gaps the
authors marked themselves, which is what someone exploring the tree wants first:

  UNIMPLEMENTED_STUB  a public module-level function whose whole body (docstring aside)
                      is `raise NotImplementedError`. Methods are left out on purpose:
                      in a class that is the usual "subclasses override this" idiom. So is
                      a function a typing.Protocol of the tree declares (a module implementing
                      the protocol: raising there says "not supported", not "not done yet").
  OPEN_TODO           a module with `# TODO` / `# FIXME` comments, one question per file.
                      XXX is not counted: CPython-style code uses it as emphasis.

Keys: stub:<qualname> and todo:<path>, both posted by one file only; protocol:<name>, a
method of a typing.Protocol class.
"""

from __future__ import annotations

from monitors.facts import FileFacts
from monitors.question import Question
from monitors.registry import Hypothesis, Lookup, Monitor, Postings, register
from monitors.signals import EXPLORATION_QUESTION

UNIMPLEMENTED_STUB = Hypothesis(
    "UNIMPLEMENTED_STUB",
    "medium",
    "'{name}' only raises NotImplementedError. Is it still planned, or should callers stop relying on it?",
    EXPLORATION_QUESTION,
)
OPEN_TODO = Hypothesis(
    "OPEN_TODO",
    "low",
    "{path} has {count} open {tags} {markers} still planned?",
    EXPLORATION_QUESTION,
)


# Asked by kloros_site.analysis.runtime from the pipeline's own measurements (under runtime:
# keys no file posts under, so never evaluated here), on this monitor's signal; the text is
# composed there, with the figures it measured.
RUNTIME = tuple(
    Hypothesis(name, severity, "{question}", EXPLORATION_QUESTION)
    for name, severity in (("MEMORY_PRESSURE_OPTIMIZATION", "medium"), ("QUEUE_BACKLOG", "medium"),
                           ("HOT_FILE", "low"), ("SLOW_ANALYSIS", "low"))
)  # fmt: skip


@register
class ExplorationMonitor(Monitor):
    id = "exploration"
    hypotheses = (UNIMPLEMENTED_STUB, OPEN_TODO, *RUNTIME)
    question_kinds = frozenset({"stub", "todo"})

    def postings(self, facts: FileFacts) -> Postings:
        postings: Postings = {}
        if facts.is_test:
            return postings
        for qualname, line in facts.stubs:
            postings[f"stub:{qualname}"] = line
        protocols = {
            c.qualname for c in facts.classes if any(b.rpartition(".")[2] == "Protocol" for b in c.bases)
        }
        for d in facts.definitions:
            if d.owner in protocols:  # the functions a module implementing the protocol provides
                postings[f"protocol:{d.name}"] = True
        if facts.todos:
            postings[f"todo:{facts.path}"] = sorted([tag, line] for tag, line in set(facts.todos))
        return postings

    def evaluate(self, key: str, lookup: Lookup) -> list[Question]:
        kind, _, name = key.partition(":")
        entries = lookup(key)
        if kind == "stub":
            if lookup.exists(f"protocol:{name.rpartition('.')[2]}"):
                return []  # a module's function of a protocol: raising says "not supported here"
            where = [f"{path}:{line}" for path, line in entries.items()]
            return [self.question(lookup, "UNIMPLEMENTED_STUB", key, where, f"symbol.{name}", name=name)]
        if kind == "todo":
            where = [f"{name}:{line}" for markers in entries.values() for _, line in markers]
            tags = sorted({tag for markers in entries.values() for tag, _ in markers})
            module = name.rsplit(".", 1)[0].replace("/", ".")
            return [
                self.question(lookup, "OPEN_TODO", key, where, f"module.{module}",
                              path=name, count=len(where), tags="/".join(tags),
                              markers="marker. Is it" if len(where) == 1 else "markers. Are they")
            ]  # fmt: skip
        return []
