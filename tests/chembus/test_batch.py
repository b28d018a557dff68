"""Publishing a batch: routed like single publishes, the bindings read once per batch, not per message."""

from __future__ import annotations

import pytest
from kombu.transport import filesystem, redis

from kloros_site.chembus import INTEGRATION_QUESTION, KNOWLEDGE_QUESTION, ChemSub, Publisher, envelope
from tests.chembus.chembus_buses import Bus

WAIT = 5.0
QUIET = 1.0


def _env(signal: str, n: int) -> dict:
    return envelope(signal, {"n": n}, severity="medium", incident_id=f"inc-{n}")


def _got(sub: ChemSub, expect: int) -> list[int]:
    got = [env["facts"]["n"] for env in sub.iter(timeout=WAIT, limit=expect)]
    assert sub.get(timeout=QUIET) is None, "more than expected"
    return got


def _in_order(bus: Bus, got: list[int]) -> list[int]:
    # kombu's filesystem transport names files by millisecond plus a random uuid: no order within one
    return sorted(got) if bus.transport == "filesystem" else got


def test_a_batch_routes_like_single_publishes_in_order(bus: Bus) -> None:
    with (
        ChemSub("curiosity.*", **bus.kw) as every,
        ChemSub(KNOWLEDGE_QUESTION, **bus.kw) as knowledge,
        Publisher(bus.url, bus.transport_options, exchange=bus.exchange) as pub,
    ):
        signals = [INTEGRATION_QUESTION, KNOWLEDGE_QUESTION] * 10
        pub.publish_many((signal, _env(signal, n)) for n, signal in enumerate(signals))
        assert _in_order(bus, _got(every, 20)) == list(range(20))
        assert _in_order(bus, _got(knowledge, 10)) == list(range(1, 20, 2))


def test_a_subscriber_that_binds_after_a_batch_hears_the_next_one(bus: Bus) -> None:
    with (
        ChemSub("curiosity.*", **bus.kw) as early,
        Publisher(bus.url, bus.transport_options, exchange=bus.exchange) as pub,
    ):
        pub.publish_many((INTEGRATION_QUESTION, _env(INTEGRATION_QUESTION, n)) for n in range(5))
        with ChemSub("curiosity.*", **bus.kw) as late:
            pub.publish_many((INTEGRATION_QUESTION, _env(INTEGRATION_QUESTION, n)) for n in range(5, 10))
            assert _in_order(bus, _got(late, 5)) == list(range(5, 10))
        assert _in_order(bus, _got(early, 10)) == list(range(10))


@pytest.mark.parametrize("bus", ["filesystem", "redis"], indirect=True)
def test_a_batch_reads_the_bindings_once(bus: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    channel_class = {"filesystem": filesystem.Channel, "redis": redis.Channel}[bus.transport]
    reads: list[str] = []
    read = channel_class.get_table

    def counted(self: object, exchange: str) -> object:
        reads.append(exchange)
        return read(self, exchange)

    monkeypatch.setattr(channel_class, "get_table", counted)
    with (
        ChemSub("curiosity.*", **bus.kw) as sub,
        Publisher(bus.url, bus.transport_options, exchange=bus.exchange) as pub,
    ):
        reads.clear()
        pub.publish_many((INTEGRATION_QUESTION, _env(INTEGRATION_QUESTION, n)) for n in range(50))
        assert reads == [bus.exchange]
        pub.publish_many((INTEGRATION_QUESTION, _env(INTEGRATION_QUESTION, n)) for n in range(50, 60))
        assert reads == [bus.exchange] * 2  # a batch later, read again: a new binding is heard
        assert sorted(_got(sub, 60)) == list(range(60))


def test_a_batch_with_a_bad_signal_sends_nothing(bus: Bus) -> None:
    with (
        ChemSub("curiosity.*", **bus.kw) as sub,
        Publisher(bus.url, bus.transport_options, exchange=bus.exchange) as pub,
    ):
        with pytest.raises(ValueError):
            pub.publish_many([(INTEGRATION_QUESTION, _env(INTEGRATION_QUESTION, 1)), ("no such", {})])
        assert sub.get(timeout=QUIET) is None
