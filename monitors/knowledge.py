"""Knowledge discovery monitor: documentation that is missing or no longer true.

Keys:
  docs:<path>    the module's undocumented public definitions     MISSING_DOCSTRINGS
  sym:<dotted>   lines of docs/docstrings naming a symbol          STALE_KNOWLEDGE
  module:<mod>   the module's names, "Class.member" for its classes' members, and
                 "Class.*" when a class has bases or dynamic attributes (members unknowable)
  prefix:<pkg>   "some module lives under pkg"
  cls:<qualname> a class's resolved bases, the methods it documents, its members (methods and
                 attributes) and the hooks it looks up on self by name (read by docs: keys)
  alias:<dotted> what a package re-exports under that name (`from .base import BaseCommand`)
  sub:<qualname> the classes of the tree naming that class as a base (a mixin's partners)
  star:<pkg>     modules a package imports whole (`from .aggregates import *`): a base named
                 pkg.X may be one of theirs (a guess: it only ever removes questions)

MISSING_DOCSTRINGS counts the module itself, its public functions and classes, and
public undecorated methods of public classes; it asks once per module when the count
reaches `min_undocumented` (MIN_UNDOCUMENTED by default). Not counted: test and generated
files, one-statement functions (`return self.x`), classes without methods (`class Error(Exception):
pass`, `lookup_name = "contains"`), methods of classes made inside functions, and overrides: of a
method a base class of the tree documents (read across files through cls: keys: the base's
docstring documents the override), of a hook a base looks up by name (`hasattr(self,
"process_request")` in Django's MiddlewareMixin: the base's protocol; a name the base's module
builds for a lookup, `getattr(self, "visit_" + kind)`), and any method of a class
with a base outside the tree (a framework's hook: BaseCommand.handle, AppConfig.ready; its
documentation is not readable here). Nor a class that only specializes its bases: every public
method it defines overrides a member or hook of a base in the tree (`class Extent(GeoAggregate)`
setting `name` and overriding `convert_value`): its name and its base say what it is. A mixin's
method that a class combining it gets from another base too overrides that base's (Django's
StaticFilesHandlerMixin.get_response, mixed with WSGIHandler). A class with a `help` text (a
management command's, shown by --help) is documented by it. A method that returns what the
same-named method of an object it holds returns (`return self.file.readable()` in `readable`)
forwards to it and is documented by that object's.

STALE_KNOWLEDGE checks a dotted name only when its first part is a package or module
of the tree (so `os.path.join` is never a question unless the tree is the stdlib); it
verifies the module, the name in it, and one member level of a class without bases. A name
with a placeholder part (`foo`, `spam`, a lone lower-case letter, `test_a`, `mod_b`) is an
example in an explanation (`../tests/test_a.py` is module `tests.test_a`), not a claim.
"""

from __future__ import annotations

import re

from monitors.facts import FileFacts
from monitors.keys import in_project, module_postings, resolve
from monitors.question import Question
from monitors.registry import Hypothesis, Lookup, Monitor, Postings, register
from monitors.signals import KNOWLEDGE_QUESTION
from monitors.visitor import matches

MIN_UNDOCUMENTED = 3
# metasyntactic words, a lone letter, or a word with a letter for a suffix: `foo.bar`, `tests.test_a`
PLACEHOLDER = re.compile(r"foo|bar|baz|qux|quux|spam|eggs|ham|[a-z]|[a-z]\w*_[a-z]")

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
            if facts.is_package and (whole := sorted({i.module for i in facts.imports if i.name is None})):
                postings[f"star:{facts.module}"] = whole
            for cls in [] if facts.is_test else facts.classes:
                for base in cls.bases:
                    subclasses = postings.setdefault(f"sub:{base}", [])
                    subclasses.append(cls.qualname)
                postings[f"cls:{cls.qualname}"] = {
                    "bases": list(cls.bases),
                    "documented": sorted(documented.get(cls.qualname, [])),
                    "members": sorted(cls.attrs),
                    "hooks": sorted(cls.guarded),
                    "patterns": sorted(facts.name_patterns),  # its module's getattr(x, "visit_" + kind)
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
        helped = {cls.qualname for cls in facts.classes if "help" in cls.attrs}  # BaseCommand.help
        methods: dict[str, list[str]] = {}  # class -> its public methods: overrides, or its own?
        for d in facts.definitions:
            if d.kind == "method" and public(d.name) and not d.name.startswith("__"):
                methods.setdefault(d.owner, []).append(d.name)
        for d in facts.definitions:
            if d.documented or d.trivial or not public(d.name) or d.owner in private_classes:
                continue
            if d.kind == "class" and d.qualname in helped:
                continue
            if d.kind == "method" and (
                d.decorated or d.name.startswith("__") or d.qualname in facts.delegates
            ):
                continue
            # a method may override a documented one, a class only specialize its bases:
            # evaluation looks at the bases
            if d.kind == "method":
                missing.append([d.qualname, d.line, d.owner])
            elif d.kind == "class":
                missing.append([d.qualname, d.line, "", sorted(methods.get(d.qualname, []))])
            else:
                missing.append([d.qualname, d.line])
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
            if self.asked(entry, lookup)
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

    def asked(self, entry: list, lookup: Lookup) -> bool:
        """Whether an undocumented definition counts: [qualname, line] of a module or function,
        [qualname, line, owner] of a method, [qualname, line, "", public methods] of a class."""
        if len(entry) == 2:
            return True
        qualname, _, owner, *methods = entry
        if owner:  # an override of a documented method or of a hook is documented with its base
            ancestors, outside = self.ancestry(owner, lookup)
            name = qualname.rpartition(".")[2]
            if outside or any(name in a["documented"] or self.hook(name, a) for a in ancestors):
                return False
            partners = [
                p
                for subs in lookup(f"sub:{owner}").values()
                for sub in subs
                for p in self.ancestry(sub, lookup)[0]
            ]
            return not any(name in a["documented"] for a in partners)
        ancestors, _ = self.ancestry(qualname, lookup)
        inherited = {name for a in ancestors for name in a["members"]}
        own = [m for m in methods[0] if m not in inherited and not any(self.hook(m, a) for a in ancestors)]
        return not lookup(f"cls:{qualname}") or not ancestors or bool(own)

    @staticmethod
    def hook(method: str, ancestor: dict) -> bool:
        """Whether a base calls `method` by name: hasattr(self, "process_request"), or a name its
        module builds for a lookup (`getattr(self, "visit_" + kind)` calls visit_Call)."""
        return method in ancestor["hooks"] or any(matches(p, method) for p in ancestor["patterns"])

    @staticmethod
    def ancestry(owner: str, lookup: Lookup) -> tuple[list[dict], bool]:
        """The cls: payloads of `owner`'s ancestors in the tree, and whether one is outside it (a
        framework's: Django's BaseCommand, Thread), whose documentation this analysis cannot read."""
        seen = {owner}
        todo = [base for payload in lookup(f"cls:{owner}").values() for base in payload["bases"]]
        ancestors: list[dict] = []
        outside = False
        while todo:
            base = todo.pop()
            if base in seen or base in ("builtins.object", "object"):
                continue
            seen.add(base)
            found = lookup(f"cls:{base}")
            if not found:
                aliased = list(lookup(f"alias:{base}").values())  # a package re-exports it
                if not aliased:
                    # maybe through `import *`: its members are learnt, but it stays unknown
                    # (outside) for what it documents, as an unresolved base always was
                    outside = True
                    package, _, name = base.rpartition(".")
                    modules = {m for whole in lookup(f"star:{package}").values() for m in whole}
                    aliased = [f"{m}.{name}" for m in sorted(modules) if lookup.exists(f"cls:{m}.{name}")]
                todo.extend(aliased)
            for payload in found.values():
                ancestors.append(payload)
                todo.extend(payload["bases"])
        return ancestors, outside

    def stale(self, symbol: str, lookup: Lookup) -> list[Question]:
        if any(PLACEHOLDER.fullmatch(part) for part in symbol.split(".")):
            return []
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
