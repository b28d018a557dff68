"""ChemBus delivery through real processes: exactly the transitions that happened, in order,
at least once across a bus outage, and kept for a named subscriber that was away."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from kloros_site.analysis.messages import sha256
from kloros_site.analysis.models import Question, SourceFile, Transition
from tests.harness import Listener, eventually
from tests.tcp_relay import Relay

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def stored(root, name: str) -> bool:
    path = root / name
    return SourceFile.objects.filter(path=name, sha256=sha256(path.read_bytes())).exists()


def incident_ids(messages: list[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for message in messages:
        seen.setdefault(message["incident_id"])
    return list(seen)


def published_in_order() -> list[str]:
    return [str(i) for i in Transition.objects.order_by("id").values_list("incident_id", flat=True)]


def test_a_scripted_sequence_publishes_exactly_its_transitions(worker, start_watcher, listen, tmp_path):
    root = tmp_path / "src"
    root.mkdir()
    listener = listen("curiosity.#")
    start_watcher(root)

    (root / "p.py").write_text('ChemPub().emit("curiosity.s1")\n')
    orphan = eventually(lambda: Question.objects.open().filter(hypothesis="ORPHANED_QUEUE").first())
    (root / "u.py").write_text("x = 1\n")
    eventually(lambda: stored(root, "u.py"))
    before = Transition.objects.count()
    (root / "u.py").write_text("x = 2\n")  # an edit that changes no question
    eventually(lambda: stored(root, "u.py"))
    assert Transition.objects.count() == before
    (root / "p.py").write_text('\nChemPub().emit("curiosity.s1")\n')
    eventually(lambda: Question.objects.filter(qid=orphan.qid, evidence=["p.py:2"]).exists())
    (root / "c.py").write_text('ChemSub("curiosity.s1")\n')
    eventually(lambda: Question.objects.filter(qid=orphan.qid, status="resolved").exists())

    eventually(lambda: len(incident_ids(listener.messages)) == Transition.objects.count())
    kinds = [m["facts"]["transition"] for m in listener.messages if m["facts"]["question_id"] == orphan.qid]
    assert kinds == ["opened", "changed", "resolved"]
    assert incident_ids(listener.messages) == published_in_order()


def test_a_named_subscriber_gets_what_it_missed(worker, start_watcher, stack_env, tmp_path):
    name = f"test-core-{uuid.uuid4().hex[:8]}"
    root = tmp_path / "src"
    root.mkdir()
    first = Listener("curiosity.#", stack_env, name=name)  # registers the durable queue
    first.stop()
    start_watcher(root)
    (root / "p.py").write_text('ChemPub().emit("curiosity.away")\n')
    question = eventually(lambda: Question.objects.open().filter(hypothesis="ORPHANED_QUEUE").first())
    eventually(lambda: not Transition.objects.filter(published_at__isnull=True).exists())

    back = Listener("curiosity.#", stack_env, name=name)
    try:
        eventually(lambda: any(m["facts"]["question_id"] == question.qid for m in back.messages))
    finally:
        back.stop()
        back.delete_queue()


@pytest.mark.skipif(
    settings.CELERY_BROKER_URL.startswith("filesystem"),
    reason="the embedded bus is a folder: there is no connection to cut",
)
def test_transitions_wait_out_a_bus_outage_and_arrive_in_order(stack_env, private_stack):
    """The worker reaches ChemBus through a relay we cut mid-way; the outbox holds what it could not send."""
    parts = urlsplit(settings.CHEMBUS_URL)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 6379))
    stack = private_stack(
        "outage",
        KLR_CHEMBUS_URL=settings.CHEMBUS_URL.replace(f":{parts.port}", f":{relay.port}"),
        KLR_CHEMBUS_RETRY_SECONDS="0.5",
    )
    name = f"test-outage-{uuid.uuid4().hex[:8]}"
    listener = Listener("curiosity.#", stack_env, name=name)
    root = stack.root
    try:
        stack.start_worker()
        stack.start_watcher()
        (root / "a.py").write_text('ChemPub().emit("curiosity.o1")\n')
        eventually(lambda: len(listener.messages) >= 1, message="nothing arrived before the outage")

        relay.cut()
        (root / "b.py").write_text('ChemPub().emit("curiosity.o2")\nChemPub().emit("curiosity.o3")\n')
        (root / "c.py").write_text('ChemSub("curiosity.o1")\n')
        eventually(
            lambda: Transition.objects.filter(published_at__isnull=True, attempts__gt=0).exists(),
            message="no publish failed during the outage",
        )
        relay.start()

        eventually(
            lambda: not Transition.objects.filter(published_at__isnull=True).exists(),
            timeout=120,
            message="the outbox did not drain after the bus came back",
        )
        eventually(lambda: set(incident_ids(listener.messages)) == set(published_in_order()))
        assert incident_ids(listener.messages) == published_in_order()
    finally:
        stack.stop()
        relay.cut()
        listener.stop()
        listener.delete_queue()
