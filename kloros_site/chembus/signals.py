"""Signal names on ChemBus. A signal is the AMQP routing key, so subscribers select with wildcards."""

from __future__ import annotations

import re

ECOSYSTEM = "curiosity"

INTEGRATION_QUESTION = "curiosity.integration_question"
CAPABILITY_QUESTION = "curiosity.capability_question"
KNOWLEDGE_QUESTION = "curiosity.knowledge_question"
EXPLORATION_QUESTION = "curiosity.exploration_question"
QUESTION_RESOLVED = "curiosity.question_resolved"

# Which of these a question goes out on is declared by its hypothesis (monitors.registry.Hypothesis
# .signal; monitors.signal_of(monitor, hypothesis)), next to the monitor that asks it.

# At least two words: kombu's emulated topic exchange (Redis, filesystem) turns "curiosity.#" into
# ^curiosity\..*?$, which misses a bare "curiosity" that RabbitMQ would route. Two words or more
# route the same everywhere. No wildcards: those belong to subscribers.
_SIGNAL_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$")


def check_signal(signal: str) -> str:
    if not isinstance(signal, str) or not _SIGNAL_RE.match(signal):
        raise ValueError(f"signal must be dot-separated words (at least two, no wildcards), not {signal!r}")
    return signal
