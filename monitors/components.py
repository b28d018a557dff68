"""Components concern of the integration monitor: attributes a class uses but never sets.

Keys:
  class:<qualname>     bases, declared attrs, self.x.m() uses     UNINITIALIZED_COMPONENT
  subclass:<qualname>  direct subclasses (read by class:<qualname>)
  attrstore:<name>     some code assigns `anything.name = ...` (read with exists)

The class: keys also tell the dead-code concern whether a class's ancestry is all in the tree.
"""

from __future__ import annotations

from typing import Any

from monitors.facts import FileFacts
from monitors.keys import sorted_pairs
from monitors.question import Question
from monitors.registry import Concern, Hypothesis, Lookup, Postings
from monitors.signals import INTEGRATION_QUESTION

# Bases that declare no instance attributes and register nothing.
EMPTY_BASES = {"builtins.object", "object", "abc.ABC", "ABC", "typing.Generic", "Generic"}
ABSTRACT_BASES = {"abc.ABC", "ABC", "typing.Protocol", "Protocol"}

UNINITIALIZED_COMPONENT = Hypothesis(
    "UNINITIALIZED_COMPONENT",
    "high",
    "'{qualname}' calls methods on self.{attr}, but nothing in the class or its bases ever sets "
    "self.{attr}. Is it initialized somewhere else?",
    INTEGRATION_QUESTION,
)


def is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class Components(Concern):
    hypotheses = (UNINITIALIZED_COMPONENT,)
    question_kinds = frozenset({"class"})

    def postings(self, facts: FileFacts, postings: Postings) -> None:
        for name in facts.attr_stores:
            postings[f"attrstore:{name}"] = True
        if facts.kind != "python":
            return
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
                "registers": cls.registers,
            }
            for base in sorted(set(cls.bases)):
                subclasses = postings.setdefault(f"subclass:{base}", [])
                subclasses.append(cls.qualname)
                subclasses.sort()

    def evaluate(self, kind: str, qualname: str, lookup: Lookup) -> list[Question]:
        questions = []
        for path, payload in lookup(f"class:{qualname}").items():
            if not payload["uses"] or payload["dynamic"] or payload["abstract"] or qualname.endswith("Mixin"):
                continue
            declared = declared_attrs(payload, lookup, {qualname})
            if declared is None:
                continue  # a base outside the tree may set it
            missing: dict[str, list[str]] = {}
            for attr, line in payload["uses"]:
                if attr not in declared and not is_dunder(attr):
                    missing.setdefault(attr, []).append(f"{path}:{line}")
            if missing:
                below = descendant_attrs(qualname, lookup, {qualname})
                if below is None:
                    continue
                for attr, where in sorted(missing.items()):
                    if attr in below or lookup.exists(f"attrstore:{attr}"):
                        continue  # a subclass declares it, or code elsewhere assigns obj.attr
                    subject = f"attr:{qualname}.{attr}"
                    questions.append(
                        self.question(lookup, "UNINITIALIZED_COMPONENT", subject, where, f"symbol.{subject[5:]}",
                                 qualname=qualname, attr=attr)
                    )  # fmt: skip
        return questions


def declared_attrs(payload: dict[str, Any], lookup: Lookup, seen: set[str]) -> set[str] | None:
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
            more = declared_attrs(base_payload, lookup, seen)
            if more is None:
                return None
            declared |= more
    return declared


def descendant_attrs(qualname: str, lookup: Lookup, seen: set[str]) -> set[str] | None:
    """What subclasses (and their other bases) declare: a template method may rely on them."""
    declared: set[str] = set()
    for subclasses in lookup(f"subclass:{qualname}").values():
        for sub in subclasses:
            if sub in seen:
                continue
            seen.add(sub)
            for payload in lookup(f"class:{sub}").values():
                mine = declared_attrs(payload, lookup, {sub})
                below = descendant_attrs(sub, lookup, seen)
                if mine is None or below is None:
                    return None
                declared |= mine | below
    return declared


def known_ancestry(qualname: str, lookup: Lookup, seen: set[str]) -> bool:
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
            if not known_ancestry(base, lookup, seen):
                return False
    return True


def registered(qualname: str, lookup: Lookup) -> bool:
    """A base in the tree defines __init_subclass__: defining the class registers it somewhere."""
    seen = {qualname}
    todo = [base for payload in lookup(f"class:{qualname}").values() for base in payload["bases"]]
    while todo:
        base = todo.pop()
        if base in seen or base in EMPTY_BASES or base.startswith("builtins."):
            continue
        seen.add(base)
        for payload in lookup(f"class:{base}").values():
            if payload["registers"]:
                return True
            todo.extend(payload["bases"])
    return False
