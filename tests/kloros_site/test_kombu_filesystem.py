"""The embedded broker's transport: readers in another process never see half a message."""

from __future__ import annotations

import multiprocessing
import os

from kombu import Connection, Exchange, Queue

import kloros_site  # noqa: F401  (installs the transport)

COUNT = 1500


def options(folder) -> dict:
    return {"data_folder_in": str(folder), "data_folder_out": str(folder), "polling_interval": 0.001}


def produce(folder: str) -> None:
    with Connection("filesystem://localhost/", transport_options=options(folder)) as conn:
        producer = conn.Producer(serializer="json")
        for i in range(COUNT):
            producer.publish(
                {"i": i, "pad": "x" * 20_000}, routing_key="q", exchange="", declare=[Queue("q")]
            )


def test_filesystem_urls_use_the_atomic_transport(tmp_path):
    with Connection("filesystem://localhost/", transport_options=options(tmp_path)) as conn:
        assert type(conn.transport).__module__ == "kloros_site.kombu_filesystem"


def test_a_reader_racing_a_writer_gets_every_message_whole(tmp_path):
    queue = Queue("q", Exchange(""), routing_key="q")
    writer = multiprocessing.get_context("fork").Process(target=produce, args=(str(tmp_path),))
    received, errors = [], []
    with Connection("filesystem://localhost/", transport_options=options(tmp_path)) as conn:
        simple = conn.SimpleQueue(queue)
        writer.start()
        while len(received) + len(errors) < COUNT:
            try:
                message = simple.get(timeout=30)
            except simple.Empty:
                break
            try:
                received.append(message.decode()["i"])
            except Exception as exc:  # a half-written file decodes as garbage
                errors.append(exc)
            message.ack()
        writer.join()
    assert not errors, f"{len(errors)} half-written messages, first: {errors[0]!r}"
    assert sorted(received) == list(range(COUNT))
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".partial")]
