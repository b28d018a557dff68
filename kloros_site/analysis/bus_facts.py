"""What a question transition looks like on ChemBus, in the curiosity core's field names."""

from __future__ import annotations

import time
import uuid
from typing import Any

from kloros_site.chembus.envelope import envelope, evidence_hash
from kloros_site.chembus.signals import QUESTION_RESOLVED, check_signal
from monitors import Question, signal_of

# How a consumer should weigh a question it did not ask for: a low-severity question is cheap to
# look at and worth little; a high one is worth a human's attention (autonomy 1: propose, don't act).
VALUE_BY_SEVERITY = {"low": 0.2, "medium": 0.5, "high": 0.8}
AUTONOMY = 1
COST = 0.2


def question_facts(question: Question, status: str) -> dict[str, Any]:
    return {
        "question_id": question.id,
        "hypothesis": question.hypothesis,
        "question": question.question,
        "evidence": list(question.evidence),
        "evidence_hash": evidence_hash(question.evidence),
        "severity": question.severity,
        "source": question.monitor,
        "capability_key": question.capability_key,
        "action_class": "investigate",
        "autonomy": AUTONOMY,
        "value_estimate": VALUE_BY_SEVERITY.get(question.severity, 0.5),
        "cost": COST,
        "status": status,
    }


def envelope_for(question: Question, kind: str, incident_id: uuid.UUID) -> tuple[str, dict[str, Any]]:
    """(signal, envelope) for one transition of a question; stored as-is in the outbox."""
    resolved = kind == "resolved"
    # opened/changed go out on the signal the question's hypothesis declares (a test checks each
    # registered one is routable, so no question can make its file a dead letter here)
    signal = QUESTION_RESOLVED if resolved else check_signal(signal_of(question.monitor, question.hypothesis))
    facts = question_facts(question, "resolved" if resolved else "open")
    facts["transition"] = kind
    return signal, envelope(
        signal,
        facts,
        severity=question.severity,
        incident_id=str(incident_id),
        trace=f"{question.monitor}/{question.id}",
        ts=time.time(),
    )
