"""A long-lived Publisher survives a broker restart, simulated by a TCP relay we can cut and restore."""

from __future__ import annotations

import uuid

import pytest

from kloros_site.chembus import ChemBusUnavailable, ChemSub, Publisher, envelope
from tests.chembus.chembus_buses import AMQP_URL, REDIS_URL, Bus, _cleanup, _reachable
from tests.tcp_relay import Relay

SIGNAL = "curiosity.integration_question"


@pytest.mark.parametrize("url", [REDIS_URL, AMQP_URL])
def test_publisher_reconnects_after_a_broker_restart(url: str) -> None:
    _reachable(url)
    host_port = url.split("@")[-1].split("/")[0] if "@" in url else url.split("//")[1].split("/")[0]
    host, port = host_port.rsplit(":", 1)
    relay = Relay((host, int(port)))
    relayed = url.replace(f":{port}", f":{relay.port}")
    exchange = f"test-chembus-{uuid.uuid4().hex[:12]}"
    env = envelope(SIGNAL, {}, severity="low", incident_id="i")
    with (
        ChemSub("curiosity.*", url=url, exchange=exchange) as sub,
        Publisher(relayed, exchange=exchange) as pub,
    ):
        pub.publish(SIGNAL, {**env, "facts": {"n": 1}})
        relay.cut()
        with pytest.raises(ChemBusUnavailable):
            pub.publish(SIGNAL, {**env, "facts": {"n": 2}})  # broker down: the outbox keeps this one
        relay.start()  # same port: the broker is back
        pub.publish(SIGNAL, {**env, "facts": {"n": 3}})
        got = [e["facts"]["n"] for e in sub.iter(timeout=5, limit=2)]
    relay.cut()
    _cleanup(Bus("amqp" if url.startswith("amqp") else "redis", url, {}, exchange))
    assert got == [1, 3]
