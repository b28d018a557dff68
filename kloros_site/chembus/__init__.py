"""ChemBus on kombu: a durable topic exchange that carries curiosity questions (no Django needed)."""

from kloros_site.chembus.bus import ChemBusUnavailable, Publisher, bus_exchange, connection, publish
from kloros_site.chembus.config import DEFAULT_EXCHANGE, ChemBusError
from kloros_site.chembus.envelope import INTENSITY, SCHEMA_VERSION, envelope, evidence_hash, intensity
from kloros_site.chembus.signals import (
    CAPABILITY_QUESTION,
    ECOSYSTEM,
    EXPLORATION_QUESTION,
    INTEGRATION_QUESTION,
    KNOWLEDGE_QUESTION,
    QUESTION_RESOLVED,
    check_signal,
)
from kloros_site.chembus.sub import ChemSub

__all__ = [
    "CAPABILITY_QUESTION",
    "DEFAULT_EXCHANGE",
    "ECOSYSTEM",
    "EXPLORATION_QUESTION",
    "INTEGRATION_QUESTION",
    "INTENSITY",
    "KNOWLEDGE_QUESTION",
    "QUESTION_RESOLVED",
    "SCHEMA_VERSION",
    "ChemBusError",
    "ChemBusUnavailable",
    "ChemSub",
    "Publisher",
    "bus_exchange",
    "check_signal",
    "connection",
    "envelope",
    "evidence_hash",
    "intensity",
    "publish",
]
