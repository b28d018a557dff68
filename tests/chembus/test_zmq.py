"""Bridge to the ZeroMQ ChemBus: a plain pyzmq subscriber that knows nothing of this project gets frames."""

from __future__ import annotations

import json
import socket
import threading
import uuid

import zmq

from kloros_site.chembus import INTEGRATION_QUESTION, Publisher, envelope
from kloros_site.chembus.zmq_bridge import run_bridge, run_proxy
from tests.chembus.chembus_buses import Bus


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_bridge_forwards_topic_and_compact_json(bus: Bus) -> None:
    xsub, xpub = f"tcp://127.0.0.1:{_free_port()}", f"tcp://127.0.0.1:{_free_port()}"
    stop, ready = threading.Event(), threading.Event()
    queue = bus.queue_name()
    # daemon threads: if stopping them fails, the test fails instead of hanging the whole run
    proxy = threading.Thread(target=run_proxy, args=(xsub, xpub, stop), kwargs={"ready": ready}, daemon=True)
    bridge = threading.Thread(
        target=run_bridge,
        args=("curiosity.#", xsub, stop),
        kwargs={**bus.kw, "queue_name": queue},
        daemon=True,
    )
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    received: list[list[bytes]] = []
    try:
        proxy.start()
        assert ready.wait(10), "proxy did not bind"
        bridge.start()
        sub.connect(xpub)
        sub.setsockopt(zmq.SUBSCRIBE, b"curiosity.")
        marker = uuid.uuid4().hex
        with Publisher(bus.url, bus.transport_options, exchange=bus.exchange) as pub:
            # PUB drops everything until the subscription has travelled SUB -> XPUB -> XSUB -> PUB.
            for n in range(60):
                env = envelope(
                    INTEGRATION_QUESTION, {"n": n, "marker": marker}, severity="low", incident_id="i"
                )
                pub.publish(INTEGRATION_QUESTION, env)
                if sub.poll(500):
                    received.append(sub.recv_multipart())
                    break
    finally:
        stop.set()
        proxy.join(10)
        bridge.join(10)
        sub.close(linger=0)
        ctx.term()
    assert not proxy.is_alive() and not bridge.is_alive(), "stop event did not end proxy and bridge"
    assert received, "no frames reached the plain ZeroMQ subscriber"
    topic, body = received[0]
    assert topic == INTEGRATION_QUESTION.encode()
    assert b", " not in body and b": " not in body  # compact separators
    decoded = json.loads(body)
    assert decoded["signal"] == INTEGRATION_QUESTION
    assert decoded["facts"]["marker"] == marker
    assert decoded["schema_version"] == 1
