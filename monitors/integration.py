"""Integration monitor: how components are wired together.

Keys (all per name, so an edit re-evaluates only the names it touches):
  channel:<topic>      producer/consumer lines           ORPHANED_QUEUE, ORPHANED_CONSUMER
  pattern:<word>       wildcard subscriptions by first word   ORPHANED_CONSUMER (wildcards)
  produced:<word>      topics produced, by first word (read by pattern:<word>)
  module:<mod>         the module's top-level names      (read by import:<mod>)
  prefix:<pkg>         "some module lives under pkg"    (read to tell project from stdlib)
  import:<mod>         lines importing mod / names of mod    MISSING_WIRING
  task:<name>          Celery task definitions and by-name calls   MISSING_WIRING
  class:<qualname>     bases, declared attrs, self.x.m() uses      UNINITIALIZED_COMPONENT
  subclass:<qualname>  direct subclasses (read by class:<qualname>)
  clone:<digest>       functions/classes with this normalized body  DUPLICATE_RESPONSIBILITY
  name:<identifier>    definitions by that name                  DEAD_CODE
  used:<identifier>    any reference to that name (read with exists: many files post it)
  strprefix:<prefix>   "visit_" of getattr(self, "visit_" + kind) (read by name:visit_*)

Wildcard subscriptions whose first word is itself a wildcard ("#", "*.error") are
filed under pattern:* and silence matching orphaned queues, but are never asked
about themselves: whether they match anything would need every topic of the tree.
"""

from __future__ import annotations

from typing import Any

from monitors.facts import FileFacts, is_test_path
from monitors.keys import add_line, evidence, exists, in_project, module_postings, sorted_pairs
from monitors.question import Question
from monitors.registry import Lookup, Monitor, Postings, register

LEADING_WILDCARD = "*"
# Bases that declare no instance attributes and register nothing.
EMPTY_BASES = {"builtins.object", "object", "abc.ABC", "ABC", "typing.Generic", "Generic"}
ABSTRACT_BASES = {"abc.ABC", "ABC", "typing.Protocol", "Protocol"}
# Every module has these without binding them.
MODULE_ATTRIBUTES = {"__doc__", "__name__", "__file__", "__path__", "__spec__", "__loader__",
                     "__package__", "__builtins__", "__dict__", "__all__"}  # fmt: skip


def topic_matches(pattern: str, topic: str) -> bool:
    """AMQP topic matching: '*' is exactly one word, '#' zero or more."""

    def match(p: list[str], t: list[str]) -> bool:
        if not p:
            return not t
        if p[0] == "#":
            return any(match(p[1:], t[i:]) for i in range(len(t) + 1))
        return bool(t) and (p[0] == "*" or p[0] == t[0]) and match(p[1:], t[1:])

    return match(pattern.split("."), topic.split("."))


def is_pattern(channel: str) -> bool:
    return any(word in ("*", "#") for word in channel.split("."))


def first_word(channel: str) -> str:
    word = channel.split(".")[0]
    return LEADING_WILDCARD if word in ("*", "#") else word


def is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def string_prefixes(name: str) -> list[str]:
    """ "visit_Call" -> ["visit_"]: the prefixes a dynamic getattr dispatch could build it from."""
    return [name[: i + 1] for i, char in enumerate(name) if char == "_" and 0 < i < len(name) - 1]


@register
class IntegrationMonitor(Monitor):
    id = "integration"
    question_kinds = frozenset({"channel", "pattern", "import", "task", "class", "clone", "name"})

    # -- postings ----------------------------------------------------------------

    def postings(self, facts: FileFacts) -> Postings:
        postings: Postings = {}
        if facts.kind == "python":
            self.channel_postings(facts, postings)
            names = sorted(facts.bound | (facts.exports or set()))  # __all__ promises its names
            module_postings(facts, postings, {"names": names, "open": facts.open_namespace})
            if not facts.is_test:  # tests import and poke at missing things on purpose
                self.import_postings(facts, postings)
                self.task_postings(facts, postings)
            self.class_postings(facts, postings)
            for clone in facts.clones:
                postings.setdefault(f"clone:{clone.digest}", []).append(
                    [clone.qualname, clone.line, clone.parent]
                )
        self.name_postings(facts, postings)
        return postings

    def channel_postings(self, facts: FileFacts, postings: Postings) -> None:
        for endpoint in facts.channels:
            word = first_word(endpoint.channel)
            if endpoint.role == "consumer" and is_pattern(endpoint.channel):
                entries = postings.setdefault(f"pattern:{word}", [])
                if [endpoint.channel, endpoint.line] not in entries:
                    entries.append([endpoint.channel, endpoint.line])
                    entries.sort()
                continue
            add_line(postings, f"channel:{endpoint.channel}", endpoint.role, endpoint.line)
            if endpoint.role == "producer":
                produced = postings.setdefault(f"produced:{word}", [])
                if endpoint.channel not in produced:
                    produced.append(endpoint.channel)
                    produced.sort()

    def import_postings(self, facts: FileFacts, postings: Postings) -> None:
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

    def task_postings(self, facts: FileFacts, postings: Postings) -> None:
        for name, line in facts.tasks_defined:
            add_line(postings, f"task:{name}", "defined", line)
        for name, line in facts.tasks_called:
            if not name.startswith("celery."):  # Celery's own built-in tasks
                add_line(postings, f"task:{name}", "called", line)

    def class_postings(self, facts: FileFacts, postings: Postings) -> None:
        for cls in facts.classes:
            uses = [(a, line) for a, line in cls.uses if a not in cls.attrs and a not in cls.guarded]
            if facts.is_test:
                uses = []  # test mixins get their fixtures from generated subclasses
            postings[f"class:{cls.qualname}"] = {
                "line": cls.line,
                "bases": list(cls.bases),
                "attrs": sorted(cls.attrs | cls.guarded),
                "uses": sorted_pairs(uses),
                "dynamic": cls.dynamic,
                "abstract": cls.abstract or any(b in ABSTRACT_BASES for b in cls.bases),
            }
            for base in sorted(set(cls.bases)):
                subclasses = postings.setdefault(f"subclass:{base}", [])
                subclasses.append(cls.qualname)
                subclasses.sort()

    def name_postings(self, facts: FileFacts, postings: Postings) -> None:
        for name in facts.refs:
            if not is_dunder(name):
                postings[f"used:{name}"] = True
        for prefix in facts.string_prefixes:
            postings[f"strprefix:{prefix}"] = True
        for name in facts.attr_stores:
            postings[f"attrstore:{name}"] = True
        for d in facts.definitions:
            if d.decorated or is_dunder(d.name) or self.exported(facts, d):
                continue
            entry = postings.setdefault(f"name:{d.name}", {})
            entry.setdefault("defs", []).append([d.qualname, d.line, d.kind, d.owner])
            entry["defs"].sort()

    @staticmethod
    def exported(facts: FileFacts, d: Any) -> bool:
        """Public API by __all__: the name itself, or a public method of an exported class."""
        if d.kind == "method":
            return not d.name.startswith("_") and facts.exported(d.owner.rpartition(".")[2])
        return facts.exported(d.name)

    # -- evaluation --------------------------------------------------------------

    def evaluate(self, key: str, lookup: Lookup) -> list[Question]:
        kind, _, name = key.partition(":")
        handler = getattr(self, f"evaluate_{kind}", None)
        return handler(name, lookup) if handler else []

    def evaluate_channel(self, channel: str, lookup: Lookup) -> list[Question]:
        entries = lookup(f"channel:{channel}")
        producers = evidence(entries, "producer")
        consumers = evidence(entries, "consumer")
        if all(is_test_path(path, lookup.config) for path in entries):
            return []  # test fixtures wiring a channel to themselves
        if producers and not consumers:
            for word in {first_word(channel), LEADING_WILDCARD}:
                for subs in lookup(f"pattern:{word}").values():
                    if any(topic_matches(pattern, channel) for pattern, _ in subs):
                        return []
            text = f"Channel '{channel}' has producers but no consumer - is this intentional?"
            return [
                self.ask(
                    "ORPHANED_QUEUE", f"channel:{channel}", text, producers, "medium", f"channel.{channel}"
                )
            ]
        if consumers and not producers:
            text = f"Channel '{channel}' is subscribed to but nothing in the tree emits it - is a producer missing?"
            return [
                self.ask(
                    "ORPHANED_CONSUMER", f"channel:{channel}", text, consumers, "medium", f"channel.{channel}"
                )
            ]
        return []

    def evaluate_pattern(self, word: str, lookup: Lookup) -> list[Question]:
        if word == LEADING_WILDCARD:
            return []
        produced = {topic for topics in lookup(f"produced:{word}").values() for topic in topics}
        lines: dict[str, list[str]] = {}
        for path, subs in lookup(f"pattern:{word}").items():
            for pattern, line in subs:
                lines.setdefault(pattern, []).append(f"{path}:{line}")
        questions = []
        for pattern, where in sorted(lines.items()):
            if all(is_test_path(w.rpartition(":")[0], lookup.config) for w in where):
                continue
            if not any(topic_matches(pattern, topic) for topic in produced):
                text = (
                    f"Subscription '{pattern}' matches no channel anything in the tree emits - is it stale?"
                )
                questions.append(
                    self.ask(
                        "ORPHANED_CONSUMER", f"pattern:{pattern}", text, where, "low", f"channel.{pattern}"
                    )
                )
        return questions

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
            text = f"Module '{module}' is imported but does not exist in the tree - was it moved or never written?"
            return [self.ask("MISSING_WIRING", f"import:{module}", text, where, "high", f"module.{module}")]
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
                text = (
                    f"'{name}' is imported from '{module}', which defines no such name - is the wiring stale?"
                )
                questions.append(
                    self.ask("MISSING_WIRING", f"import:{target}", text, where, "high", f"symbol.{target}")
                )
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
        text = f"Celery task '{name}' is sent by name but no task in the tree is registered under it."
        return [self.ask("MISSING_WIRING", f"task:{name}", text, called, "high", f"task.{name}")]

    def evaluate_class(self, qualname: str, lookup: Lookup) -> list[Question]:
        questions = []
        for path, payload in lookup(f"class:{qualname}").items():
            if not payload["uses"] or payload["dynamic"] or payload["abstract"] or qualname.endswith("Mixin"):
                continue
            declared = self.declared_attrs(payload, lookup, {qualname})
            if declared is None:
                continue  # a base outside the tree may set it
            missing: dict[str, list[str]] = {}
            for attr, line in payload["uses"]:
                if attr not in declared and not is_dunder(attr):
                    missing.setdefault(attr, []).append(f"{path}:{line}")
            if missing:
                below = self.descendant_attrs(qualname, lookup, {qualname})
                if below is None:
                    continue
                for attr, where in sorted(missing.items()):
                    if attr in below or lookup.exists(f"attrstore:{attr}"):
                        continue  # a subclass declares it, or code elsewhere assigns obj.attr
                    text = (
                        f"'{qualname}' calls methods on self.{attr}, but nothing in the class or its bases "
                        f"ever sets self.{attr} - is it initialized somewhere else?"
                    )
                    subject = f"attr:{qualname}.{attr}"
                    questions.append(
                        self.ask(
                            "UNINITIALIZED_COMPONENT", subject, text, where, "high", f"symbol.{subject[5:]}"
                        )
                    )
        return questions

    def declared_attrs(self, payload: dict[str, Any], lookup: Lookup, seen: set[str]) -> set[str] | None:
        """Attributes declared by a class and all its bases; None when a base is outside the tree."""
        if payload["dynamic"]:
            return None
        declared = set(payload["attrs"])
        for base in payload["bases"]:
            if base in EMPTY_BASES or base in seen:
                continue
            seen.add(base)
            found = lookup(f"class:{base}")
            if not found:
                return None
            for base_payload in found.values():
                more = self.declared_attrs(base_payload, lookup, seen)
                if more is None:
                    return None
                declared |= more
        return declared

    def descendant_attrs(self, qualname: str, lookup: Lookup, seen: set[str]) -> set[str] | None:
        """What subclasses (and their other bases) declare: a template method may rely on them."""
        declared: set[str] = set()
        for subclasses in lookup(f"subclass:{qualname}").values():
            for sub in subclasses:
                if sub in seen:
                    continue
                seen.add(sub)
                for payload in lookup(f"class:{sub}").values():
                    mine = self.declared_attrs(payload, lookup, {sub})
                    below = self.descendant_attrs(sub, lookup, seen)
                    if mine is None or below is None:
                        return None
                    declared |= mine | below
        return declared

    def evaluate_clone(self, digest: str, lookup: Lookup) -> list[Question]:
        entries = lookup(f"clone:{digest}")
        if len(entries) < 2:
            return []
        kept: dict[str, list[list[Any]]] = {}
        for path, clones in entries.items():
            for qualname, line, parent in clones:
                if parent and len(lookup(f"clone:{parent}")) >= 2:
                    continue  # the whole class is a clone; that question covers this method
                kept.setdefault(path, []).append([qualname, line])
        if len(kept) < 2:
            return []
        names = sorted({qualname for clones in kept.values() for qualname, _ in clones})
        where = [f"{path}:{line}" for path, clones in kept.items() for _, line in clones]
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        text = f"{shown} have the same body in {len(kept)} modules - should they share one implementation?"
        return [
            self.ask("DUPLICATE_RESPONSIBILITY", f"clone:{digest}", text, where, "low", f"symbol.{names[0]}")
        ]

    def evaluate_name(self, name: str, lookup: Lookup) -> list[Question]:
        # references sit under their own key, which thousands of files may post under: only
        # whether there is one matters, and asking that must not load them all
        if lookup.exists(f"used:{name}"):
            return []
        if any(lookup.exists(f"strprefix:{prefix}") for prefix in string_prefixes(name)):
            return []
        entries = lookup(f"name:{name}")
        questions = []
        for path, payload in entries.items():
            for qualname, line, kind, owner in payload.get("defs", []):
                if kind != "function" and not self.known_ancestry(owner or qualname, lookup, set()):
                    continue  # a framework base class may call or register it
                private = name.startswith("_")
                text = f"{kind.capitalize()} '{qualname}' is defined but referenced nowhere in the tree - is it dead"
                text += "?" if private else ", or public API used only from outside?"
                severity = "medium" if private else "low"
                subject = f"def:{qualname}"
                questions.append(
                    self.ask("DEAD_CODE", subject, text, [f"{path}:{line}"], severity, f"symbol.{qualname}")
                )
        return questions

    def known_ancestry(self, qualname: str, lookup: Lookup, seen: set[str]) -> bool:
        """Every base is in the tree (or a builtin), and none dispatches on computed attribute names."""
        found = lookup(f"class:{qualname}")
        if not found:
            return False
        for payload in found.values():
            if payload["dynamic"]:
                return False  # getattr(self, name)(): any method may be called
            for base in payload["bases"]:
                if base in EMPTY_BASES or base.startswith("builtins.") or base in seen:
                    continue
                seen.add(base)
                if not self.known_ancestry(base, lookup, seen):
                    return False
        return True

    def ask(
        self, hypothesis: str, subject: str, text: str, where: list[str], severity: str, capability: str
    ) -> Question:
        return Question.make(self.id, hypothesis, subject, text, where, severity, capability)
