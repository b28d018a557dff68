"""The outbox relay publishes a batch at a time, in order, and marks what went out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from kloros_site.analysis import evaluation, relay
from kloros_site.analysis.models import Transition, Tree
from kloros_site.analysis.question_rows import Outbound
from kloros_site.chembus import ChemBusUnavailable
from tests.kloros_site.analysis.test_evaluation import extract

pytestmark = pytest.mark.django_db


class Bus:
    """Publisher.publish_many's contract: a batch goes out whole or raises."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on_call = fail_on_call
        # one question opened per transition here: its incident names the transition
        self.ids = {t.envelope["incident_id"]: t.pk for t in Transition.objects.all()}

    def publish_many(self, messages: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        batch = [self.ids[envelope["incident_id"]] for _, envelope in messages]
        if len(self.batches) + 1 == self.fail_on_call:
            self.fail_on_call = None
            raise ChemBusUnavailable("broker away")
        self.batches.append(batch)


@pytest.fixture
def transitions() -> list[int]:
    # seven channels nobody consumes: seven questions opened, seven outbox rows
    extract("p.py", "".join(f'ChemPub().emit("ch.{n}")\n' for n in range(7)))
    evaluation.evaluate_tree(Tree.objects.get().pk)  # on_commit never runs in a test's transaction
    return list(Transition.objects.order_by("id").values_list("id", flat=True))


def outbound(ids: list[int]) -> list[Outbound]:
    """What the evaluation that wrote these rows hands the relay after its commit."""
    return [Outbound(t.pk, t.signal, t.envelope) for t in Transition.objects.filter(pk__in=ids)]


def published() -> list[int]:
    return list(
        Transition.objects.filter(published_at__isnull=False).order_by("id").values_list("id", flat=True)
    )


def test_a_failed_batch_stops_the_relay_and_keeps_the_batches_before_it_published(monkeypatch, transitions):
    assert len(transitions) == 7
    monkeypatch.setattr(relay, "BATCH", 3)
    bus = Bus(fail_on_call=2)
    monkeypatch.setattr(relay, "_publisher", bus)
    assert relay.publish_new(outbound(transitions)) is False
    assert bus.batches == [transitions[:3]]
    assert published() == transitions[:3]
    failed = Transition.objects.get(pk=transitions[3])
    assert failed.attempts == 1 and "broker away" in failed.last_error
    assert relay.publish_backlog() is True  # the rest, oldest first, a batch at a time
    assert bus.batches == [transitions[:3], transitions[3:6], transitions[6:]]
    assert published() == transitions


def test_rounds_committed_alongside_put_each_row_on_the_bus_once(monkeypatch, transitions):
    bus = Bus()
    monkeypatch.setattr(relay, "_publisher", bus)
    older, newer = transitions[:3], transitions[3:]
    # two rounds of one evaluation, committed in two processes: the newer round's publisher
    # finds the older round's rows unpublished and drains them, in order
    relay.publish_committed(outbound(newer), alongside=True)
    relay.publish_committed(outbound(older), alongside=True)
    assert [pk for batch in bus.batches for pk in batch] == transitions
    assert published() == transitions
