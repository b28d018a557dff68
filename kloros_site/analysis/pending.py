"""Durable, coalesced pending work, fed to the broker only while its analysis queue has room.

Nothing is dropped under load: a change is first a PendingFile row (one per path, however
many events), and becomes a task only when the queue is under its bound. The content is
read when the task is sent, so a path that changed 50 times while waiting is sent once with
its final content. A row goes away when a worker has stored a version at least as new; a
row whose task vanished (a worker killed on a broker without acknowledgements) is sent
again once the queue is empty and the task has had time to finish.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from kloros_site.analysis.messages import FileVersion
from kloros_site.analysis.models import PendingFile, Tree
from kloros_site.analysis.reader import read_version

log = logging.getLogger(__name__)
BATCH = 200


def request(root: Path | str, paths: Iterable[str], seq: int | None = None) -> int:
    """Record that `paths` (relative to `root`) changed; returns how many rows were written."""
    tree, _ = Tree.objects.get_or_create(path=str(root))
    seq = seq or time.time_ns()
    rows = [PendingFile(tree=tree, path=path, seq=seq) for path in sorted(set(paths))]
    PendingFile.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["tree", "path"],
        update_fields=["seq", "dispatched_at"],
    )
    return len(rows)


@contextmanager
def feeder_lock() -> Iterator[None]:
    """One feeder at a time across processes, so two cannot both fill the same room."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(7403, 0)")
            try:
                yield
            finally:
                cursor.execute("SELECT pg_advisory_unlock(7403, 0)")
        return
    with open(Path(settings.STATE_DIR) / "feeder.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Feeder:
    def __init__(
        self,
        dispatch: Callable[[FileVersion], None],
        queue_depth: Callable[[], int],
        bound: int,
        redispatch_after: float,
    ) -> None:
        self.dispatch = dispatch
        self.queue_depth = queue_depth
        self.bound = bound
        self.redispatch_after = redispatch_after

    def feed(self) -> int:
        """Send as many pending rows as the queue has room for; returns how many were sent."""
        sent = 0
        with feeder_lock():
            while True:
                try:
                    depth = self.queue_depth()
                except Exception as exc:  # broker away: the rows wait for the next try
                    log.warning("cannot read the analysis queue's depth: %s", exc)
                    return sent
                room = min(self.bound - depth, BATCH)
                if room <= 0:
                    return sent
                rows = self._next_rows(room, queue_empty=depth == 0)
                if not rows:
                    return sent
                for row in rows:
                    try:
                        self._send(row)
                    except Exception as exc:  # broker down or full: the row stays, we try later
                        log.warning("could not send %s: %s", row.path, exc)
                        return sent
                    sent += 1

    def _next_rows(self, room: int, queue_empty: bool) -> list[PendingFile]:
        fresh = PendingFile.objects.filter(dispatched_at__isnull=True).select_related("tree").order_by("id")
        rows = list(fresh[:room])
        if not rows and queue_empty:
            cutoff = timezone.now() - timedelta(seconds=self.redispatch_after)
            lost = PendingFile.objects.filter(dispatched_at__lt=cutoff).select_related("tree").order_by("id")
            rows = list(lost[:room])
            if rows:
                log.warning("sending %d tasks again that no worker finished", len(rows))
        return rows

    def _send(self, row: PendingFile) -> None:
        root = Path(row.tree.path)
        version = read_version(root, root / row.path, settings.KLR_MAX_FILE_BYTES)
        self.dispatch(version)
        # a newer change seen meanwhile (seq moved) keeps the row waiting to be sent again
        PendingFile.objects.filter(pk=row.pk, seq=row.seq).update(
            dispatched_at=timezone.now(), dispatched_seq=version.seq, attempts=F("attempts") + 1
        )

    def has_backlog(self) -> bool:
        # asked once per watcher loop: an EXISTS, not a COUNT over every pending row
        return PendingFile.objects.exists()
