"""Real brokers only: a test that cannot reach one fails, it never skips."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chembus.chembus_buses import AMQP_URL, REDIS_URL, TRANSPORTS, Bus, _cleanup, _reachable


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
