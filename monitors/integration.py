"""Integration monitor: how components are wired together.

One registered unit composed of concerns (monitors/registry.py Concern), because they share
one file's postings: module:<mod> and prefix:<pkg> serve the wiring concern, class:<qualname>
serves components and dead code. Each concern declares its own hypotheses and keys:

  channels (here)                   channel:, pattern:, produced:     ORPHANED_QUEUE, ORPHANED_CONSUMER
  wiring (monitors/wiring.py)       import:, task:                    MISSING_WIRING
  components (monitors/components.py) class:, subclass:, attrstore:  UNINITIALIZED_COMPONENT
  duplicates (monitors/duplicates.py) clone:                          DUPLICATE_RESPONSIBILITY
  dead code (monitors/deadcode.py)  name:, used:, strprefix:          DEAD_CODE
  module:<mod>   the module's top-level names (read by import:<mod>)
  prefix:<pkg>   "some module lives under pkg" (read to tell project from stdlib)

Channel keys:
  channel:<topic>      producer/consumer lines           ORPHANED_QUEUE, ORPHANED_CONSUMER
  pattern:<word>       wildcard subscriptions by first word   ORPHANED_CONSUMER (wildcards)
  produced:<word>      topics produced, by first word (read by pattern:<word>)

Wildcard subscriptions whose first word is itself a wildcard ("#", "*.error") are
filed under pattern:* and silence matching orphaned queues, but are never asked
about themselves: whether they match anything would need every topic of the tree.
"""

from __future__ import annotations

from monitors.components import Components
from monitors.deadcode import DeadCode
from monitors.duplicates import Duplicates
from monitors.facts import FileFacts, is_test_path
from monitors.keys import add_line, evidence, module_postings
from monitors.question import Question
from monitors.registry import Hypothesis, Lookup, Monitor, Postings, register
from monitors.signals import INTEGRATION_QUESTION
from monitors.wiring import Wiring

LEADING_WILDCARD = "*"

ORPHANED_QUEUE = Hypothesis(
    "ORPHANED_QUEUE",
    "medium",
    "Channel '{channel}' has producers but no consumer - is this intentional?",
    INTEGRATION_QUESTION,
)
ORPHANED_CONSUMER = Hypothesis(
    "ORPHANED_CONSUMER",
    "medium",
    "Channel '{channel}' is subscribed to but nothing in the tree emits it - is a producer missing?",
    INTEGRATION_QUESTION,
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


def is_pattern(channel: str) -> bool:
    return any(word in ("*", "#") for word in channel.split("."))


def first_word(channel: str) -> str:
    word = channel.split(".")[0]
    return LEADING_WILDCARD if word in ("*", "#") else word


@register
class IntegrationMonitor(Monitor):
    id = "integration"
    hypotheses = (ORPHANED_QUEUE, ORPHANED_CONSUMER)
    question_kinds = frozenset({"channel", "pattern"})
    concerns = (Wiring(), Components(), Duplicates(), DeadCode())

    # -- postings ----------------------------------------------------------------

    def postings(self, facts: FileFacts) -> Postings:
        postings: Postings = {}
        if facts.kind == "python":
            self.channel_postings(facts, postings)
            names = sorted(facts.bound | (facts.exports or set()))  # __all__ promises its names
            module_postings(facts, postings, {"names": names, "open": facts.open_namespace})
        for concern in self.concerns:
            concern.postings(facts, postings)
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

    # -- evaluation --------------------------------------------------------------

    def evaluate(self, key: str, lookup: Lookup) -> list[Question]:
        kind, _, name = key.partition(":")
        if kind == "channel":
            return self.evaluate_channel(name, lookup)
        if kind == "pattern":
            return self.evaluate_pattern(name, lookup)
        concern = self.concern_for(kind)
        return concern.evaluate(kind, name, lookup) if concern else []

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

    def ask(
        self, hypothesis: str, subject: str, text: str, where: list[str], severity: str, capability: str
    ) -> Question:
        return Question.make(self.id, hypothesis, subject, text, where, severity, capability)
