"""Connections and publishing on the ChemBus topic exchange."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any, Self

from kombu import Connection, Exchange, Producer
from kombu.exceptions import EncodeError, OperationalError

from kloros_site.chembus.config import (
    ChemBusError,
    resolve_exchange,
    resolve_transport_options,
    resolve_url,
)
from kloros_site.chembus.signals import check_signal

log = logging.getLogger(__name__)

_FOLDER_KEYS = ("data_folder_in", "data_folder_out", "control_folder")


class ChemBusUnavailable(ChemBusError, OperationalError):
    """The broker could not take the message within the bounded retry; the caller keeps it and retries."""


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].split("+", 1)[0].lower()


def _prepare_filesystem(opts: dict[str, Any]) -> None:
    # Publisher and subscriber must see the same files, so "in" and "out" are one folder; relative
    # paths would silently split processes with different working directories into separate buses.
    opts.setdefault("data_folder_out", opts.get("data_folder_in"))
    opts.setdefault("data_folder_in", opts.get("data_folder_out"))
    if opts["data_folder_in"] is None or "control_folder" not in opts:
        raise ChemBusError("filesystem:// needs transport options data_folder_in/out and control_folder")
    if os.path.abspath(opts["data_folder_in"]) != os.path.abspath(opts["data_folder_out"]):
        raise ChemBusError("filesystem:// needs data_folder_in and data_folder_out to be the same folder")
    keys = _FOLDER_KEYS + (("processed_folder",) if opts.get("store_processed") else ())
    for key in keys:
        folder = str(opts[key])
        if not os.path.isabs(folder):
            raise ChemBusError(f"filesystem:// option {key} must be an absolute path, not {folder!r}")
        os.makedirs(folder, exist_ok=True)
    # kombu polls the folder once a second by default: too slow for a bus that feeds a live consumer.
    opts.setdefault("polling_interval", 0.2)


def connection(
    url: str | None = None,
    transport_options: Mapping[str, Any] | None = None,
    *,
    connect_timeout: float = 5.0,
    max_retries: int | None = 2,
) -> Connection:
    """A kombu Connection to the bus (not yet connected).

    max_retries bounds kombu's implicit reconnects (its default retries forever when the broker is down).
    """
    url = resolve_url(url)
    opts = resolve_transport_options(transport_options)
    scheme = _scheme(url)
    if scheme == "filesystem":
        _prepare_filesystem(opts)
    if scheme in ("amqp", "amqps", "pyamqp"):
        # Without confirms a publish the broker refuses is dropped silently.
        opts.setdefault("confirm_publish", True)
    if max_retries is not None:
        opts.setdefault("max_retries", max_retries)
    return Connection(url, transport_options=opts, connect_timeout=connect_timeout)


def bus_exchange(name: str | None = None) -> Exchange:
    return Exchange(resolve_exchange(name), type="topic", durable=True, delivery_mode="persistent")


class Publisher:
    """One open connection and producer for many publishes (the outbox relay's long-lived worker).

    After a broker restart the next publish reconnects; if that fails within the bounded retry it
    raises ChemBusUnavailable and the following publish tries again.
    """

    def __init__(
        self,
        bus: Connection | str | None = None,
        transport_options: Mapping[str, Any] | None = None,
        *,
        exchange: str | None = None,
        max_retries: int = 2,
        interval_start: float = 0.0,
        interval_step: float = 0.5,
        interval_max: float = 1.0,
        confirm_timeout: float = 10.0,
    ) -> None:
        self._owned = not isinstance(bus, Connection)
        self.conn = (
            bus
            if isinstance(bus, Connection)
            else connection(bus, transport_options, max_retries=max_retries)
        )
        self.exchange = bus_exchange(exchange)
        self.retry_policy = {
            "max_retries": max_retries,
            "interval_start": interval_start,
            "interval_step": interval_step,
            "interval_max": interval_max,
        }
        self.confirm_timeout = confirm_timeout
        self._producer: Producer | None = None

    def publish(self, signal: str, envelope: Mapping[str, Any]) -> None:
        self.publish_many([(signal, envelope)])

    def publish_many(self, messages: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Publish envelopes in order as one batch: all of them, or raise ChemBusUnavailable (some
        may have gone out then: the outbox publishes them again, at least once).

        kombu's emulated exchanges (Redis, files) look the exchange's bindings up on every
        publish: on Redis one SMEMBERS round trip per message, then one LPUSH per bound queue. A
        batch reads the bindings once and, on Redis, sends its pushes in one pipeline. So a
        subscriber that binds while a batch goes out hears from the next batch on, as if it had
        bound just after this one: callers keep batches small (the outbox relay: 500 messages).
        """
        batch = [(signal, dict(envelope)) for signal, envelope in messages]
        for signal, env in batch:
            check_signal(signal)
            if env.get("signal", signal) != signal:
                raise ValueError(
                    f"envelope signal {env.get('signal')!r} differs from routing signal {signal!r}"
                )
        if not batch:
            return
        signal = batch[0][0]
        try:
            if self._producer is None:
                self._producer = Producer(self.conn, exchange=self.exchange, serializer="json")
            producer = self._producer
            # one message goes out at once: a pipeline of one is one more object for nothing
            pipelined = producer.batch(max_size=len(batch)) if len(batch) > 1 else nullcontext()
            with _bindings_read_once(producer.channel), pipelined:
                for signal, env in batch:
                    producer.publish(
                        env,
                        exchange=self.exchange,
                        routing_key=signal,
                        serializer="json",
                        delivery_mode="persistent",
                        declare=[self.exchange],
                        retry=True,
                        retry_policy=self.retry_policy,
                        timeout=self.confirm_timeout,
                    )
        except (ChemBusError, EncodeError):
            raise  # an envelope json cannot encode is a bug, not an outage
        except Exception as exc:
            # Nacks and channel errors land here too: for the outbox they all mean "keep it, try later".
            self._reset()
            raise ChemBusUnavailable(f"ChemBus publish of {signal!r} failed: {exc!r}") from exc

    def _reset(self) -> None:
        # A half-dead channel can make the next publish fail again; start from a clean connection.
        self._producer = None
        if not self._owned:
            return
        try:
            self.conn.collect()
        except Exception as exc:  # discarding a broken connection must not raise
            log.debug("ChemBus publisher: collect failed: %r", exc)

    def close(self) -> None:
        self._producer = None
        if self._owned:
            self.conn.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _bindings_read_once(channel: Any) -> Iterator[None]:
    """Within the block, a virtual channel reads each exchange's bindings from the broker once.

    The channel's own `get_table` is shadowed by a memo on the instance and unshadowed after, so
    the next block reads them again. AMQP channels route on the broker: nothing to do.
    """
    read = getattr(channel, "get_table", None)
    if read is None or "get_table" in vars(channel):
        yield
        return
    tables: dict[str, Any] = {}

    def memo(exchange: str) -> Any:
        if exchange not in tables:
            tables[exchange] = read(exchange)
        return tables[exchange]

    channel.get_table = memo
    try:
        yield
    finally:
        del channel.get_table


def publish(
    bus: Connection | str | None,
    signal: str,
    envelope: Mapping[str, Any],
    *,
    transport_options: Mapping[str, Any] | None = None,
    exchange: str | None = None,
    max_retries: int = 2,
) -> None:
    """Publish one envelope; raises ChemBusUnavailable (an OperationalError) after a bounded retry."""
    with Publisher(bus, transport_options, exchange=exchange, max_retries=max_retries) as publisher:
        publisher.publish(signal, envelope)
