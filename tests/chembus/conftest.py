"""Real brokers only: a test that cannot reach one fails, it never skips."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Plain `pytest` puts only this folder on sys.path; the package lives at the repository root.
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from kombu import Connection  # noqa: E402

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
    except Exception as exc:  # noqa: BLE001 - turned into a loud failure below
        pytest.fail(f"broker at {url} is unreachable ({exc!r}); these tests need the real broker")
    finally:
        conn.release()


def _cleanup(bus: Bus) -> None:
    from kloros_site.chembus import connection

    conn = connection(bus.url, bus.transport_options)
    try:
        channel = conn.default_channel
        for name in bus.queues:
            # Redis keeps bindings of a durable queue forever; leftover tables would grow per run.
            channel.queue_delete(name)
        if bus.transport == "amqp":
            channel.exchange_delete(bus.exchange)
    finally:
        conn.release()


@pytest.fixture(params=TRANSPORTS)
def bus(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bus]:
    transport = request.param
    options: dict[str, Any] = {}
    if transport == "filesystem":
        url = "filesystem://"
        folder = str(tmp_path / "bus" / "data")
        # Deliberately missing: connection() must create them.
        options = {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "control_folder": str(tmp_path / "bus" / "control"),
        }
    else:
        url = REDIS_URL if transport == "redis" else AMQP_URL
        _reachable(url)
    bus = Bus(transport, url, options, exchange=f"test-chembus-{uuid.uuid4().hex[:12]}")
    yield bus
    _cleanup(bus)
