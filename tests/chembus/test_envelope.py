"""The ChemBus message format and signal names."""

from __future__ import annotations

import hashlib

import pytest
from kombu.transport.virtual.exchange import TopicExchange

from kloros_site.chembus import (
    CAPABILITY_QUESTION,
    EXPLORATION_QUESTION,
    INTEGRATION_QUESTION,
    KNOWLEDGE_QUESTION,
    QUESTION_RESOLVED,
    check_signal,
    envelope,
    evidence_hash,
)
from monitors import MONITORS, signal_of
from monitors.registry import HYPOTHESES


def test_envelope_fields() -> None:
    env = envelope(
        INTEGRATION_QUESTION, {"question": "q?"}, severity="high", incident_id="orphaned_queue_1", ts=12.5
    )
    assert env == {
        "signal": INTEGRATION_QUESTION,
        "ecosystem": "curiosity",
        "intensity": 0.9,
        "facts": {"question": "q?"},
        "incident_id": "orphaned_queue_1",
        "trace": None,
        "ts": 12.5,
        "schema_version": 1,
    }


@pytest.mark.parametrize(("severity", "intensity"), [("low", 0.3), ("medium", 0.6), ("high", 0.9)])
def test_intensity_follows_severity(severity: str, intensity: float) -> None:
    env = envelope(KNOWLEDGE_QUESTION, {}, severity=severity, incident_id="i", trace="t-1")
    assert env["intensity"] == intensity
    assert env["trace"] == "t-1"
    assert isinstance(env["ts"], float) and env["ts"] > 1_600_000_000


def test_unknown_severity_and_bad_signal_are_refused() -> None:
    with pytest.raises(ValueError):
        envelope(INTEGRATION_QUESTION, {}, severity="critical", incident_id="i")
    for bad in ("curiosity", "curiosity.*", "curiosity.#", "", "curiosity..x"):
        with pytest.raises(ValueError):
            check_signal(bad)


def test_evidence_hash_is_order_independent_sha256_prefix() -> None:
    evidence = ["b.py:2", "a.py:10"]
    expected = hashlib.sha256(b"a.py:10|b.py:2").hexdigest()[:16]
    assert evidence_hash(evidence) == expected
    assert evidence_hash(list(reversed(evidence))) == expected
    assert len(expected) == 16


def test_every_question_signal_matches_curiosity_star() -> None:
    topic = TopicExchange(channel=None)
    one_word = topic.key_to_pattern("curiosity.*")
    signals = [INTEGRATION_QUESTION, CAPABILITY_QUESTION, KNOWLEDGE_QUESTION, EXPLORATION_QUESTION]
    for signal in [*signals, QUESTION_RESOLVED]:
        assert topic._match(one_word, signal), signal


def test_every_registered_hypothesis_goes_out_on_a_routable_question_signal() -> None:
    """A hypothesis whose signal were missing or malformed would make every file that opens one
    of its questions a dead letter: it must fail here instead."""
    topic = TopicExchange(channel=None)
    one_word = topic.key_to_pattern("curiosity.*")
    questions = {INTEGRATION_QUESTION, CAPABILITY_QUESTION, KNOWLEDGE_QUESTION, EXPLORATION_QUESTION}
    assert HYPOTHESES and {monitor for monitor, _ in HYPOTHESES} == {
        m for m in MONITORS if MONITORS[m].hypotheses
    }
    for (monitor, hypothesis), declared in HYPOTHESES.items():
        signal = signal_of(monitor, hypothesis)
        assert check_signal(signal) == declared.signal, (monitor, hypothesis)
        assert topic._match(one_word, signal) and signal in questions, (monitor, hypothesis, signal)
    assert {h.signal for h in HYPOTHESES.values()} == questions  # every monitor's signal is used
    with pytest.raises(KeyError):
        signal_of("integration", "NOPE")
