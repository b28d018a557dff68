"""Monitors are registered by id; the engine routes every index key to the monitor that owns it.

A monitor is one self-contained unit, the pyflakes way: it declares every kind of question
it asks in one table of Hypothesis records (id, default severity, text template, ChemBus
signal), and makes its questions from that table with `question`. A monitor may be composed of
concerns (Concern), each with its own table, postings and question kinds, when they share
postings (one file's `module:` and `class:` keys serve several concerns).

Registration is discovered: `discover()` imports every module of the `monitors` package,
and a module registers its monitor with `@register` on import. Adding a module adds its
monitor; nothing else lists them.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from monitors.config import Config
from monitors.facts import FileFacts
from monitors.question import SEVERITIES, Question

Postings = dict[str, Any]  # key -> JSON-able payload, for one file

# A ChemBus signal is an AMQP routing key: at least two dot-separated words, no wildcards
# (the same rule as kloros_site.chembus.signals.check_signal, which monitors/ may not import).
SIGNAL = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$")
HYPOTHESIS_ID = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Hypothesis:
    """One kind of question a monitor asks, declared once (the pyflakes way: one class per message)."""

    id: str  # "ORPHANED_QUEUE"
    severity: str  # default; [tool.kloros] severity may override it
    template: str  # str.format template of the question text
    signal: str  # the ChemBus signal its opened/changed transitions go out on
    # other shapes of the same question: (name, template); `ask(..., variant=name)` picks one
    variants: tuple[tuple[str, str], ...] = ()

    def text(self, variant: str | None, fields: dict[str, Any]) -> str:
        template = dict(self.variants)[variant] if variant else self.template
        return template.format(**fields)

    def __post_init__(self) -> None:
        if not HYPOTHESIS_ID.match(self.id):
            raise ValueError(f"hypothesis id {self.id!r} must be UPPER_SNAKE_CASE")
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity must be one of {SEVERITIES}, not {self.severity!r}")
        if not isinstance(self.signal, str) or not SIGNAL.match(self.signal):
            raise ValueError(f"{self.id}: signal {self.signal!r} is not a routable ChemBus signal")


class Lookup(Protocol):
    """How `evaluate` reads other keys of its monitor; every read is recorded by the engine."""

    config: Config  # the tree's configuration (monitors.config)

    def __call__(self, key: str, /) -> dict[str, Any]:
        """{path: payload} of every file posting under `key`."""

    def exists(self, key: str) -> bool:
        """Whether any file posts under `key`: cheap even for a key thousands of files post under."""

    def read(self, key: str) -> dict[str, Any]:
        """{path: payload} under a full key of any monitor ("capability:imported:pkg"), recorded as read."""


MONITORS: dict[str, Monitor] = {}
# question_kinds of a monitor that only posts facts (suppress): no key has this kind
NO_QUESTIONS = frozenset({"(none)"})
HYPOTHESES: dict[tuple[str, str], Hypothesis] = {}  # (monitor id, hypothesis id) -> its declaration


class Asker:
    """Something that declares hypotheses and asks questions from them: a monitor or a concern."""

    hypotheses: ClassVar[tuple[Hypothesis, ...]] = ()
    # key kinds ("channel" of "channel:x") whose evaluation may return questions; the engine
    # evaluates only these, the rest are facts other keys read
    question_kinds: ClassVar[frozenset[str]] = frozenset()
    monitor_id: str = ""

    def question(
        self, lookup: Lookup, hypothesis: str, subject: str, where: list[str], capability: str,
        severity: str | None = None, variant: str | None = None, **fields: Any,
    ) -> Question:  # fmt: skip
        """A question of one of this table's hypotheses; `fields` fill its template (or variant).

        `severity` is this question's default when it differs from the table's (a private
        name is likelier dead than a public one); the tree's configuration overrides both.
        """
        declared = next((h for h in self.hypotheses if h.id == hypothesis), None)
        if declared is None:
            raise KeyError(f"{type(self).__name__} declares no hypothesis {hypothesis!r}")
        severity = lookup.config.severity_of(hypothesis, severity or declared.severity)
        text = declared.text(variant, fields)
        return Question.make(self.monitor_id, hypothesis, subject, text, where, severity, capability)


class Concern(Asker, ABC):
    """One concern of a composed monitor: postings under its own keys, questions from its own table."""

    @abstractmethod
    def postings(self, facts: FileFacts, postings: Postings) -> None:
        """Add this concern's postings for one file."""

    @abstractmethod
    def evaluate(self, kind: str, name: str, lookup: Lookup) -> list[Question]:
        """The questions of key `kind:name`, a kind in this concern's question_kinds."""


class Monitor(Asker, ABC):
    """One kind of question-asker.

    A monitor turns one file's facts into postings under its own keys, and turns the
    postings stored under one key (from every file of the tree) into that key's
    questions. `evaluate` may read other keys of the same monitor through `lookup`;
    the engine records those reads so a change under them re-evaluates this key.
    Nothing else may feed `evaluate`: that is what makes incremental equal batch.

    `hypotheses` and `question_kinds` of a monitor with `concerns` include theirs.
    """

    id: str = ""
    concerns: ClassVar[tuple[Concern, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.monitor_id = cls.id
        if "concerns" in cls.__dict__:
            for concern in cls.concerns:
                concern.monitor_id = cls.id
            cls.hypotheses = tuple(cls.__dict__.get("hypotheses", ())) + tuple(
                h for concern in cls.concerns for h in concern.hypotheses
            )
            cls.question_kinds = frozenset(cls.__dict__.get("question_kinds", ())).union(
                *(concern.question_kinds for concern in cls.concerns)
            )

    @abstractmethod
    def postings(self, facts: FileFacts) -> Postings: ...

    @abstractmethod
    def evaluate(self, key: str, lookup: Lookup) -> list[Question]: ...

    def concern_for(self, kind: str) -> Concern | None:
        return next((c for c in self.concerns if kind in c.question_kinds), None)


M = TypeVar("M", bound=type[Monitor])


def register(cls: M) -> M:
    if not cls.id or cls.id in MONITORS or ":" in cls.id:
        raise ValueError(f"monitor id {cls.id!r} is empty, taken or contains ':'")
    if not cls.hypotheses and cls.question_kinds != NO_QUESTIONS:
        raise ValueError(f"monitor {cls.id!r} declares no hypotheses but may ask (question_kinds)")
    taken = {hypothesis for _, hypothesis in HYPOTHESES}
    for hypothesis in cls.hypotheses:
        if hypothesis.id in taken:
            raise ValueError(f"monitor {cls.id!r}: hypothesis {hypothesis.id} is declared twice")
        taken.add(hypothesis.id)
    MONITORS[cls.id] = cls()
    HYPOTHESES.update({(cls.id, h.id): h for h in cls.hypotheses})
    return cls


def signal_of(monitor: str, hypothesis: str) -> str:
    """The ChemBus signal that questions of `hypothesis` (asked by `monitor`) go out on."""
    try:
        return HYPOTHESES[monitor, hypothesis].signal
    except KeyError:
        raise KeyError(f"no registered monitor {monitor!r} declares hypothesis {hypothesis!r}") from None


SKIPPED_MODULES = {"__main__"}  # running it is the CLI, not a definition


def discover() -> dict[str, Monitor]:
    """Import every module of the monitors package, so every @register runs; return MONITORS."""
    import monitors

    for module in pkgutil.iter_modules(monitors.__path__):
        if module.name not in SKIPPED_MODULES:
            importlib.import_module(f"monitors.{module.name}")
    return MONITORS
