"""Interop with a ZeroMQ ChemBus: `chembus proxy` and `chembus bridge` as real processes, read by a
plain pyzmq SUB socket that knows nothing of this project."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import zmq
from django.conf import settings

from kloros_site.chembus import ChemSub, envelope, publish
from tests.harness import REPO, Proc, attach, free_port, manage

pytestmark = pytest.mark.e2e


def test_bus_messages_reach_a_plain_zmq_subscriber(request, stack_env, tmp_path):
    xsub, xpub = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    env = {**stack_env, "KLR_CHEM_XSUB": xsub}
    proxy = Proc("zmq-proxy", manage("chembus", "proxy", "--xsub", xsub, "--xpub", xpub), env, tmp_path, REPO)
    attach(request.node, proxy)
    name = f"test-bridge-{uuid.uuid4().hex[:8]}"
    bridge = Proc(
        "zmq-bridge", manage("chembus", "bridge", "curiosity.#", "--name", name), env, tmp_path, REPO
    )
    attach(request.node, bridge)
    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    sub.connect(xpub)
    sub.setsockopt(zmq.SUBSCRIBE, b"curiosity.")
    try:
        proxy.wait_for("chembus proxy")
        bridge.wait_for("chembus bridge")
        sent = envelope(
            "curiosity.integration_question",
            {"question_id": "q1", "hypothesis": "ORPHANED_QUEUE"},
            severity="medium",
            incident_id="zmq-test",
        )
        frames = None
        deadline = time.monotonic() + 60
        # PUB/SUB drops whatever is sent before a subscription has propagated: keep sending
        while frames is None and time.monotonic() < deadline:
            publish(
                settings.CHEMBUS_URL,
                "curiosity.integration_question",
                sent,
                transport_options=settings.CHEMBUS_TRANSPORT_OPTIONS,
                exchange=settings.CHEMBUS_EXCHANGE,
            )
            if sub.poll(500):
                frames = sub.recv_multipart()
        assert frames, f"nothing reached the SUB socket\n{bridge.output()}"
        topic, body = frames
        assert topic == b"curiosity.integration_question"
        received = json.loads(body)
        assert received["incident_id"] == "zmq-test" and received["facts"]["question_id"] == "q1"
        assert b" " not in body  # compact JSON, as the ZeroMQ ChemBus sends it
    finally:
        sub.close(linger=0)
        context.term()
        bridge.stop()
        proxy.stop()
        ChemSub("curiosity.#", name=name).unsubscribe()
