"""Dead-code concern of the integration monitor: definitions nothing in the tree refers to.

Keys:
  name:<identifier>    definitions by that name                  DEAD_CODE
  used:<identifier>    any reference to that name (read with exists: many files post it)
  configured:<dotted>  a dotted string names it (settings DATABASE_ROUTERS = ["pkg.routers.Router"]):
                       the framework that reads the setting calls the class's methods by name
  strprefix:<prefix>   names looked up by a built string with that literal prefix:
                       ["get_*_permissions"] of getattr(backend, "get_%s_permissions" % x)

In a library (Config.kind == "library") public names are API used from outside the tree:
only private ones (keys.is_private) are asked about.
"""

from __future__ import annotations

from monitors.components import is_dunder, known_ancestry, registered
from monitors.facts import Definition, FileFacts
from monitors.keys import is_private
from monitors.question import Question
from monitors.registry import Concern, Hypothesis, Lookup, Postings
from monitors.signals import INTEGRATION_QUESTION
from monitors.visitor import HOLE, matches

DEAD_CODE = Hypothesis(
    "DEAD_CODE",
    "low",
    "{kind} '{qualname}' is defined but referenced nowhere in the tree. Is it dead, "
    "or public API used only from outside?",
    INTEGRATION_QUESTION,
    variants=(("private", "{kind} '{qualname}' is defined but referenced nowhere in the tree. Is it dead?"),),
)


def string_prefixes(name: str) -> list[str]:
    """ "visit_Call" -> ["visit", "visit_"]: literal prefixes a dynamic lookup could build it from.

    Word boundaries only (around "_", and lower-to-upper in camelCase), so a name is checked
    against a handful of keys, not one per character.
    """
    found = []
    for i in range(1, len(name)):
        before, at = name[i - 1], name[i]
        if at == "_" or before == "_" or (before.islower() and at.isupper()):
            found.append(name[:i])
    return found


def lookup_key(pattern: str) -> str:
    """The literal prefix of a name pattern, under which name:<x> evaluations find it."""
    return pattern.split(HOLE, 1)[0]


def exported(facts: FileFacts, d: Definition) -> bool:
    """Public API by __all__: the name itself, or a public method of an exported class."""
    if d.kind == "method":
        return not d.name.startswith("_") and facts.exported(d.owner.rpartition(".")[2])
    return facts.exported(d.name)


class DeadCode(Concern):
    hypotheses = (DEAD_CODE,)
    question_kinds = frozenset({"name"})

    def postings(self, facts: FileFacts, postings: Postings) -> None:
        for name in facts.refs:
            if not is_dunder(name):
                postings[f"used:{name}"] = True
        for dotted in facts.dotted_strings:
            postings[f"configured:{dotted}"] = True
        for pattern in sorted(facts.name_patterns):
            patterns = postings.setdefault(f"strprefix:{lookup_key(pattern)}", [])
            patterns.append(pattern)
        for d in facts.definitions:
            if d.decorated or is_dunder(d.name) or exported(facts, d):
                continue
            entry = postings.setdefault(f"name:{d.name}", {})
            entry.setdefault("defs", []).append([d.qualname, d.line, d.kind, d.owner])
            entry["defs"].sort()

    def evaluate(self, kind: str, name: str, lookup: Lookup) -> list[Question]:
        # references sit under their own key, which thousands of files may post under: only
        # whether there is one matters, and asking that must not load them all
        if lookup.exists(f"used:{name}"):
            return []
        for prefix in string_prefixes(name):
            if lookup.exists(f"strprefix:{prefix}"):
                looked_up = lookup(f"strprefix:{prefix}")
                if any(matches(p, name) for patterns in looked_up.values() for p in patterns):
                    return []
        library = lookup.config.library
        questions = []
        for path, payload in lookup(f"name:{name}").items():
            for qualname, line, def_kind, owner in payload.get("defs", []):
                if library and not is_private(qualname):
                    continue  # a library's public name is API, used from outside the tree
                if def_kind != "function" and not known_ancestry(owner or qualname, lookup, set()):
                    continue  # a framework base class may call or register it
                if def_kind == "class" and registered(qualname, lookup):
                    continue  # a base's __init_subclass__ registers it
                if def_kind == "method" and lookup.exists(f"configured:{owner}"):
                    continue  # named in settings: the framework calls its methods
                private = name.startswith("_")
                questions.append(
                    self.question(lookup, "DEAD_CODE", f"def:{qualname}", [f"{path}:{line}"], f"symbol.{qualname}",
                             severity="medium" if private else None, variant="private" if private else None,
                             kind=def_kind.capitalize(), qualname=qualname)
                )  # fmt: skip
        return questions
