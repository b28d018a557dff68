"""Questions: what the monitors ask about a tree, and how a set of them changes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("low", "medium", "high")


def stable_id(monitor: str, hypothesis: str, subject: str) -> str:
    """An id that is the same on every run and machine: no timestamps, no paths outside the tree."""
    digest = hashlib.sha256(f"{monitor}|{hypothesis}|{subject}".encode()).hexdigest()
    return f"{hypothesis.lower()}_{digest[:12]}"


@dataclass(frozen=True)
class Question:
    id: str
    monitor: str
    hypothesis: str
    question: str
    evidence: tuple[str, ...]  # "relative/path.py:LINE", sorted
    severity: str
    capability_key: str
    key: str = ""  # the index key whose evaluation owns this question; set by the engine

    @classmethod
    def make(
        cls,
        monitor: str,
        hypothesis: str,
        subject: str,
        question: str,
        evidence: list[str] | tuple[str, ...],
        severity: str = "medium",
        capability_key: str = "",
    ) -> Question:
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
        return cls(
            id=stable_id(monitor, hypothesis, subject),
            monitor=monitor,
            hypothesis=hypothesis,
            question=question,
            evidence=tuple(sorted(set(evidence))),
            severity=severity,
            capability_key=capability_key or subject,
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["evidence"] = list(self.evidence)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Question:
        return cls(**{**data, "evidence": tuple(data["evidence"])})


@dataclass
class Delta:
    """How the set of questions changed: what a bus subscriber needs to hear, nothing more."""

    opened: list[Question] = field(default_factory=list)
    changed: list[Question] = field(default_factory=list)
    resolved: list[Question] = field(default_factory=list)

    @classmethod
    def combine(cls, deltas: Iterable[Delta]) -> Delta:
        """The changes of several keys, in order, in one pass. A question can move between keys in
        one evaluation (one key stops asking it, another starts, under the same subject): that is
        one change, not an opening and a resolution, which a subscriber applying them in order
        would turn into a loss."""
        opened: dict[str, Question] = {}
        changed: list[Question] = []
        resolved: dict[str, Question] = {}
        for delta in deltas:
            for question in delta.opened:
                if resolved.pop(question.id, None) is not None:
                    changed.append(question)
                else:
                    opened[question.id] = question
            changed += delta.changed
            for question in delta.resolved:
                if question.id not in opened:  # else opened under another key: it stays open
                    resolved[question.id] = question
        return cls(list(opened.values()), changed, list(resolved.values()))

    def __bool__(self) -> bool:
        return bool(self.opened or self.changed or self.resolved)


def diff(old: dict[str, Question], new: dict[str, Question]) -> Delta:
    delta = Delta()
    for qid, question in new.items():
        before = old.get(qid)
        if before is None:
            delta.opened.append(question)
        elif before != question:
            delta.changed.append(question)
    delta.resolved = [q for qid, q in old.items() if qid not in new]
    return delta
