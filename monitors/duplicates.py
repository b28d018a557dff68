"""Duplicates concern of the integration monitor: the same body in several modules.

Keys:
  clone:<digest>   functions/classes/whole modules with this normalized body (monitors/clones.py):
                   [qualname, line, digest of the enclosing class or copied file, ("file")]
                                                                          DUPLICATE_RESPONSIBILITY

Constants count by value (two queries of one shape with different SQL are no clones); a class
or file that is a clone as a whole is one question, its members are not asked about again
(but one of them stands for the copies when a third module shares just that member).
Generated files (facts.generated) are left out.
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
    "{names} have the same body in {modules} modules. Should they share one implementation?",
    INTEGRATION_QUESTION,
    variants=(
        (
            "file",
            "Modules {names} have the same content. Is one a copy of the other that could import it instead?",
        ),
    ),
)


class Duplicates(Concern):
    hypotheses = (DUPLICATE_RESPONSIBILITY,)
    question_kinds = frozenset({"clone"})

    def postings(self, facts: FileFacts, postings: Postings) -> None:
        if facts.generated:
            return  # a family of generated files is the generator's business, not a shared responsibility
        for clone in facts.clones:
            entry = [clone.qualname, clone.line, clone.parent] + (["file"] if clone.file else [])
            postings.setdefault(f"clone:{clone.digest}", []).append(entry)

    def evaluate(self, kind: str, digest: str, lookup: Lookup) -> list[Question]:
        entries = lookup(f"clone:{digest}")
        if len(entries) < 2:
            return []
        kept: dict[str, list[list[Any]]] = {}
        covered: dict[str, list[tuple[str, str, int]]] = {}
        files = False
        for path, clones in entries.items():
            for qualname, line, parent, *file in clones:
                files = files or bool(file)
                if parent and len(lookup(f"clone:{parent}")) >= 2:
                    # the whole class (or file) is a clone: that question covers this one
                    covered.setdefault(parent, []).append((path, qualname, line))
                    continue
                kept.setdefault(path, []).append([qualname, line])
        for members in covered.values():  # one stands for its copies, for a module sharing just this
            path, qualname, line = min(members)
            kept.setdefault(path, []).append([qualname, line])
        if len(kept) < 2:
            return []
        names = sorted({qualname for clones in kept.values() for qualname, _ in clones})
        where = [f"{path}:{line}" for path, clones in kept.items() for _, line in clones]
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        capability = f"module.{names[0]}" if files else f"symbol.{names[0]}"
        return [
            self.question(lookup, "DUPLICATE_RESPONSIBILITY", f"clone:{digest}", where, capability,
                          variant="file" if files else None, names=shown, modules=len(kept))
        ]  # fmt: skip
