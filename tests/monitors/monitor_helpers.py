"""Build a tree from {path: source}, batch-scan it in memory, and ask what it asks.

Tests compare the FULL sorted list of findings of a snippet, the pyflakes way
(`flakes(src, UnusedImport)`): `assert findings(files) == [("DEAD_CODE", "symbol.a.f")]`, so an
extra spurious question fails a test as surely as a missing one.
"""

from __future__ import annotations

import textwrap

from monitors import MONITORS, MemoryStore, Question, analyze, rebuild
from monitors.config import DEFAULT, Config


def batch(files: dict[str, str], config: Config = DEFAULT) -> MemoryStore:
    store = MemoryStore()
    for path, source in files.items():
        store.replace_postings(path, analyze(path, textwrap.dedent(source).encode(), config))
    rebuild(store, config)
    return store


def questions(files: dict[str, str], config: Config = DEFAULT) -> list[Question]:
    found = sorted(batch(files, config).all_questions().values(), key=lambda q: (q.hypothesis, q.evidence))
    for q in found:  # the engine may evaluate only question kinds: a question elsewhere would be lost
        monitor_id, kind = q.key.split(":")[:2]
        assert kind in MONITORS[monitor_id].question_kinds, f"{q.key} asks but {kind!r} is no question kind"
    return found


def findings(files: dict[str, str], config: Config = DEFAULT) -> list[tuple[str, str]]:
    """Sorted (hypothesis, capability_key) of every question the tree asks."""
    return sorted((q.hypothesis, q.capability_key) for q in questions(files, config))


def asks(files: dict[str, str], hypothesis: str, about: str = "") -> list[Question]:
    """The questions of that hypothesis whose subject (capability key or text) mentions `about`."""
    return [
        q
        for q in questions(files)
        if q.hypothesis == hypothesis and (about in q.capability_key or about in q.question)
    ]
