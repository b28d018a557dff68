"""Knowledge discovery monitor: documentation that is missing or no longer true.

Keys:
  docs:<path>    the module's undocumented public definitions     MISSING_DOCSTRINGS
  sym:<dotted>   lines of docs/docstrings naming a symbol          STALE_KNOWLEDGE
  module:<mod>   the module's names, "Class.member" for its classes' members, and
                 "Class.*" when a class has bases or dynamic attributes (members unknowable)
  prefix:<pkg>   "some module lives under pkg"
  cls:<qualname> a class's resolved bases and the methods it documents (read by docs: keys)
  alias:<dotted> what a package re-exports under that name (`from .base import BaseCommand`)

MISSING_DOCSTRINGS counts the module itself, its public functions and classes, and
public undecorated methods of public classes; it asks once per module when the count
reaches `min_undocumented` (MIN_UNDOCUMENTED by default). Not counted: test and generated
files, one-statement functions (`return self.x`), classes without methods (`class Error(Exception):
pass`, `lookup_name = "contains"`), methods of classes made inside functions, and overrides: of a
method a base class of the tree documents (read across files through cls: keys: the base's
docstring documents the override), and any method of a class with a base outside the tree
(a framework's hook: BaseCommand.handle, AppConfig.ready; its documentation is not readable here).

STALE_KNOWLEDGE checks a dotted name only when its first part is a package or module
of the tree (so `os.path.join` is never a question unless the tree is the stdlib); it
verifies the module, the name in it, and one member level of a class without bases.
"""

from __future__ import annotations

from monitors.facts import FileFacts
from monitors.keys import in_project, module_postings, resolve
from monitors.question import Question
from monitors.registry import Hypothesis, Lookup, Monitor, Postings, register
from monitors.signals import KNOWLEDGE_QUESTION

MIN_UNDOCUMENTED = 3

MISSING_DOCSTRINGS = Hypothesis(
    "MISSING_DOCSTRINGS",
    "low",
    "{path} has {count} public definitions without a docstring ({shown}). Worth documenting?",
    KNOWLEDGE_QUESTION,
)
STALE_KNOWLEDGE = Hypothesis(
    "STALE_KNOWLEDGE",
    "medium",
    "Documentation names '{symbol}', which no longer exists in the tree. Is the documentation stale?",
    KNOWLEDGE_QUESTION,
)


def public(name: str) -> bool:
    return not name.startswith("_")


@register
class KnowledgeMonitor(Monitor):
    id = "knowledge"
    hypotheses = (MISSING_DOCSTRINGS, STALE_KNOWLEDGE)
    question_kinds = frozenset({"docs", "sym"})

    def __init__(self, min_undocumented: int = MIN_UNDOCUMENTED) -> None:
        self.min_undocumented = min_undocumented

    def postings(self, facts: FileFacts) -> Postings:
        postings: Postings = {}
        if facts.kind == "python":
            module_postings(facts, postings, {"names": self.names(facts), "open": facts.open_namespace})
            undocumented = self.undocumented(facts)
            if undocumented:
                postings[f"docs:{facts.path}"] = undocumented
            documented: dict[str, list[str]] = {}
            for d in facts.definitions:
                if d.kind == "method" and d.documented:
                    documented.setdefault(d.owner, []).append(d.name)
            for name, target in facts.reexports.items():
                postings[f"alias:{facts.module}.{name}"] = target
            for cls in [] if facts.is_test else facts.classes:
                postings[f"cls:{cls.qualname}"] = {
                    "bases": list(cls.bases),
                    "documented": sorted(documented.get(cls.qualname, [])),
                }
        for symbol, line in facts.doc_refs:
            lines = postings.setdefault(f"sym:{symbol}", [])
            if line not in lines:
                lines.append(line)
                lines.sort()
        return postings

    @staticmethod
    def names(facts: FileFacts) -> list[str]:
        names = facts.bound | (facts.exports or set())
        for cls in facts.classes:
            head, _, name = cls.qualname.rpartition(".")
            if head != facts.module:
                continue
            names.update(f"{name}.{attr}" for attr in cls.attrs)
            if cls.dynamic or any(base not in ("builtins.object", "object") for base in cls.bases):
                names.add(f"{name}.*")
        return sorted(names)

    @staticmethod
    def undocumented(facts: FileFacts) -> list[list]:
        if facts.is_test or facts.generated or not all(public(part) for part in facts.module.split(".")):
            return []
        missing: list[list] = [] if facts.documented else [[facts.module, 1]]
        private_classes = {d.qualname for d in facts.definitions if d.kind == "class" and not public(d.name)}
        for d in facts.definitions:
            if d.documented or d.trivial or not public(d.name) or d.owner in private_classes:
                continue
            if d.kind == "method" and (d.decorated or d.name.startswith("__")):
                continue
            # a method may override a documented one: evaluation looks at its class's bases
            missing.append([d.qualname, d.line, d.owner] if d.kind == "method" else [d.qualname, d.line])
        return sorted(missing)

    def evaluate(self, key: str, lookup: Lookup) -> list[Question]:
        kind, _, name = key.partition(":")
        if kind == "docs":
            return self.missing_docstrings(name, lookup)
        if kind == "sym":
            return self.stale(name, lookup)
        return []

    def missing_docstrings(self, path: str, lookup: Lookup) -> list[Question]:
        missing = [
            entry[:2]
            for payload in lookup(f"docs:{path}").values()
            for entry in payload
            if len(entry) < 3 or not self.documented_above(entry[2], entry[0].rpartition(".")[2], lookup)
        ]
        if len(missing) < self.min_undocumented:
            return []
        shown = ", ".join(q.rsplit(".", 1)[-1] for q, _ in missing[:5]) + (
            ", ..." if len(missing) > 5 else ""
        )
        where = [f"{path}:{line}" for _, line in missing]
        module = path.rsplit(".", 1)[0].replace("/", ".")
        return [
            self.question(lookup, "MISSING_DOCSTRINGS", f"docs:{path}", where, f"module.{module}",
                          path=path, count=len(missing), shown=shown)
        ]  # fmt: skip

    @staticmethod
    def documented_above(owner: str, method: str, lookup: Lookup) -> bool:
        """Whether a base class of `owner` documents `method` (the override's docs): a base in the
        tree that documents it, or a base outside the tree (a framework's: Django's
        BaseCommand.handle, Thread.run), whose documentation this analysis cannot read."""
        seen = {owner}
        todo = [base for payload in lookup(f"cls:{owner}").values() for base in payload["bases"]]
        while todo:
            base = todo.pop()
            if base in seen or base in ("builtins.object", "object"):
                continue
            seen.add(base)
            found = lookup(f"cls:{base}")
            if not found:
                aliased = list(lookup(f"alias:{base}").values())  # a package re-exports it
                if not aliased:
                    return True  # outside the tree: the method may well override a documented one
                todo.extend(aliased)
            for payload in found.values():
                if method in payload["documented"]:
                    return True
                todo.extend(payload["bases"])
        return False

    def stale(self, symbol: str, lookup: Lookup) -> list[Question]:
        if not in_project(lookup, symbol) or self.resolves(symbol, lookup):
            return []
        where = [f"{path}:{line}" for path, lines in lookup(f"sym:{symbol}").items() for line in lines]
        return [
            self.question(
                lookup, "STALE_KNOWLEDGE", f"sym:{symbol}", where, f"symbol.{symbol}", symbol=symbol
            )
        ]

    @staticmethod
    def resolves(symbol: str, lookup: Lookup) -> bool:
        parts = symbol.split(".")
        for i in range(len(parts), 0, -1):
            module = resolve(lookup, ".".join(parts[:i]))  # under whichever root the code imports it
            if module is not None:
                break
        rest = parts[i:]
        if not rest:
            return True
        modules = lookup(f"module:{module}")
        if any(payload["open"] for payload in modules.values()):
            return True
        names = {name for payload in modules.values() for name in payload["names"]}
        if rest[0] not in names:
            return False
        if len(rest) == 1 or f"{rest[0]}.*" in names:
            return True
        is_class = any(name.startswith(f"{rest[0]}.") for name in names)
        return not is_class or f"{rest[0]}.{rest[1]}" in names
