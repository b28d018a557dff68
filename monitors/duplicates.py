"""Duplicates concern of the integration monitor: the same body in several modules.

Keys:
  clone:<digest>   functions/classes with this normalized body (monitors/clones.py)   DUPLICATE_RESPONSIBILITY
"""

from __future__ import annotations

from typing import Any

from monitors.facts import FileFacts
from monitors.question import Question
from monitors.registry import Concern, Hypothesis, Lookup, Postings
from monitors.signals import INTEGRATION_QUESTION

DUPLICATE_RESPONSIBILITY = Hypothesis(
    "DUPLICATE_RESPONSIBILITY",
    "low",
    "{names} have the same body in {modules} modules - should they share one implementation?",
    INTEGRATION_QUESTION,
)


class Duplicates(Concern):
    hypotheses = (DUPLICATE_RESPONSIBILITY,)
    question_kinds = frozenset({"clone"})

    def postings(self, facts: FileFacts, postings: Postings) -> None:
        for clone in facts.clones:
            postings.setdefault(f"clone:{clone.digest}", []).append(
                [clone.qualname, clone.line, clone.parent]
            )

    def evaluate(self, kind: str, digest: str, lookup: Lookup) -> list[Question]:
        entries = lookup(f"clone:{digest}")
        if len(entries) < 2:
            return []
        kept: dict[str, list[list[Any]]] = {}
        for path, clones in entries.items():
            for qualname, line, parent in clones:
                if parent and len(lookup(f"clone:{parent}")) >= 2:
                    continue  # the whole class is a clone; that question covers this method
                kept.setdefault(path, []).append([qualname, line])
        if len(kept) < 2:
            return []
        names = sorted({qualname for clones in kept.values() for qualname, _ in clones})
        where = [f"{path}:{line}" for path, clones in kept.items() for _, line in clones]
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        return [
            self.question(lookup, "DUPLICATE_RESPONSIBILITY", f"clone:{digest}", where, f"symbol.{names[0]}",
                     names=shown, modules=len(kept))
        ]  # fmt: skip
