"""The outbox relay: moves Transition rows onto ChemBus, in order, at least once.

The process that commits a transition publishes it right after the commit. Whatever could
not be published (broker down) stays in the table and a retry loop, started on the first
failure and at worker start, drains it in id order with backoff. Idle, the loop blocks on
an event: no polling.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from itertools import islice

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F
from django.utils import timezone

from kloros_site.analysis.models import Transition
from kloros_site.analysis.question_rows import Outbound
from kloros_site.chembus import Publisher

log = logging.getLogger(__name__)
MAX_BACKOFF = 60.0
BATCH = 500
PUBLISH_LOCK = 7405  # store.py's are 7402 and 7404, pending.py's 7403

_publisher: Publisher | None = None
_publisher_lock = threading.RLock()


def publisher() -> Publisher:
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            _publisher = Publisher(
                settings.CHEMBUS_URL, settings.CHEMBUS_TRANSPORT_OPTIONS, exchange=settings.CHEMBUS_EXCHANGE
            )
        return _publisher


def publish(transitions: Iterable[Transition | Outbound]) -> bool:
    """Publish in the given order, BATCH at a time, stopping at the first batch that fails; True
    when all went out.

    Each batch is marked published in one update after it went out: a crash in between
    publishes it again, which at-least-once allows and `incident_id` lets consumers deduplicate.
    A batch reads the bus's bindings once (Publisher.publish_many): a subscriber that binds
    meanwhile hears from the next batch on.
    """
    with _publisher_lock:
        rest = iter(transitions)
        while batch := list(islice(rest, BATCH)):
            try:
                publisher().publish_many((t.signal, t.envelope) for t in batch)
            except Exception as exc:
                Transition.objects.filter(pk=batch[0].pk).update(
                    attempts=F("attempts") + 1, last_error=str(exc)[:2000]
                )
                log.warning("ChemBus publish failed, will retry: %s", exc)
                return False
            Transition.objects.filter(pk__in=[t.pk for t in batch]).update(
                published_at=timezone.now(), attempts=F("attempts") + 1
            )
    return True


def publish_committed(outbound: list[Outbound], alongside: bool = False) -> None:
    """After the commit that wrote these outbox rows: publish them now, or wake the retry loop.

    `alongside`: other processes commit outbox rows of the same evaluation at the same time
    (kloros_site.analysis.rounds), so older rows still unpublished may be theirs, about to be
    published, not rows left behind: draining them would put them on the bus twice. Such
    publishers take turns (a PostgreSQL advisory lock), and each publishes those of its rows that
    nobody has published meanwhile."""
    with _turns() if alongside else nullcontext():
        if alongside:
            outbound = _unpublished(outbound)
        if outbound and not publish_new(outbound):
            retry_loop.wake()


@contextmanager
def _turns() -> Iterator[None]:
    if connection.vendor != "postgresql":  # one writer at a time: no evaluation runs rounds alongside
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, 0)", [PUBLISH_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, 0)", [PUBLISH_LOCK])


def _unpublished(outbound: list[Outbound]) -> list[Outbound]:
    waiting: set[int] = set()
    for i in range(0, len(outbound), BATCH):
        pks = [t.pk for t in outbound[i : i + BATCH]]
        waiting.update(Transition.objects.unpublished().filter(pk__in=pks).values_list("pk", flat=True))
    return [t for t in outbound if t.pk in waiting]


def publish_new(outbound: list[Outbound]) -> bool:
    """Publish just-committed outbox rows as this process built them (a cold scan's round commits
    thousands: reading them back cost more than publishing), unless older rows still wait: then
    every unpublished row, in order. A row another process published meanwhile (only the retry loop
    drains others' rows, after a failure) goes out twice, which at-least-once allows."""
    with _publisher_lock:
        if Transition.objects.unpublished().filter(pk__lt=min(t.pk for t in outbound)).exists():
            return publish_backlog()
        return publish(sorted(outbound, key=lambda t: t.pk))


def publish_backlog() -> bool:
    """Drain every unpublished transition, oldest first; True when the outbox is empty."""
    with _publisher_lock:
        while True:
            batch = list(Transition.objects.filter(published_at__isnull=True).order_by("id")[:BATCH])
            if not batch:
                return True
            if not publish(batch):
                return False


class RetryLoop:
    def __init__(self) -> None:
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="chembus-relay", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        delay = settings.CHEMBUS_RETRY_SECONDS
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                close_old_connections()
                drained = publish_backlog()
            except Exception:
                log.exception("outbox relay failed")
                drained = False
            if drained:
                delay = settings.CHEMBUS_RETRY_SECONDS
                continue
            if not self._wake.wait(delay):
                self._wake.set()
            delay = min(delay * 2, MAX_BACKOFF)


retry_loop = RetryLoop()
