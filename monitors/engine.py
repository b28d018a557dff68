"""The incremental engine: one file's postings in, the resulting change of questions out.

The tree's state lives in a Store (in memory here; the Django app keeps one in its
database). The engine owns the one algorithm both use, so incremental updates and a
batch scan cannot drift apart:

- a file's analysis is a dict of postings, key -> payload, namespaced "monitor:local";
- replacing a file's postings reports which keys' postings actually changed;
- those keys, and every key whose last evaluation read one of them, are evaluated again;
- a key's questions are replaced wholesale, and the difference is the Delta.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from monitors.config import DEFAULT, Config
from monitors.extract import extract, placeholder_facts
from monitors.facts import AnalysisError
from monitors.question import Delta, Question, diff
from monitors.registry import MONITORS, Postings
from monitors.suppress import drop_suppressed


class Store(Protocol):
    def replace_postings(self, path: str, postings: Mapping[str, Any] | None) -> set[str]:
        """Store `path`'s postings (None: the file is gone); return keys whose postings changed."""

    def postings(self, key: str) -> dict[str, Any]:
        """{path: payload} of every file posting under `key`."""

    def exists(self, key: str) -> bool:
        """Whether any file posts under `key`."""

    def readers(self, keys: set[str]) -> set[str]:
        """Keys whose last evaluation read any of `keys`."""

    def set_reads(self, key: str, reads: set[str]) -> None: ...

    def questions(self, key: str) -> dict[str, Question]: ...

    def set_questions(self, key: str, questions: dict[str, Question]) -> None: ...

    def keys(self) -> set[str]:
        """Every key with postings."""

    def prefetch(self, keys: list[str]) -> None:
        """About to evaluate `keys`: a store behind a network may load what they need at once."""

    def flush(self) -> None:
        """The evaluation is over: a store that buffered writes makes them now."""


def analyze(path: str, data: bytes, config: Config = DEFAULT) -> Postings:
    """Parse one file once and collect every monitor's postings. Raises AnalysisError."""
    facts = extract(path, data, config)
    postings: Postings = {}
    for monitor_id, monitor in MONITORS.items():
        for key, payload in monitor.postings(facts).items():
            postings[f"{monitor_id}:{key}"] = payload
    return postings


def placeholder(path: str, config: Config = DEFAULT) -> Postings:
    """Postings for a file that exists but cannot be analyzed (AnalysisError).

    The file is known to exist, its contents are not: its module resolves imports of any
    name and is never itself asked about. Apply these instead of None so that a syntax
    error mid-edit does not make every importer look broken.
    """
    facts = placeholder_facts(path, config)
    postings: Postings = {}
    for monitor_id, monitor in MONITORS.items():
        for key, payload in monitor.postings(facts).items():
            postings[f"{monitor_id}:{key}"] = payload
    return postings


def analyze_or_placeholder(
    path: str, data: bytes, config: Config = DEFAULT
) -> tuple[Postings, AnalysisError | None]:
    try:
        return analyze(path, data, config), None
    except AnalysisError as exc:
        return placeholder(path, config), exc


class KeyLookup:
    """The Lookup one key's evaluation gets: scoped to its monitor, recording what it read.

    A key's own postings are not recorded as a read: a change under the key itself always
    re-evaluates it (see `affected`), so storing "key reads key" would only cost rows.
    """

    def __init__(self, store: Store, monitor_id: str, key: str, config: Config = DEFAULT) -> None:
        self.store = store
        self.config = config
        self.prefix = f"{monitor_id}:"
        self.key = key
        self.reads: set[str] = set()  # a change under any of these re-evaluates the key

    def __call__(self, other: str) -> dict[str, Any]:
        full = self.prefix + other
        if full != self.key:
            self.reads.add(full)
        return self.store.postings(full)

    def exists(self, other: str) -> bool:
        full = self.prefix + other
        if full != self.key:
            self.reads.add(full)
        return self.store.exists(full)

    def read(self, key: str) -> dict[str, Any]:
        """Postings under a full key of any namespace (suppress:...), recorded as read."""
        self.reads.add(key)
        return self.store.postings(key)


def asks_questions(key: str) -> bool:
    """Whether evaluating `key` can ask anything: most key kinds are facts other keys read.

    A monitor that declares no `question_kinds` has every kind evaluated.
    """
    monitor_id, _, local = key.partition(":")
    kinds = MONITORS[monitor_id].question_kinds
    return not kinds or local.partition(":")[0] in kinds


def affected(store: Store, changed: set[str]) -> set[str]:
    """The keys to evaluate after the postings under `changed` changed: those that can ask a
    question, and every key whose last evaluation read one of them."""
    return {key for key in changed if asks_questions(key)} | store.readers(changed)


def evaluate(store: Store, keys: Iterable[str], config: Config = DEFAULT) -> Delta:
    deltas: list[Delta] = []
    ordered = sorted(key for key in keys if asks_questions(key))
    store.prefetch(ordered)
    for key in ordered:
        monitor_id, local_key = key.split(":", 1)
        monitor = MONITORS[monitor_id]
        lookup = KeyLookup(store, monitor_id, key, config)
        new: dict[str, Question] = {}
        if store.exists(key):
            for question in drop_suppressed(monitor.evaluate(local_key, lookup), lookup):
                new[question.id] = Question(**{**question.__dict__, "key": key})
        else:
            lookup.reads = set()  # a key nobody posts under asks nothing; forget it
        store.set_reads(key, lookup.reads)
        old = store.questions(key)
        if old != new:
            store.set_questions(key, new)
            deltas.append(diff(old, new))
    store.flush()
    return Delta.combine(deltas)


def apply(store: Store, path: str, postings: Mapping[str, Any] | None, config: Config = DEFAULT) -> Delta:
    """Record one file's new analysis (None: deleted) and re-evaluate what it touched."""
    changed = store.replace_postings(path, postings)
    if not changed:
        return Delta()
    return evaluate(store, affected(store, changed), config)


def rebuild(store: Store, config: Config = DEFAULT) -> Delta:
    """Evaluate every key from scratch: what a batch scan does after loading all postings."""
    return evaluate(store, store.keys(), config)


class MemoryStore:
    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.index: dict[str, dict[str, Any]] = {}
        self.reads: dict[str, set[str]] = {}
        self.read_by: dict[str, set[str]] = {}
        self.by_key: dict[str, dict[str, Question]] = {}

    def replace_postings(self, path: str, postings: Mapping[str, Any] | None) -> set[str]:
        old = self.files.pop(path, {})
        new = dict(postings or {})
        if new:
            self.files[path] = new
        changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        for key in changed:
            entries = self.index.setdefault(key, {})
            if key in new:
                entries[path] = new[key]
            else:
                entries.pop(path, None)
                if not entries:
                    del self.index[key]
        return changed

    def postings(self, key: str) -> dict[str, Any]:
        return dict(self.index.get(key, {}))

    def exists(self, key: str) -> bool:
        return key in self.index

    def prefetch(self, keys: list[str]) -> None:
        pass  # everything is at hand

    def flush(self) -> None:
        pass  # writes are immediate

    def readers(self, keys: set[str]) -> set[str]:
        return set().union(*(self.read_by.get(k, set()) for k in keys)) if keys else set()

    def set_reads(self, key: str, reads: set[str]) -> None:
        for old in self.reads.pop(key, set()) - reads:
            self.read_by[old].discard(key)
            if not self.read_by[old]:
                del self.read_by[old]
        if reads:
            self.reads[key] = set(reads)
            for other in reads:
                self.read_by.setdefault(other, set()).add(key)

    def questions(self, key: str) -> dict[str, Question]:
        return dict(self.by_key.get(key, {}))

    def set_questions(self, key: str, questions: dict[str, Question]) -> None:
        if questions:
            self.by_key[key] = dict(questions)
        else:
            self.by_key.pop(key, None)

    def keys(self) -> set[str]:
        return set(self.index)

    def all_questions(self) -> dict[str, Question]:
        return {qid: q for qs in self.by_key.values() for qid, q in qs.items()}
