"""An unreachable broker makes publish raise after a bounded retry, so the outbox keeps the message."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from kombu.exceptions import OperationalError

from kloros_site.chembus import ChemBusError, ChemBusUnavailable, ChemSub, Publisher, connection, publish

UNREACHABLE = ["redis://127.0.0.1:1/0", "amqp://guest:guest@127.0.0.1:1//"]


@pytest.mark.parametrize("url", UNREACHABLE)
def test_publish_to_an_unreachable_broker_raises(url: str) -> None:
    with pytest.raises(ChemBusUnavailable) as info:
        publish(url, "curiosity.integration_question", {"x": 1}, max_retries=1)
    assert isinstance(info.value, OperationalError)


@pytest.mark.parametrize("url", UNREACHABLE)
def test_subscribing_to_an_unreachable_broker_raises(url: str) -> None:
    with pytest.raises(ChemBusUnavailable):
        ChemSub("curiosity.*", url=url)


class _SlamServer:
    """Accepts TCP connections and closes them at once, counting them: a broker that is up but broken."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
@pytest.mark.parametrize("max_retries", [0, 2])
def test_retry_is_bounded(scheme: str, max_retries: int) -> None:
    server = _SlamServer()
    url = (
        f"redis://127.0.0.1:{server.port}/0" if scheme == "redis" else f"amqp://g:g@127.0.0.1:{server.port}//"
    )
    try:
        with (
            Publisher(url, max_retries=max_retries, interval_step=0.1) as pub,
            pytest.raises(ChemBusUnavailable),
        ):
            pub.publish("curiosity.integration_question", {"x": 1})
    finally:
        server.close()
    # Each attempt may open a couple of sockets (redis-py retries once on its own), never unbounded.
    assert 1 <= server.accepted <= 3 * (max_retries + 1)


def test_missing_configuration_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    from kloros_site.chembus import config

    monkeypatch.delenv("KLR_CHEMBUS_URL", raising=False)
    # Importing kloros_site configures the site's Django settings; stand in for a process without them.
    monkeypatch.setattr(config, "_django_setting", lambda name: None)
    with pytest.raises(ChemBusError, match="KLR_CHEMBUS_URL"):
        connection()


def test_filesystem_needs_absolute_shared_folders(tmp_path: Path) -> None:
    with pytest.raises(ChemBusError, match="absolute"):
        connection("filesystem://", {"data_folder_in": "rel", "control_folder": str(tmp_path)})
    with pytest.raises(ChemBusError, match="same folder"):
        connection(
            "filesystem://",
            {
                "data_folder_in": str(tmp_path / "a"),
                "data_folder_out": str(tmp_path / "b"),
                "control_folder": "/x",
            },
        )
    conn = connection(
        "filesystem://", {"data_folder_in": str(tmp_path / "d"), "control_folder": str(tmp_path / "c")}
    )
    assert (tmp_path / "d").is_dir() and (tmp_path / "c").is_dir()
    assert conn.transport_options["data_folder_out"] == str(tmp_path / "d")
