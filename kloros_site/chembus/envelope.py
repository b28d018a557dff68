"""The ChemBus message: what the curiosity core expects in every envelope."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from typing import Any

from kloros_site.chembus.signals import ECOSYSTEM, check_signal

SCHEMA_VERSION = 1

# The curiosity core ranks by one number in [0, 1]. Evenly spaced, with headroom under 1.0 for
# signals stronger than any monitor's "high".
INTENSITY: dict[str, float] = {"low": 0.3, "medium": 0.6, "high": 0.9}


def intensity(severity: str) -> float:
    try:
        return INTENSITY[severity]
    except KeyError:
        raise ValueError(f"severity must be one of {sorted(INTENSITY)}, not {severity!r}") from None


def evidence_hash(evidence: Iterable[str]) -> str:
    """Order-independent, so re-scans that list the same evidence differently hash alike."""
    return hashlib.sha256("|".join(sorted(evidence)).encode()).hexdigest()[:16]


def envelope(
    signal: str,
    facts: Mapping[str, Any],
    *,
    severity: str,
    incident_id: str,
    trace: str | None = None,
    ts: float | None = None,
) -> dict[str, Any]:
    return {
        "signal": check_signal(signal),
        "ecosystem": ECOSYSTEM,
        "intensity": intensity(severity),
        "facts": dict(facts),
        "incident_id": incident_id,
        "trace": trace,
        "ts": float(time.time() if ts is None else ts),
        "schema_version": SCHEMA_VERSION,
    }
