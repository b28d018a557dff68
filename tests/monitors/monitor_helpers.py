"""Build a tree from {path: source}, batch-scan it in memory, and ask what it asks.

`batch` is the one batch scan of the tests: the monitor tests (snippets, dedented), the
incremental == batch property (generated trees) and the database store's compare with it.
"""

from __future__ import annotations

import json
import textwrap

from monitors import MemoryStore, Question, analyze_or_placeholder, rebuild


def postings(path: str, source: str) -> dict:
    """A file's postings (a placeholder when it cannot be analyzed), as the workers compute them."""
    result, _ = analyze_or_placeholder(path, source.encode())
    assert json.loads(json.dumps(result)) == result, "payloads must survive a JSON round trip unchanged"
    return result


def batch(files: dict[str, str], *, dedent: bool = True) -> MemoryStore:
    """A fresh batch scan of `files`; snippets written indented in a test are dedented first
    (dedent=False for generated trees, whose sources must be analyzed exactly as given)."""
    store = MemoryStore()
    for path, source in files.items():
        store.replace_postings(path, postings(path, textwrap.dedent(source) if dedent else source))
    rebuild(store)
    return store


def questions(files: dict[str, str]) -> list[Question]:
    return sorted(batch(files).all_questions().values(), key=lambda q: (q.hypothesis, q.evidence))


def asks(files: dict[str, str], hypothesis: str, about: str = "") -> list[Question]:
    """The questions of that hypothesis whose subject (capability key or text) mentions `about`."""
    return [
        q
        for q in questions(files)
        if q.hypothesis == hypothesis and (about in q.capability_key or about in q.question)
    ]
