"""ChemSub: iterate over envelopes whose signal matches an AMQP topic pattern."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any, Self

from kombu import Connection, Consumer, Queue
from kombu.message import Message

from kloros_site.chembus.bus import ChemBusUnavailable, bus_exchange, connection

log = logging.getLogger(__name__)

PRIVATE_QUEUE_EXPIRES = 3600.0  # seconds


class ChemSub:
    """Subscribe to `pattern` (e.g. "curiosity.*" or "curiosity.#").

    With `name` the queue is durable and shared: messages published while no subscriber runs wait
    for it, and several subscribers with one name split the stream. Without `name` the queue is
    private and disappears with the subscriber.

    Iteration acks a message only when the loop body asks for the next one, so a body that raises
    leaves it unacked and the broker hands it out again (at-least-once). `get()` acks at once.
    """

    def __init__(
        self,
        pattern: str,
        *,
        url: str | None = None,
        transport_options: Mapping[str, Any] | None = None,
        name: str | None = None,
        exchange: str | None = None,
        prefetch: int = 10,
        reconnect_retries: int | None = None,
    ) -> None:
        self.pattern = pattern
        self.exchange = bus_exchange(exchange)
        self.queue = Queue(
            name or f"chembus-sub-{uuid.uuid4().hex}",
            exchange=self.exchange,
            routing_key=pattern,
            durable=bool(name),
            exclusive=not name,
            auto_delete=not name,
            # Only RabbitMQ honours auto_delete; on Redis a crashed private subscriber's binding would
            # collect every matching message forever. With an expiry kombu (5.7) sweeps it after an hour.
            expires=None if name else PRIVATE_QUEUE_EXPIRES,
        )
        self.private = not name
        self.reconnect_retries = reconnect_retries
        self._prefetch = prefetch
        self._pending: deque[Message] = deque()
        self._conn: Connection = connection(url, transport_options)
        self._consumer: Consumer | None = None
        try:
            self._start()
        except Exception as exc:
            self._conn.release()
            raise ChemBusUnavailable(f"ChemSub({pattern!r}) cannot reach the bus: {exc!r}") from exc

    def _start(self) -> None:
        channel = self._conn.default_channel
        self._consumer = Consumer(
            channel, [self.queue], on_message=self._pending.append, accept=["json"], auto_declare=True
        )
        self._consumer.qos(prefetch_count=self._prefetch)
        self._consumer.consume()

    def _reconnect(self, exc: BaseException) -> None:
        log.warning("ChemSub(%r) lost the bus (%r); reconnecting", self.pattern, exc)
        # Unacked messages of the dead channel are redelivered by the broker; drop our copies.
        self._pending.clear()
        self._conn.collect()
        self._conn.ensure_connection(max_retries=self.reconnect_retries, interval_start=0.5, interval_max=5)
        self._start()

    def _receive(self, timeout: float | None) -> Message | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._pending:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            try:
                # Wake at least every second so a stop request or deadline is noticed.
                self._conn.drain_events(timeout=1.0 if remaining is None else min(remaining, 1.0))
            except TimeoutError:  # socket.timeout is an alias
                continue
            except self._conn.recoverable_connection_errors as exc:
                self._reconnect(exc)
        return self._pending.popleft()

    @staticmethod
    def _ack(message: Message) -> None:
        try:
            message.ack()
        except Exception as exc:  # channel gone; the broker redelivers it
            log.warning("ChemSub ack failed (%r); message will be redelivered", exc)

    def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next envelope, acked; None if none arrived within `timeout` seconds."""
        message = self._receive(timeout)
        if message is None:
            return None
        self._ack(message)
        return message.decode()

    def iter(
        self,
        timeout: float | None = None,
        *,
        limit: int | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Envelopes until `timeout` seconds pass without one, `limit` are handled, or `stop` is set."""
        handled = 0
        idle_since = time.monotonic()
        while (limit is None or handled < limit) and not (stop is not None and stop.is_set()):
            wait = timeout
            if stop is not None:  # short waits, so a stop request is noticed promptly
                left = None if timeout is None else max(0.0, idle_since + timeout - time.monotonic())
                wait = 0.5 if left is None else min(0.5, left)
            message = self._receive(wait)
            if message is None:
                if timeout is not None and time.monotonic() - idle_since >= timeout:
                    return
                continue
            yield message.decode()
            self._ack(message)
            handled += 1
            idle_since = time.monotonic()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.iter()

    def close(self) -> None:
        try:
            if self._consumer is not None:
                self._consumer.cancel()
            if self.private:
                # kombu's Redis and filesystem transports ignore auto_delete for topic bindings.
                self.queue.bind(self._conn.default_channel).delete()
        except Exception as exc:  # closing a dead connection must not raise
            log.debug("ChemSub(%r): cancel/delete failed: %r", self.pattern, exc)
        self._consumer = None
        self._pending.clear()
        self._conn.release()

    def unsubscribe(self) -> None:
        """Delete this subscriber's queue and what waits in it: a named subscription ends for good."""
        self.queue.bind(self._conn.default_channel).delete()
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
