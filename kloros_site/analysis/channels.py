"""The channel map: which modules produce and which consume each topic, read from the postings.

The channels monitor (monitors/channels.py) posts a file's channel endpoints under
`<NAMESPACE>:channel:<topic>` ({"producer": [lines], "consumer": [lines]}), its wildcard subscriptions under
`<NAMESPACE>:pattern:<first word>` ([[pattern, line], ...]) and the topics it produces under
`<NAMESPACE>:produced:<first word>`. NAMESPACE is the one place that says where they live.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kloros_site.analysis.evidence import Location
from kloros_site.analysis.models import Posting, Question, Tree
from monitors.channels import first_word, is_pattern, topic_matches
from monitors.facts import is_test_path, module_name

NAMESPACE = "channels"
CHANNEL_PREFIX = f"{NAMESPACE}:channel:"
PATTERN_PREFIX = f"{NAMESPACE}:pattern:"
PRODUCED_PREFIX = f"{NAMESPACE}:produced:"
CHUNK = 500


@dataclass
class Channel:
    """A topic: a concrete one (producers, direct consumers and the wildcard subscriptions that
    match it) or a wildcard subscription (its subscribers and the topics it matches)."""

    name: str
    producers: list[Location] = field(default_factory=list)
    consumers: list[Location] = field(default_factory=list)
    via: list[tuple[str, Location]] = field(default_factory=list)  # (pattern, where it subscribes)
    matches: list[str] = field(default_factory=list)  # for a wildcard: the topics it matches
    questions: list[Question] = field(default_factory=list)

    @property
    def wildcard(self) -> bool:
        return is_pattern(self.name)

    @property
    def state(self) -> str:
        if self.wildcard:
            return "wired" if self.matches else "matches nothing"
        if self.producers and (self.consumers or self.via):
            return "wired"
        return "no consumer" if self.producers else "no producer"

    @property
    def orphaned(self) -> bool:
        return self.state != "wired"

    @property
    def only_tests(self) -> bool:
        every = [loc.path for loc in self.producers + self.consumers]
        return bool(every) and all(is_test_path(path) for path in every)

    def modules(self) -> set[str]:
        return {module_name(loc.path) for loc in self.producers + self.consumers}


@dataclass
class ChannelMap:
    channels: dict[str, Channel] = field(default_factory=dict)  # concrete topics and wildcards, by name

    def sorted(self) -> list[Channel]:
        return [self.channels[name] for name in sorted(self.channels)]

    def search(self, text: str) -> list[Channel]:
        """Channels whose name, or a module or file on either end, contains `text`."""
        needle = text.strip().lower()
        if not needle:
            return self.sorted()
        found = []
        for channel in self.sorted():
            where = [loc.path for loc in channel.producers + channel.consumers]
            haystack = [channel.name, *where, *(module_name(p) for p in where)]
            if any(needle in item.lower() for item in haystack):
                found.append(channel)
        return found


def build(rows: Iterable[tuple[str, str, Any]]) -> ChannelMap:
    """A map from (key, path, payload) rows under the channel and pattern keys."""
    result = ChannelMap()
    channels = result.channels
    for key, path, payload in rows:
        if key.startswith(CHANNEL_PREFIX):
            channel = channels.setdefault(key[len(CHANNEL_PREFIX) :], Channel(key[len(CHANNEL_PREFIX) :]))
            channel.producers += [Location(path, line) for line in payload.get("producer", [])]
            channel.consumers += [Location(path, line) for line in payload.get("consumer", [])]
        elif key.startswith(PATTERN_PREFIX):
            for pattern, line in payload:
                channels.setdefault(pattern, Channel(pattern)).consumers.append(Location(path, line))
    topics = [c for c in channels.values() if not c.wildcard]
    for wildcard in [c for c in channels.values() if c.wildcard]:
        for topic in topics:
            if topic.producers and topic_matches(wildcard.name, topic.name):
                wildcard.matches.append(topic.name)
                topic.via += [(wildcard.name, loc) for loc in wildcard.consumers]
    for channel in channels.values():
        channel.producers.sort()
        channel.consumers.sort()
        channel.via.sort()
        channel.matches.sort()
    return result


def _tree_rows(tree: Tree, names: list[str] | None = None) -> Iterator[tuple[str, str, Any]]:
    postings = Posting.objects.filter(tree=tree)
    if names is None:
        prefixes = (CHANNEL_PREFIX, PATTERN_PREFIX)
        for prefix in prefixes:
            yield from postings.filter(key__startswith=prefix).values_list("key", "file__path", "payload")
        return
    # one channel: its own key, and the wildcard keys that could match it
    keys = set()
    for name in names:
        keys.add(CHANNEL_PREFIX + name)
        keys.update({PATTERN_PREFIX + first_word(name), PATTERN_PREFIX + "*"})
    yield from postings.filter(key__in=sorted(keys)).values_list("key", "file__path", "payload")


def channel_map(tree: Tree, *, questions: bool = True) -> ChannelMap:
    """Every channel of a tree, with its open questions (suppressed ones left out)."""
    result = build(_tree_rows(tree))
    if questions:
        attach_questions(tree, result)
    return result


def one_channel(tree: Tree, name: str) -> Channel | None:
    """One channel: its key and the wildcard keys that could match it (or, for a wildcard, the
    topics of its first word), without reading the whole map."""
    if is_pattern(name):
        word = first_word(name)
        rows = list(_tree_rows(tree, [name]))
        produced = Posting.objects.filter(tree=tree, key=PRODUCED_PREFIX + word).values_list(
            "payload", flat=True
        )
        topics = sorted({t for payload in produced for t in payload if topic_matches(name, t)})
        rows += Posting.objects.filter(tree=tree, key__in=[CHANNEL_PREFIX + t for t in topics]).values_list(
            "key", "file__path", "payload"
        )
    else:
        rows = list(_tree_rows(tree, [name]))
    channel = build(rows).channels.get(name)
    if channel is not None:
        attach_questions(tree, ChannelMap({name: channel}))
    return channel


def attach_questions(tree: Tree, result: ChannelMap) -> None:
    keys: dict[str, list[Channel]] = {}
    for channel in result.channels.values():
        key = (
            (PATTERN_PREFIX + first_word(channel.name))
            if channel.wildcard
            else (CHANNEL_PREFIX + channel.name)
        )
        keys.setdefault(key, []).append(channel)
    names = sorted(keys)
    for i in range(0, len(names), CHUNK):
        rows = Question.objects.active().filter(tree=tree, key__in=names[i : i + CHUNK]).order_by("-id")
        for question in rows:
            for channel in keys[question.key]:
                # a pattern key asks one question per wildcard: its capability names the pattern
                if not channel.wildcard or question.capability_key == f"channel.{channel.name}":
                    channel.questions.append(question)


def from_postings(index: dict[str, dict[str, Any]]) -> ChannelMap:
    """A map from a batch scan's index ({key: {path: payload}}, monitors.engine.MemoryStore)."""
    return build(
        (key, path, payload)
        for key, by_path in index.items()
        if key.startswith((CHANNEL_PREFIX, PATTERN_PREFIX))
        for path, payload in by_path.items()
    )
