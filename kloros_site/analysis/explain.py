"""Why a question was asked: the facts behind it, read back from the postings under its key.

A monitor decides from the postings under the question's key (and a few keys it reads); the
same rows, shown as "producers found", "consumers searched", "importers", say why. One query
whatever the number of questions: the rows of the question's key and of the keys it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kloros_site.analysis.channels import CHANNEL_PREFIX, NAMESPACE, PATTERN_PREFIX, PRODUCED_PREFIX
from kloros_site.analysis.evidence import Location, locations
from kloros_site.analysis.models import Posting, Question
from monitors.channels import first_word, topic_matches

Entries = dict[str, Any]  # {path: payload} under one key
INTEGRATION = "integration"  # the monitor of imports, tasks, classes and names
SHOWN = 30  # names listed before "and N more"


@dataclass
class Fact:
    label: str
    locations: list[Location] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty: str = ""  # what to say when there is nothing to list


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def _lines(entries: Entries, field_name: str) -> list[Location]:
    return sorted(Location(p, n) for p, payload in entries.items() for n in payload.get(field_name, []))


def _related(key: str) -> list[str]:
    if key.startswith(CHANNEL_PREFIX):
        word = first_word(key[len(CHANNEL_PREFIX) :])
        return [key, PATTERN_PREFIX + word, PATTERN_PREFIX + "*"]
    if key.startswith(PATTERN_PREFIX):
        return [key, PRODUCED_PREFIX + key[len(PATTERN_PREFIX) :]]
    if key.startswith(f"{INTEGRATION}:import:"):
        return [key, f"{INTEGRATION}:module:" + key.split(":", 2)[2]]
    return [key]


def facts(question: Question) -> list[Fact]:
    keys = _related(question.key)
    by_key: dict[str, Entries] = {k: {} for k in keys}
    rows = Posting.objects.filter(tree_id=question.tree_id, key__in=keys).values_list(
        "key", "file__path", "payload"
    )
    for key, path, payload in rows:
        by_key[key][path] = payload
    monitor, _, local = question.key.partition(":")
    kind, _, name = local.partition(":")
    handler = HANDLERS.get((monitor, kind))
    found = handler(question, name, by_key) if handler else []
    return found or [Fact("Evidence", locations(question.evidence))]


def _channel(question: Question, topic: str, by_key: dict[str, Entries]) -> list[Fact]:
    entries = by_key[CHANNEL_PREFIX + topic]
    word = first_word(topic)
    searched = []
    for key in (PATTERN_PREFIX + word, PATTERN_PREFIX + "*"):
        for path, subs in sorted(by_key.get(key, {}).items()):
            for pattern, line in subs:
                verdict = "matches" if topic_matches(pattern, topic) else "does not match"
                searched.append(f"'{pattern}' at {path}:{line} {verdict} '{topic}'")
    return [
        Fact(
            "Producers found", _lines(entries, "producer"), empty="none: nothing in the tree emits this topic"
        ),
        Fact("Consumers found", _lines(entries, "consumer"), empty="none: no file subscribes to this topic"),
        Fact(
            "Wildcard subscriptions searched",
            notes=sorted(set(searched)),
            empty=f"none: no wildcard subscription starts with '{word}.' or with a wildcard",
        ),
    ]


def _pattern(question: Question, word: str, by_key: dict[str, Entries]) -> list[Fact]:
    pattern = question.capability_key.removeprefix("channel.")
    topics = sorted({t for payload in by_key[PRODUCED_PREFIX + word].values() for t in payload})
    return [
        Fact("Subscribed at", locations(question.evidence)),
        Fact(
            f"Topics emitted in the tree starting with '{word}.'",
            notes=[f"{_names(topics)}: none matches '{pattern}'"] if topics else [],
            empty=f"none: nothing in the tree emits a topic starting with '{word}.'",
        ),
    ]


def _import(question: Question, module: str, by_key: dict[str, Entries]) -> list[Fact]:
    defined = by_key[f"{INTEGRATION}:module:{module}"]
    found = [Fact("Imported at", locations(question.evidence))]
    if not defined:
        found.append(
            Fact(f"Module '{module}' in the tree", empty="none: no file or package of the tree has this name")
        )
        return found
    names = sorted({n for payload in defined.values() for n in payload.get("names", [])})
    wanted = question.capability_key.removeprefix(f"symbol.{module}.")
    found.append(
        Fact(
            f"Module '{module}' is defined in",
            [Location(path, 1) for path in sorted(defined)],
            notes=[
                f"It defines {len(names)} top-level name(s): {_names(names)}",
                f"None of them is '{wanted}'.",
            ],
        )
    )
    return found


def _task(question: Question, name: str, by_key: dict[str, Entries]) -> list[Fact]:
    return [
        Fact("Sent by name at", locations(question.evidence)),
        Fact(f"Tasks registered as '{name}'", empty="none in the tree"),
    ]


def _class(question: Question, qualname: str, by_key: dict[str, Entries]) -> list[Fact]:
    attr = question.capability_key.rpartition(".")[2]
    found = []
    for path, payload in sorted(by_key[question.key].items()):
        found.append(
            Fact(
                f"Class '{qualname}' is defined at",
                [Location(path, payload.get("line", 0))],
                notes=[
                    f"Bases: {_names(payload.get('bases') or ['object'])}",
                    f"Attributes it or its bases set: {_names(payload.get('attrs') or []) or 'none'}",
                ],
            )
        )
    found.append(Fact(f"self.{attr} used without being set, at", locations(question.evidence)))
    return found


def _clone(question: Question, digest: str, by_key: dict[str, Entries]) -> list[Fact]:
    notes = sorted(
        {
            f"{qualname} at {path}:{line}"
            for path, payload in by_key[question.key].items()
            for qualname, line, *_ in payload["clones"]
        }
    )
    return [Fact("Same normalized body at", locations(question.evidence), notes=notes)]


def _dead(question: Question, name: str, by_key: dict[str, Entries]) -> list[Fact]:
    return [
        Fact("Defined at", locations(question.evidence)),
        Fact(
            f"References to '{name}' found",
            empty="none: no file of the tree uses this name, as a call, an attribute or a string prefix",
        ),
    ]


def _module(question: Question, module: str, by_key: dict[str, Entries]) -> list[Fact]:
    return [
        Fact("Module file", locations(question.evidence)),
        Fact("Importers searched", empty=f"none: no file imports '{module}', and it is no entry point"),
    ]


def _declared(question: Question, name: str, by_key: dict[str, Entries]) -> list[Fact]:
    kinds = sorted({kind for payload in by_key[question.key].values() for kind, _ in payload})
    return [
        Fact(
            "Configured at", locations(question.evidence), notes=[f"as: {', '.join(kinds)}"] if kinds else []
        ),
        Fact(f"Module '{name}' in the tree", empty="none"),
    ]


def _docs(question: Question, path: str, by_key: dict[str, Entries]) -> list[Fact]:
    notes = [
        f"{qualname} (line {line})"
        for payload in by_key[question.key].values()
        for qualname, line, *_ in payload  # methods and classes carry what evaluation reads
    ]
    return [Fact("Public definitions without a docstring", locations(question.evidence), notes=notes[:SHOWN])]


def _symbol(question: Question, symbol: str, by_key: dict[str, Entries]) -> list[Fact]:
    return [
        Fact("Mentioned at", locations(question.evidence)),
        Fact(f"'{symbol}' in the tree", empty="none: it resolves to no module, class or function"),
    ]


def _marked(question: Question, name: str, by_key: dict[str, Entries]) -> list[Fact]:
    return [Fact("Marked in the code at", locations(question.evidence))]


HANDLERS: dict[tuple[str, str], Callable[[Question, str, dict[str, Entries]], list[Fact]]] = {
    (NAMESPACE, "channel"): _channel,
    (NAMESPACE, "pattern"): _pattern,
    (INTEGRATION, "import"): _import,
    (INTEGRATION, "task"): _task,
    (INTEGRATION, "class"): _class,
    (INTEGRATION, "clone"): _clone,
    (INTEGRATION, "name"): _dead,
    ("capability", "module"): _module,
    ("capability", "declared"): _declared,
    ("knowledge", "docs"): _docs,
    ("knowledge", "sym"): _symbol,
    ("exploration", "stub"): _marked,
    ("exploration", "todo"): _marked,
}
