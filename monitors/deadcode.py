"""Dead-code concern of the integration monitor: definitions nothing in the tree refers to.

Keys:
  name:<identifier>    definitions by that name                  DEAD_CODE
  used:<identifier>    any reference to that name (read with exists: many files post it)
  configured:<dotted>  a dotted string names it (settings DATABASE_ROUTERS = ["pkg.routers.Router"]):
                       the framework that reads the setting calls the class's methods by name
  strprefix:<prefix>   names looked up by a built string with that literal prefix:
                       ["get_*_permissions"] of getattr(backend, "get_%s_permissions" % x)
  strsuffix:<suffix>   the same for a built string starting with the computed part:
                       ["*_from_config"] of getattr(module, "{}_from_config".format(x))

In a library (Config.kind == "library") public names are API used from outside the tree:
only private ones (keys.is_private) are asked about. The same holds in any tree for a
test-support package (`pkg.testutils`: the test suites using it are seldom shipped) and for the
functions of an application's toolbox packages right under its top package (`pkg.helpers.x`,
`pkg.util.x`), which its plugins and extensions import. Not asked either: classes made to be
subclassed, methods named after the key they handle and functions documented for an API
reference (Definition.extension); the methods of a test double (MockPayloadWriter: the library
it is handed to calls them); methods of a mixin put before a base from outside the tree in some
subclass (`class SMTP(CheckPrivateNetworkMixin, smtplib.SMTP)`: they override that base's).
"""

from __future__ import annotations

import re

from monitors.components import EMPTY_BASES, is_dunder, known_ancestry, registered
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


TOOLBOXES = {"helpers", "util", "utils"}
# a stand-in for an object of another library (MockPayloadWriter): that library calls its methods
TEST_DOUBLE = re.compile(r"(?:Mock|Fake|Stub|Dummy)[A-Z_]")
# testutils, test_utils, testing, test_helpers, testlib: helpers of test suites
TEST_SUPPORT = re.compile(r"tests?(?:ing)?_?(?:utils?|helpers?|support|tools|lib|kit)?")


def used_outside(facts: FileFacts, d: Definition) -> bool:
    """Public names used from outside the tree by design: those of test support, functions of a
    toolbox package right under the top package (pkg.helpers.x, pkg.util.x; not
    pkg.components.x.util), the methods of a test double."""
    if d.kind == "method" and TEST_DOUBLE.match(d.owner.rpartition(".")[2]):
        return True  # private ones too: MockRequest._prepare_hook stands in for aiohttp's
    if is_private(d.qualname):
        return False
    parts = facts.module.split(".")
    if any(TEST_SUPPORT.fullmatch(p) for p in parts):
        return True
    toolbox = len(parts) > 1 and parts[1] in TOOLBOXES and (len(parts) > 2 or facts.is_package)
    return d.kind == "function" and toolbox


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


def string_suffixes(name: str) -> list[str]:
    """ "sun_from_config" -> ["_from_config", "from_config", "_config", "config"]: the suffix twins
    of string_prefixes."""
    return [name[i:] for i in range(1, len(name)) if name[i] == "_" or name[i - 1] == "_"]


def lookup_key(pattern: str) -> str:
    """The key a name pattern is posted under: its literal prefix, or its literal suffix when
    it starts with the computed part."""
    if pattern.startswith(HOLE):
        return f"strsuffix:{pattern.rsplit(HOLE, 1)[1]}"
    return f"strprefix:{pattern.split(HOLE, 1)[0]}"


def built(name: str, lookup: Lookup) -> bool:
    """A dynamic lookup elsewhere can build `name`."""
    keys = [f"strprefix:{p}" for p in string_prefixes(name)] + [
        f"strsuffix:{s}" for s in string_suffixes(name)
    ]
    return any(
        lookup.exists(key) and any(matches(p, name) for patterns in lookup(key).values() for p in patterns)
        for key in keys
    )


def overrides_outside(owner: str, lookup: Lookup) -> bool:
    """Some subclass puts `owner` before a base from outside the tree: the owner's methods
    override that base's, which calls them by name (smtplib.SMTP calls _get_socket)."""
    for subclasses in lookup(f"subclass:{owner}").values():
        for sub in subclasses:
            for payload in lookup(f"class:{sub}").values():
                bases = payload["bases"]
                after = bases[bases.index(owner) + 1 :] if owner in bases else []
                if any(
                    b not in EMPTY_BASES and not b.startswith("builtins.") and not lookup.exists(f"class:{b}")
                    for b in after
                ):
                    return True
    return False


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
            patterns = postings.setdefault(lookup_key(pattern), [])
            patterns.append(pattern)
        for d in facts.definitions:
            if (
                d.decorated
                or d.extension
                or is_dunder(d.name)
                or exported(facts, d)
                or used_outside(facts, d)
            ):
                continue
            entry = postings.setdefault(f"name:{d.name}", {})
            entry.setdefault("defs", []).append([d.qualname, d.line, d.kind, d.owner])
            entry["defs"].sort()

    def evaluate(self, kind: str, name: str, lookup: Lookup) -> list[Question]:
        # references sit under their own key, which thousands of files may post under: only
        # whether there is one matters, and asking that must not load them all
        if lookup.exists(f"used:{name}") or built(name, lookup):
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
                if def_kind == "method" and overrides_outside(owner, lookup):
                    continue
                private = name.startswith("_")
                questions.append(
                    self.question(lookup, "DEAD_CODE", f"def:{qualname}", [f"{path}:{line}"], f"symbol.{qualname}",
                             severity="medium" if private else None, variant="private" if private else None,
                             kind=def_kind.capitalize(), qualname=qualname)
                )  # fmt: skip
        return questions
