"""Build a tree from {path: source}, batch-scan it in memory, and ask what it asks."""

from __future__ import annotations

import textwrap

from monitors import MemoryStore, Question, analyze, rebuild
from monitors.config import DEFAULT, Config


def batch(files: dict[str, str], config: Config = DEFAULT) -> MemoryStore:
    store = MemoryStore()
    for path, source in files.items():
        store.replace_postings(path, analyze(path, textwrap.dedent(source).encode(), config))
    rebuild(store, config)
    return store


def questions(files: dict[str, str], config: Config = DEFAULT) -> list[Question]:
    return sorted(batch(files, config).all_questions().values(), key=lambda q: (q.hypothesis, q.evidence))


def findings(files: dict[str, str], *monitors: str, config: Config = DEFAULT) -> list[tuple[str, str]]:
    """Every (hypothesis, capability key) a batch scan of `files` asks, sorted: compare the whole
    list, like pyflakes' `flakes(src, *messages)`, so a spurious extra question fails the test.
    Naming monitors (ids) keeps the list to theirs; other monitors have their own tests."""
    found = batch(files, config).all_questions().values()
    return sorted((q.hypothesis, q.capability_key) for q in found if not monitors or q.monitor in monitors)


def asks(files: dict[str, str], hypothesis: str, about: str = "") -> list[Question]:
    """The questions of that hypothesis whose subject (capability key or text) mentions `about`."""
    return [
        q
        for q in questions(files)
        if q.hypothesis == hypothesis and (about in q.capability_key or about in q.question)
    ]
