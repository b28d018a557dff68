"""A long-lived Publisher survives a broker restart, simulated by a TCP relay we can cut and restore."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid

import pytest
from chembus_buses import AMQP_URL, REDIS_URL, Bus, _cleanup, _reachable

from kloros_site.chembus import ChemBusUnavailable, ChemSub, Publisher, envelope

SIGNAL = "curiosity.integration_question"


class Relay:
    """Forwards a local port to the broker; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self.start()

    def start(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, args=(self._server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        assert self._server is not None
        # close() alone leaves a thread blocked in accept() listening; shutdown() wakes it.
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        for sock in self._conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._conns.clear()


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
