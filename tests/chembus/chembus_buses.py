"""Isolated buses on the real brokers. Not in conftest.py: tests/conftest.py owns the name `conftest`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from kombu import Connection

REDIS_URL = "redis://127.0.0.1:6379/0"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
TRANSPORTS = ("filesystem", "redis", "amqp")


@dataclass
class Bus:
    """One isolated bus: a unique exchange, plus the durable queues a test created (deleted afterwards)."""

    transport: str
    url: str
    transport_options: dict[str, Any]
    exchange: str
    queues: list[str] = field(default_factory=list)

    @property
    def kw(self) -> dict[str, Any]:
        return {"url": self.url, "transport_options": self.transport_options, "exchange": self.exchange}

    def queue_name(self) -> str:
        name = f"test-chembus-{uuid.uuid4().hex[:12]}"
        self.queues.append(name)
        return name


def _reachable(url: str) -> None:
    conn = Connection(url, connect_timeout=5)
    try:
        conn.ensure_connection(max_retries=1)
    except Exception as exc:  # turned into a loud failure below
        pytest.fail(f"broker at {url} is unreachable ({exc!r}); these tests need the real broker")
    finally:
        conn.release()


def _cleanup(bus: Bus) -> None:
    from kombu import Queue

    from kloros_site.chembus import bus_exchange, connection

    conn = connection(bus.url, bus.transport_options)
    try:
        channel = conn.default_channel
        if bus.transport == "amqp":
            for name in bus.queues:
                channel.queue_delete(name)
            channel.exchange_delete(bus.exchange)
            return
        # On kombu's virtual transports queue_delete only drops bindings this channel declared, so
        # re-declare each binding of the test exchange before deleting; otherwise Redis keeps them.
        exchange = bus_exchange(bus.exchange)
        for routing_key, _pattern, queue in channel.get_table(bus.exchange):
            bound = Queue(queue, exchange=exchange, routing_key=routing_key).bind(channel)
            bound.declare()
            bound.delete()
    finally:
        conn.release()
