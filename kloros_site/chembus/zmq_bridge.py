"""Interop with the ZeroMQ ChemBus: an XSUB/XPUB forwarder, and a bridge from the kombu bus into it."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import zmq

from kloros_site.chembus.sub import ChemSub

log = logging.getLogger(__name__)

DEFAULT_XSUB = "tcp://127.0.0.1:5558"
DEFAULT_XPUB = "tcp://127.0.0.1:5559"
BRIDGE_QUEUE = "chembus-zmq-bridge"


def frames(envelope: Mapping[str, Any]) -> list[bytes]:
    """The ZeroMQ ChemBus wire format: topic frame (the signal), then the compact JSON envelope."""
    body = json.dumps(envelope, separators=(",", ":"), sort_keys=True)
    return [str(envelope["signal"]).encode(), body.encode()]


POLL_MS = 200


def run_proxy(
    xsub: str = DEFAULT_XSUB,
    xpub: str = DEFAULT_XPUB,
    stop: threading.Event | None = None,
    *,
    context: zmq.Context | None = None,
    ready: threading.Event | None = None,
) -> None:
    """Forward publishers (connected to `xsub`) to subscribers (connected to `xpub`) until `stop` is set.

    A poll loop rather than zmq.proxy: the C proxy can only be ended from another thread through
    a control socket, and that hand-off did not always land; polling notices `stop` within
    POLL_MS and costs nothing measurable while idle.
    """
    ctx = context or zmq.Context.instance()
    stop = stop or threading.Event()
    frontend, backend = ctx.socket(zmq.XSUB), ctx.socket(zmq.XPUB)
    try:
        frontend.bind(xsub)
        backend.bind(xpub)
        poller = zmq.Poller()
        poller.register(frontend, zmq.POLLIN)
        poller.register(backend, zmq.POLLIN)  # subscriptions travel upstream, XPUB -> XSUB
        if ready is not None:
            ready.set()
        while not stop.is_set():
            for sock, _ in poller.poll(POLL_MS):
                other = backend if sock is frontend else frontend
                other.send_multipart(sock.recv_multipart())
    finally:
        for sock in (frontend, backend):
            sock.close(linger=0)


def run_bridge(
    pattern: str = "curiosity.#",
    xsub: str | None = None,
    stop: threading.Event | None = None,
    *,
    url: str | None = None,
    transport_options: Mapping[str, Any] | None = None,
    exchange: str | None = None,
    queue_name: str = BRIDGE_QUEUE,
    context: zmq.Context | None = None,
    on_forward: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """Move envelopes matching `pattern` from the kombu bus to a PUB socket connected to `xsub`.

    Returns how many were forwarded once `stop` is set. ZeroMQ PUB drops what no subscriber has asked
    for yet, so the durable queue protects against bridge downtime, not against absent ZMQ subscribers.
    """
    ctx = context or zmq.Context.instance()
    stop = stop or threading.Event()
    pub = ctx.socket(zmq.PUB)
    forwarded = 0
    try:
        pub.connect(xsub or DEFAULT_XSUB)
        with ChemSub(
            pattern, url=url, transport_options=transport_options, name=queue_name, exchange=exchange
        ) as sub:
            for env in sub.iter(stop=stop):
                if "signal" not in env:
                    log.warning("ChemBus bridge: dropping envelope without a signal: %.200r", env)
                    continue
                pub.send_multipart(frames(env))
                forwarded += 1
                if on_forward is not None:
                    on_forward(env)
    finally:
        pub.close(linger=1000)
    return forwarded
