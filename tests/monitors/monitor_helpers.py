"""Build a tree from {path: source}, batch-scan it in memory, and ask what it asks."""

from __future__ import annotations

import textwrap

from monitors import MemoryStore, Question, analyze, rebuild


def batch(files: dict[str, str]) -> MemoryStore:
    store = MemoryStore()
    for path, source in files.items():
        store.replace_postings(path, analyze(path, textwrap.dedent(source).encode()))
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
