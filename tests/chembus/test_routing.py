"""Topic routing and delivery guarantees, the same on RabbitMQ and kombu's emulations (Redis, files)."""

from __future__ import annotations

import pytest

from kloros_site.chembus import (
    INTEGRATION_QUESTION,
    KNOWLEDGE_QUESTION,
    QUESTION_RESOLVED,
    ChemSub,
    Publisher,
    envelope,
)
from tests.chembus.chembus_buses import Bus

WAIT = 5.0  # seconds without a message before a receive loop gives up
QUIET = 1.0  # seconds of silence that count as "nothing more is coming"


def _env(signal: str, n: int) -> dict:
    return envelope(signal, {"n": n}, severity="medium", incident_id=f"inc-{n}")


def _drain(sub: ChemSub, expect: int) -> list[tuple[str, int]]:
    """The `expect` messages, then proof that no more follow."""
    got = [(env["signal"], env["facts"]["n"]) for env in sub.iter(timeout=WAIT, limit=expect)]
    extra = sub.get(timeout=QUIET)
    assert extra is None, f"unexpected extra message {extra}"
    # Sorted: kombu's filesystem transport names files by millisecond plus a random uuid, so
    # messages published within one millisecond come out in random order.
    return sorted(got)


def test_wildcards_route_like_amqp(bus: Bus) -> None:
    with (
        ChemSub("curiosity.*", **bus.kw) as one_word,
        ChemSub("curiosity.#", **bus.kw) as any_words,
        ChemSub(INTEGRATION_QUESTION, **bus.kw) as exact,
        ChemSub("ops.*", **bus.kw) as other,
        Publisher(bus.url, bus.transport_options, exchange=bus.exchange) as pub,
    ):
        sent = [
            (INTEGRATION_QUESTION, 1),
            (QUESTION_RESOLVED, 2),
            ("curiosity.deep.signal", 3),
            ("ops.restart", 4),
            (KNOWLEDGE_QUESTION, 5),
        ]
        for signal, n in sent:
            pub.publish(signal, _env(signal, n))

        assert _drain(one_word, 3) == sorted(
            [(INTEGRATION_QUESTION, 1), (QUESTION_RESOLVED, 2), (KNOWLEDGE_QUESTION, 5)]
        )
        assert _drain(any_words, 4) == sorted(s for s in sent if s[0].startswith("curiosity."))
        assert _drain(exact, 1) == [(INTEGRATION_QUESTION, 1)]
        assert _drain(other, 1) == [("ops.restart", 4)]


def test_non_matching_pattern_gets_nothing(bus: Bus) -> None:
    with ChemSub("knowledge.#", **bus.kw) as sub:
        with Publisher(bus.url, bus.transport_options, exchange=bus.exchange) as pub:
            pub.publish(INTEGRATION_QUESTION, _env(INTEGRATION_QUESTION, 1))
        assert sub.get(timeout=QUIET) is None


def test_durable_named_subscriber_gets_what_was_published_while_it_was_away(bus: Bus) -> None:
    name = bus.queue_name()
    with ChemSub("curiosity.*", name=name, **bus.kw) as sub:
        assert sub.get(timeout=0.5) is None  # exists now; nothing yet

    with Publisher(bus.url, bus.transport_options, exchange=bus.exchange) as pub:
        for n in range(3):
            pub.publish(INTEGRATION_QUESTION, _env(INTEGRATION_QUESTION, n))

    with ChemSub("curiosity.*", name=name, **bus.kw) as sub:
        assert _drain(sub, 3) == [(INTEGRATION_QUESTION, n) for n in range(3)]


def test_a_private_subscriber_leaves_nothing_behind(bus: Bus) -> None:
    with ChemSub("curiosity.*", **bus.kw) as sub:
        queue = sub.queue.name
    with Publisher(bus.url, bus.transport_options, exchange=bus.exchange) as pub:
        pub.publish(INTEGRATION_QUESTION, _env(INTEGRATION_QUESTION, 1))
    from kloros_site.chembus import connection

    with connection(bus.url, bus.transport_options) as conn:
        channel = conn.default_channel
        if bus.transport == "amqp":
            with pytest.raises(conn.channel_errors):
                channel.queue_declare(queue, passive=True)
        else:
            assert channel._size(queue) == 0  # the binding went with the subscriber
            assert all(q != queue for _, _, q in channel.get_table(bus.exchange))


def test_a_body_that_raises_leaves_the_message_for_the_next_subscriber(bus: Bus) -> None:
    name = bus.queue_name()
    with (
        ChemSub("curiosity.#", name=name, **bus.kw) as sub,
        Publisher(bus.url, bus.transport_options, exchange=bus.exchange) as pub,
    ):
        pub.publish(INTEGRATION_QUESTION, _env(INTEGRATION_QUESTION, 1))
        assert [env["facts"]["n"] for env in sub.iter(timeout=WAIT, limit=1)] == [1]
        pub.publish(INTEGRATION_QUESTION, _env(INTEGRATION_QUESTION, 2))
        with pytest.raises(RuntimeError):
            for _ in sub.iter(timeout=WAIT):
                raise RuntimeError("consumer crashed mid-message")

    with ChemSub("curiosity.#", name=name, **bus.kw) as sub:
        assert _drain(sub, 1) == [(INTEGRATION_QUESTION, 2)]


def test_limit_acks_every_message_it_yields(bus: Bus) -> None:
    name = bus.queue_name()
    with ChemSub("curiosity.#", name=name, **bus.kw) as sub:
        with Publisher(bus.url, bus.transport_options, exchange=bus.exchange) as pub:
            for n in range(3):
                pub.publish(INTEGRATION_QUESTION, _env(INTEGRATION_QUESTION, n))
        first = {env["facts"]["n"] for env in sub.iter(timeout=WAIT, limit=2)}
        assert len(first) == 2

    with ChemSub("curiosity.#", name=name, **bus.kw) as sub:
        rest = {n for _, n in _drain(sub, 1)}
    assert first | rest == {0, 1, 2}
