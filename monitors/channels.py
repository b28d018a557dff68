"""Channels monitor: producers and consumers of a channel, joined across the tree.

Keys (each file's payload under them; the monitor's evaluation joins all files):
  channel:<topic>     {"producer"/"consumer": lines, "calls": [[callable, slot, line]], "const": [dotted]}
                      ORPHANED_QUEUE, ORPHANED_CONSUMER
  pattern:<word>      wildcard subscriptions by first word, [[pattern, line]]   ORPHANED_CONSUMER (stale)
  produced:<word>     topics that may be produced, by first word (read by pattern:<word>)
  via:<dotted>        endpoints whose topic is a constant another module defines (read by channel:<value>)
  wrapper:<callable>  how a function, method or class takes a topic (read when resolving "calls")
  instance:<dotted>   the class of a module-level object or attribute (read when resolving calls on it)
  signal:<dotted>     a Django signal: defined / sent / connected   ORPHANED_QUEUE, ORPHANED_CONSUMER
  queue:<attr>        in-process queues put to and never got from; gets from other code   ORPHANED_QUEUE
  bases:<class>       a class's bases in the tree (read when resolving `self.hass.bus` of a subclass)
  received:all        subscriptions whose topic arrives in a message (`msg["event_type"]`): clients
                      may consume any topic of that bus, so its topics are not asked as orphaned

"calls" are calls into other modules of the tree with a topic-like value: whether they are
endpoints (a wrapper there, or a method of an object there) only those modules know. A
"const" names a constant whose value is the topic, for endpoints elsewhere that name it.
Wildcard subscriptions whose first word is a wildcard ("#", "*.error") are filed under
pattern:* and silence matching channels, but are never asked about themselves; a catch-all
("#", or an empty prefix) is a recorder and silences nothing unless recorders-are-consumers.
The channel map (kloros_site/analysis/channels.py) reads channel:, pattern: and produced:.
"""

from __future__ import annotations

import json
from typing import Any

from monitors.channel_endpoints import is_pattern, is_recorder
from monitors.channel_resolve import endpoint_of, open_buses
from monitors.facts import FileFacts, is_test_path
from monitors.keys import add_line, evidence
from monitors.question import Question
from monitors.registry import Hypothesis, Lookup, Monitor, Postings, register
from monitors.signals import INTEGRATION_QUESTION

LEADING_WILDCARD = "*"
ORPHANED_QUEUE = Hypothesis(
    "ORPHANED_QUEUE",
    "medium",
    "Channel '{name}' has producers but no consumer. Is this intentional?",
    INTEGRATION_QUESTION,
    variants=(
        (
            "signal",
            "Django signal '{name}' is sent but nothing in the tree connects to it. Is a receiver missing?",
        ),
        ("queue", "Queue '{name}' is put to but nothing gets from it. Is a consumer missing?"),
    ),
)
ORPHANED_CONSUMER = Hypothesis(
    "ORPHANED_CONSUMER",
    "medium",
    "Channel '{name}' is subscribed to but nothing in the tree emits it. Is a producer missing?",
    INTEGRATION_QUESTION,
    variants=(
        ("pattern", "Nothing in the tree emits a channel that subscription '{name}' matches. Is it stale?"),
        (
            "signal",
            "Django signal '{name}' is connected to but nothing in the tree sends it. Is a sender missing?",
        ),
    ),
)


def topic_matches(pattern: str, topic: str) -> bool:
    """AMQP topic matching: '*' is exactly one word, '#' zero or more."""

    def match(p: list[str], t: list[str]) -> bool:
        if not p:
            return not t
        if p[0] == "#":
            return any(match(p[1:], t[i:]) for i in range(len(t) + 1))
        return bool(t) and (p[0] == "*" or p[0] == t[0]) and match(p[1:], t[1:])

    return match(pattern.split("."), topic.split("."))


def first_word(channel: str) -> str:
    word = channel.split(".")[0]
    return LEADING_WILDCARD if word in ("*", "#") else word


def add_item(postings: Postings, key: str, field: str | None, item: Any) -> None:
    """A sorted list of distinct items under postings[key][field] (or postings[key])."""
    items = postings.setdefault(key, {}).setdefault(field, []) if field else postings.setdefault(key, [])
    if item not in items:
        items.append(item)
        items.sort(key=json.dumps)


def spec_json(spec: Any) -> list[Any]:
    slot = None if spec.slot is None else str(spec.slot)
    return [spec.role, spec.pos, spec.kw, list(spec.tpl), spec.target, slot]


def untested(where: list[str], lookup: Lookup) -> bool:
    """Evidence outside tests: fixtures wiring a channel to themselves ask nothing."""
    return any(not is_test_path(w.rpartition(":")[0], lookup.config) for w in where)


@register
class ChannelsMonitor(Monitor):
    id = "channels"
    hypotheses = (ORPHANED_QUEUE, ORPHANED_CONSUMER)
    question_kinds = frozenset({"channel", "pattern", "signal", "queue"})

    # -- postings ----------------------------------------------------------------

    def postings(self, facts: FileFacts) -> Postings:
        postings: Postings = {}
        if facts.kind == "template":  # {% eventsignal event "pretix.control.signals.order_info" %}
            for dotted, line in facts.dotted_strings.items():
                add_line(postings, f"signal:{dotted}", "template", line)
        found = facts.channels
        if found is None:
            return postings
        for kind, role, topic, line in found.endpoints:
            add_line(postings, f"{kind}:{topic}", role, line)
            if kind == "channel":
                self.index(postings, topic, role, line)
        for role, dotted, line in found.via:
            add_line(postings, f"via:{dotted}", role, line)
        for target, slot, value, line, is_sym in found.calls:
            add_item(
                postings, f"via:{value}" if is_sym else f"channel:{value}", "calls", [target, str(slot), line]
            )
            if not is_sym:
                self.index(postings, value, "either", line)
        for dotted, topic in found.consts:
            add_item(postings, f"channel:{topic}", "const", dotted)
            if not is_pattern(topic):
                self.index(postings, topic, "producer", 0)
        self.resolution_postings(found, postings)
        return postings

    @staticmethod
    def resolution_postings(found: Any, postings: Postings) -> None:
        """What other modules' endpoints are resolved with: wrappers, objects, signals, queues."""
        for callable_, specs in found.wrappers.items():
            postings[f"wrapper:{callable_}"] = sorted((spec_json(s) for s in specs), key=json.dumps)
        for dotted, cls in found.instances:
            add_item(postings, f"instance:{dotted}", None, cls)
        for cls, base in found.bases:
            add_item(postings, f"bases:{cls}", None, base)
        for target, slot, line in found.received:
            add_item(postings, "received:all", None, [target, str(slot), line])
        for dotted, line, documented in found.signals:
            add_line(postings, f"signal:{dotted}", "defined", line)
            if documented:
                add_line(postings, f"signal:{dotted}", "documented", line)
        for cls, attr, lines in found.queues:
            add_item(postings, f"queue:{attr}", "producer", [cls, lines])
        for attr in found.queue_reads:
            postings.setdefault(f"queue:{attr}", {})["consumer"] = True

    @staticmethod
    def index(postings: Postings, topic: str, role: str, line: int) -> None:
        """pattern:<word> lists wildcard subscriptions (with their line), produced:<word> the topics."""
        if is_pattern(topic):
            if role != "producer":
                add_item(postings, f"pattern:{first_word(topic)}", None, [topic, line])
        elif role != "consumer":
            add_item(postings, f"produced:{first_word(topic)}", None, topic)

    # -- evaluation --------------------------------------------------------------

    def evaluate(self, key: str, lookup: Lookup) -> list[Question]:
        kind, _, name = key.partition(":")
        if kind == "channel":
            return self.evaluate_channel(name, lookup)
        if kind == "pattern":
            return self.evaluate_patterns(name, lookup)
        if kind == "signal":
            return self.evaluate_signal(name, lookup)
        if kind == "queue":
            return self.evaluate_queue(name, lookup)
        return []

    def evaluate_channel(self, topic: str, lookup: Lookup) -> list[Question]:
        if is_pattern(topic):
            return []  # asked under pattern:<first word>
        producers, consumers = self.ends(topic, lookup)
        if not untested(producers + consumers, lookup):
            return []
        subject, capability = f"channel:{topic}", f"channel.{topic}"
        if producers and not consumers and not self.matched(topic, lookup):
            if open_buses(lookup) & self.buses(topic, lookup):
                return []  # clients subscribe to topics of their choosing on the bus it is fired on
            return [self.question(lookup, "ORPHANED_QUEUE", subject, producers, capability, name=topic)]
        if consumers and not producers:
            return [self.question(lookup, "ORPHANED_CONSUMER", subject, consumers, capability, name=topic)]
        return []

    def evaluate_patterns(self, word: str, lookup: Lookup) -> list[Question]:
        """Wildcard subscriptions of one first word that match no topic anything produces."""
        if word == LEADING_WILDCARD:
            return []  # whether "#" or "*.error" matches anything would need every topic of the tree
        patterns = sorted({p for listed in lookup(f"pattern:{word}").values() for p, _ in listed})
        topics = sorted({t for listed in lookup(f"produced:{word}").values() for t in listed})
        questions = []
        for pattern in patterns:
            consumers = self.ends(pattern, lookup)[1]
            if not consumers or not untested(consumers, lookup):
                continue
            if any(topic_matches(pattern, t) and self.ends(t, lookup)[0] for t in topics):
                continue
            questions.append(
                self.question(
                    lookup, "ORPHANED_CONSUMER", f"pattern:{pattern}", consumers, f"channel.{pattern}",
                    severity="low", variant="pattern", name=pattern,
                )
            )  # fmt: skip
        return questions

    def buses(self, topic: str, lookup: Lookup) -> set[str]:
        found: set[str] = set()
        self.ends(topic, lookup, found)
        return found

    def matched(self, topic: str, lookup: Lookup) -> bool:
        """A wildcard subscription somewhere consumes the topic."""
        recorders = lookup.config.recorders_are_consumers
        for word in sorted({first_word(topic), LEADING_WILDCARD}):
            patterns = {p for listed in lookup(f"pattern:{word}").values() for p, _ in listed}
            for pattern in sorted(patterns):
                wanted = topic_matches(pattern, topic) and (recorders or not is_recorder(pattern))
                if wanted and self.ends(pattern, lookup)[1]:
                    return True
        return False

    def ends(self, topic: str, lookup: Lookup, buses: set[str] | None = None) -> tuple[list[str], list[str]]:
        """Evidence of the producers and consumers of one topic, whatever way the code names it
        (and into `buses`, the buses its producers in other modules' objects fire on)."""
        entries = lookup(f"channel:{topic}")
        producers, consumers = evidence(entries, "producer"), evidence(entries, "consumer")
        sources = [entries]
        for dotted in sorted({d for payload in entries.values() for d in payload.get("const", ())}):
            via = lookup(f"via:{dotted}")
            producers += evidence(via, "producer")
            consumers += evidence(via, "consumer")
            sources.append(via)
        for source in sources:
            for path, payload in source.items():
                for target, slot, line in payload.get("calls", ()):
                    found = endpoint_of(target, slot, lookup)
                    role = found[0] if found else None
                    if role == "producer":
                        producers.append(f"{path}:{line}")
                        if buses is not None:
                            buses.add(found[1] if found else "")
                    elif role == "consumer":
                        consumers.append(f"{path}:{line}")
        return producers, consumers

    def evaluate_signal(self, name: str, lookup: Lookup) -> list[Question]:
        entries = lookup(f"signal:{name}")
        if not evidence(entries, "defined"):
            return []  # not a Signal() of this tree: Django's own, or not a signal at all
        producers, consumers = evidence(entries, "producer"), evidence(entries, "consumer")
        if not untested(producers + consumers, lookup):
            return []
        subject, capability = f"signal:{name}", f"signal.{name}"
        if producers and not consumers:
            if lookup.config.library and not name.rpartition(".")[2].startswith("_"):
                return []  # a library sends its public signals for the applications that use it
            if evidence(entries, "documented"):
                return []  # documented for plugins: its receivers live outside the tree by design
            return [
                self.question(
                    lookup, "ORPHANED_QUEUE", subject, producers, capability, variant="signal", name=name
                )
            ]
        if consumers and not producers and not evidence(entries, "template"):  # a template tag may send it
            return [
                self.question(
                    lookup, "ORPHANED_CONSUMER", subject, consumers, capability, variant="signal", name=name
                )
            ]
        return []

    def evaluate_queue(self, attr: str, lookup: Lookup) -> list[Question]:
        entries = lookup(f"queue:{attr}")
        if any(payload.get("consumer") for payload in entries.values()):
            return []  # something gets from an attribute of that name: it may be this queue
        if lookup.config.library and not attr.startswith("_"):
            return []  # a public attribute of a library: its users may get from it
        questions = []
        for path, payload in sorted(entries.items()):
            if is_test_path(path, lookup.config):
                continue
            for cls, lines in payload.get("producer", ()):
                name = f"{cls}.{attr}"
                where = [f"{path}:{line}" for line in lines]
                questions.append(
                    self.question(
                        lookup,
                        "ORPHANED_QUEUE",
                        f"queue:{name}",
                        where,
                        f"queue.{name}",
                        variant="queue",
                        name=name,
                    )
                )
        return questions
