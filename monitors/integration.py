"""Integration monitor: how components are wired together."""

from __future__ import annotations

from monitors.facts import FileFacts
from monitors.question import Question
from monitors.registry import Lookup, Monitor, Postings, register

PATTERNS_KEY = "patterns"  # every wildcard subscription of the tree, read by every channel


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


@register
class IntegrationMonitor(Monitor):
    id = "integration"

    def postings(self, facts: FileFacts) -> Postings:
        postings: Postings = {}
        for endpoint in facts.channels:
            if endpoint.role == "consumer" and is_pattern(endpoint.channel):
                key, entry = PATTERNS_KEY, [endpoint.channel, endpoint.line]
                postings.setdefault(key, []).append(entry)
            else:
                channel = postings.setdefault(f"channel:{endpoint.channel}", {})
                channel.setdefault(endpoint.role, []).append(endpoint.line)
        return postings

    def evaluate(self, key: str, lookup: Lookup) -> list[Question]:
        kind, _, name = key.partition(":")
        if kind == "channel":
            return self._orphaned_queue(name, lookup)
        return []

    def _orphaned_queue(self, channel: str, lookup: Lookup) -> list[Question]:
        entries = lookup(f"channel:{channel}")
        if any("consumer" in e for e in entries.values()):
            return []
        patterns = lookup(PATTERNS_KEY)
        if any(topic_matches(p, channel) for subs in patterns.values() for p, _ in subs):
            return []
        evidence = [f"{path}:{line}" for path, e in entries.items() for line in e.get("producer", [])]
        return [
            Question.make(
                self.id,
                "ORPHANED_QUEUE",
                f"channel:{channel}",
                f"Channel '{channel}' has producers but no consumer - is this intentional?",
                evidence,
                severity="medium",
                capability_key=f"channel.{channel}",
            )
        ]
