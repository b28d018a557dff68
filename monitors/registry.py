"""Monitors are registered by id; the engine routes every index key to the monitor that owns it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from monitors.config import Config
from monitors.facts import FileFacts
from monitors.question import Question

Postings = dict[str, Any]  # key -> JSON-able payload, for one file


@dataclass(frozen=True)
class Hypothesis:
    """One kind of question a monitor asks, declared once (the pyflakes way: one class per message)."""

    id: str  # "ORPHANED_QUEUE"
    severity: str  # default; [tool.kloros] severity may override it
    template: str  # str.format template of the question text
    signal: str  # the ChemBus signal its opened/changed transitions go out on


class Lookup(Protocol):
    """How `evaluate` reads other keys of its monitor; every read is recorded by the engine."""

    config: Config  # the tree's configuration (monitors.config)

    def __call__(self, key: str, /) -> dict[str, Any]:
        """{path: payload} of every file posting under `key`."""

    def exists(self, key: str) -> bool:
        """Whether any file posts under `key`: cheap even for a key thousands of files post under."""


MONITORS: dict[str, Monitor] = {}


class Monitor(ABC):
    """One kind of question-asker.

    A monitor turns one file's facts into postings under its own keys, and turns the
    postings stored under one key (from every file of the tree) into that key's
    questions. `evaluate` may read other keys of the same monitor through `lookup`;
    the engine records those reads so a change under them re-evaluates this key.
    Nothing else may feed `evaluate`: that is what makes incremental equal batch.
    """

    id: str = ""
    hypotheses: ClassVar[tuple[Hypothesis, ...]] = ()
    # key kinds ("channel" of "channel:x") whose evaluation may return questions; the engine
    # evaluates only these, the rest are facts other keys read
    question_kinds: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def postings(self, facts: FileFacts) -> Postings: ...

    @abstractmethod
    def evaluate(self, key: str, lookup: Lookup) -> list[Question]: ...


M = TypeVar("M", bound=type[Monitor])


def register(cls: M) -> M:
    if not cls.id or cls.id in MONITORS or ":" in cls.id:
        raise ValueError(f"monitor id {cls.id!r} is empty, taken or contains ':'")
    MONITORS[cls.id] = cls()
    return cls
