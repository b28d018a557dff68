"""Build a tree from {path: source}, batch-scan it in memory, and ask what it asks.

Tests compare the FULL sorted list of findings of a snippet, the pyflakes way
(`flakes(src, UnusedImport)`): `assert findings(files) == [("DEAD_CODE", "symbol.a.f")]`, so an
extra spurious question fails a test as surely as a missing one.

`batch` is the one batch scan of the tests: the monitor tests (snippets, dedented), the
incremental == batch properties (generated trees) and the database store's compare with it.
"""

from __future__ import annotations

import json
import textwrap

from monitors import MONITORS, MemoryStore, Question, analyze_or_placeholder, rebuild
from monitors.config import DEFAULT, Config


def postings(path: str, source: str, config: Config = DEFAULT) -> dict:
    """A file's postings (a placeholder when it cannot be analyzed), as the workers compute them."""
    result, _ = analyze_or_placeholder(path, source.encode(), config)
    assert json.loads(json.dumps(result)) == result, "payloads must survive a JSON round trip unchanged"
    return result


def batch(files: dict[str, str], config: Config = DEFAULT, *, dedent: bool = True) -> MemoryStore:
    """A fresh batch scan of `files`; snippets written indented in a test are dedented first
    (dedent=False for generated trees, whose sources must be analyzed exactly as given)."""
    store = MemoryStore()
    for path, source in files.items():
        store.replace_postings(path, postings(path, textwrap.dedent(source) if dedent else source, config))
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
