"""Durable, coalesced pending work, fed to the broker only while its analysis queue has room.

Nothing is dropped under load: a change is first a PendingFile row (one per path, however
many events), and becomes a task only when the queue is under its bound. The content is
read when the task is sent, so a path that changed 50 times while waiting is sent once with
its final content. A row goes away when a worker has stored a version at least as new.

A row whose task vanished with a killed worker is sent again within seconds, without sending
healthy work twice: a worker claims the row when it starts the task (kloros_site.analysis.claims),
so the row tells "waiting in the queue" (sent, unclaimed) from "in a worker's hands" (claimed).
A claim whose process is gone is sent again at once; a row sent a while ago that nobody
claimed is sent again only when the broker says the queue is empty (it was taken by a worker
killed before it started it, or lost with the broker). A claim held by a live worker is left
alone until KLR_REDISPATCH_AFTER, however long its task takes.
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
from django.db.models import F, Q
from django.utils import timezone

from kloros_site.analysis import claims, pending_rows
from kloros_site.analysis.batches import chunks, full
from kloros_site.analysis.messages import FileVersion
from kloros_site.analysis.models import PendingFile, Tree
from kloros_site.analysis.reader import read_version

log = logging.getLogger(__name__)
BATCH = 200
# the broker is asked for the queue's depth at most this often while the estimate (the last
# answer plus what was sent since, an overestimate since workers only take away) leaves room
DEPTH_CACHE_SECONDS = 1.0
# how often the feeder looks for lost work (a query, and a broker query when it finds some)
LOST_CHECK_SECONDS = 0.5
# a file whose task was lost this many times (one that kills its worker?) is sent again only
# at the slow pace of KLR_REDISPATCH_AFTER, not every few seconds
FAST_RESENDS = 3
# a row written or sent anew is "waiting": no worker holds it
UNCLAIMED = {"claimed_by": "", "claimed_at": None}
# a backlog is spread over at least this many messages, so that every worker gets a share
SPREAD = 8
# messages waiting in the queue that keep the workers busy: while it holds this many, a new change
# waits for a full message (Nagle's rule): workers that fall behind a stream of saves then get fewer,
# bigger tasks instead of one per save, each with its own transaction and evaluation trigger
BUSY = 2


def tree_for(root: Path | str) -> Tree:
    tree, _ = Tree.objects.get_or_create(path=str(root))
    return tree


def request(root: Path | str, paths: Iterable[str], seq: int | None = None) -> int:
    """Record that `paths` (relative to `root`) changed; returns how many rows were written."""
    tree = tree_for(root)
    unique = sorted(set(paths))
    pending_rows.upsert_waiting(tree.pk, unique, seq or time.time_ns(), timezone.now())
    return len(unique)


def _upsert(rows: list[PendingFile], fields: list[str]) -> None:
    PendingFile.objects.bulk_create(
        rows, batch_size=500, update_conflicts=True, unique_fields=["tree", "path"], update_fields=fields
    )


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
        unclaimed_after: float | None = None,
        lost_check_seconds: float = LOST_CHECK_SECONDS,
        *,
        dispatch_batch: Callable[[list[FileVersion]], None] | None = None,
        batch_files: int = 1,
        batch_bytes: int = 0,
    ) -> None:
        self.dispatch = dispatch
        # a backlog goes several files per message (see `_messages`); the bound counts messages
        self.dispatch_batch = dispatch_batch
        self.batch_files = batch_files if dispatch_batch else 1
        self.batch_bytes = batch_bytes
        self.queue_depth = queue_depth
        self.bound = bound
        self.redispatch_after = redispatch_after
        self.unclaimed_after = settings.KLR_UNCLAIMED_AFTER if unclaimed_after is None else unclaimed_after
        self.lost_check_seconds = lost_check_seconds
        self._next_lost_check = 0.0
        self._depth: int | None = None  # estimated messages in the queue (see DEPTH_CACHE_SECONDS)
        self._measured_at = 0.0
        self.busy = False  # the queue held BUSY messages at the last feed
        self._together: set[int] = set()  # lost rows (pks) that go in messages, not alone (`_dead_claims`)
        self._roots: dict[int, Path] = {}  # tree id -> its root, for reading the rows' files

    def _estimated_depth(self) -> int:
        stale = time.monotonic() - self._measured_at > DEPTH_CACHE_SECONDS
        if self._depth is None or stale or self._depth >= self.bound:
            return self._measure()
        return self._depth

    def feed(self) -> int:
        """Send as many pending rows as the queue has room for; returns how many were sent."""
        sent = 0
        with feeder_lock():
            while True:
                try:
                    depth = self._estimated_depth()
                except Exception as exc:  # broker away: the rows wait for the next try
                    log.warning("cannot read the analysis queue's depth: %s", exc)
                    self._depth = None
                    return sent
                room = min(self.bound - depth, BATCH)
                if room <= 0:
                    return sent
                wanted = min(room * self.batch_files, BATCH)
                rows = self._next_rows(wanted)
                for group in self._messages(rows, room, self._busy(depth)):
                    try:
                        self._send(group)
                    except Exception as exc:  # broker down or full: the rows stay, we try later
                        log.warning("could not send %s: %s", ", ".join(r.path for r, _ in group), exc)
                        self._depth = None
                        return sent
                    sent += len(group)
                    self._depth = (self._depth or 0) + 1  # set by _estimated_depth above
                if len(rows) < wanted or not sent:  # nothing more is waiting (or goes now)
                    return sent

    def _busy(self, depth: int) -> bool:
        """Whether the queue holds BUSY messages; the estimate only overcounts, so it is checked.
        `send_now` goes by the last answer, so that the watcher's sending waits for no broker query."""
        self.busy = self.batch_files > 1 and depth >= BUSY and self._measure() >= BUSY
        return self.busy

    def _messages(
        self, rows: list[PendingFile], room: int, busy: bool = False
    ) -> Iterator[list[tuple[PendingFile, FileVersion]]]:
        """At most `room` messages of these rows' current versions (rows left over wait, unsent).

        A few rows go one per message, so idle workers share them; a backlog goes several files
        per message (at most batch_files and batch_bytes of content, a bigger file alone),
        spread over at least SPREAD messages so that several workers share it too; while the
        queue is `busy`, only full messages go (the rest wait for more rows or a shorter queue).
        A row sent before whose task was lost goes alone: a file that kills its worker takes no
        other with it. The files of a worker killed whole, on their first loss, go in two messages
        instead: the redo comes last in the queue, and two workers share it.
        """
        lost = [r for r in rows if r.dispatched_at is not None]
        together = [r for r in lost if r.pk in self._together]
        for row in [r for r in lost if r.pk not in self._together]:
            if room <= 0:
                return
            yield [(row, self._read(row))]
            room -= 1
        if together:
            half = max(1, min(self.batch_files, -(-len(together) // 2)))
            for group in chunks(((row, self._read(row)) for row in together), half, self.batch_bytes):
                if room <= 0:
                    return
                yield group
                room -= 1
        rows = [r for r in rows if r.dispatched_at is None]
        if room <= 0 or not rows:
            return
        per = self.batch_files if busy else max(1, min(self.batch_files, len(rows) // SPREAD))
        per = max(per, -(-len(rows) // room))
        last: list[tuple[PendingFile, FileVersion]] = []
        for group in chunks(((row, self._read(row)) for row in rows), per, self.batch_bytes):
            if last:
                yield last
                room -= 1
                if room <= 0:
                    return
            last = group
        if last and (not busy or full(last, per, self.batch_bytes)):
            yield last

    def _read(self, row: PendingFile) -> FileVersion:
        root = self._roots.get(row.tree_id)
        if root is None:  # a tree's path never changes: one query per tree, not a join per row
            root = self._roots[row.tree_id] = Path(
                Tree.objects.values_list("path", flat=True).get(pk=row.tree_id)
            )
        return read_version(root, root / row.path, settings.KLR_MAX_FILE_BYTES)

    def send_now(self, root: Path, paths: list[str]) -> bool:
        """The watcher's path for a few changes while the queue has plenty of room: read each file,
        record its pending row already marked as sent (one statement), then send them, several
        files per message (what one pass of the watcher found: a burst, or the saves of a stream
        that came in while the last ones were sent). False when the queue is too full to skip the
        feeder's lock: then the caller records the changes with `request` and lets `feed` send them.

        Two feeders each sending at most half the room they estimate cannot overfill the queue.
        """
        try:
            depth = self._estimated_depth()
        except Exception:
            self._depth = None
            return False
        paths = sorted(set(paths))
        if depth + -(-len(paths) // self.batch_files) > self.bound // 2 or self.busy:
            return False
        tree = tree_for(root)
        seq = time.time_ns()
        versions = [read_version(root, root / path, settings.KLR_MAX_FILE_BYTES) for path in paths]
        now = timezone.now()
        rows = [
            PendingFile(tree=tree, path=v.path, seq=seq, dispatched_at=now, dispatched_seq=v.seq, attempts=1)
            for v in versions
        ]
        _upsert(rows, ["seq", "dispatched_at", "dispatched_seq", "attempts", *UNCLAIMED])
        # as few messages as batch_files allows, the files shared evenly between them
        per = -(-len(versions) // max(1, -(-len(versions) // self.batch_files)))
        for group in chunks(((v.path, v) for v in versions), per, self.batch_bytes):
            try:
                self._dispatch([version for _, version in group])
            except Exception as exc:  # broker away: the rest are pending and unsent, for feed()
                log.warning("could not send %s: %s", ", ".join(path for path, _ in group), exc)
                unsent = paths[paths.index(group[0][0]) :]
                PendingFile.objects.filter(tree=tree, path__in=unsent, seq=seq).update(dispatched_at=None)
                self._depth = None
                return True
            self._depth = (self._depth or 0) + 1  # set by _estimated_depth above
        return True

    def _dispatch(self, versions: list[FileVersion]) -> None:
        if len(versions) == 1 or self.dispatch_batch is None:
            self.dispatch(versions[0])
        else:
            self.dispatch_batch(versions)

    def _next_rows(self, room: int) -> list[PendingFile]:
        """Rows to send: lost claims first (older work, and few), then new rows, then rows sent
        and never started, once the queue is empty."""
        check = time.monotonic() >= self._next_lost_check
        if check:
            self._next_lost_check = time.monotonic() + self.lost_check_seconds
        rows = self._dead_claims(room) if check else []
        fresh = PendingFile.objects.filter(dispatched_at__isnull=True).order_by("id")
        rows += list(fresh[: room - len(rows)]) if room > len(rows) else []
        if rows or not check:
            return rows
        return self._unclaimed(room)

    def _dead_claims(self, room: int) -> list[PendingFile]:
        self._together = set()
        dead = claims.lost_claimers()
        if not dead:
            return []
        held = PendingFile.objects.filter(claimed_by__in=dead, attempts__lt=FAST_RESENDS)
        rows = list(held.select_related("tree").order_by("id")[:room])
        # lost once, with their whole worker: no file of theirs is a suspect (claims)
        whole = claims.killed_with_their_worker({row.claimed_by for row in rows})
        self._together = {row.pk for row in rows if row.claimed_by in whole and row.attempts <= 1}
        if rows:
            log.warning(
                "sending %d files again whose worker is gone (%s)%s",
                len(rows),
                ", ".join(dead),
                f", {len(self._together)} together: killed with their worker" if self._together else "",
            )
        return rows

    def _unclaimed(self, room: int) -> list[PendingFile]:
        now = timezone.now()
        # sent a while ago and started by no worker, or (the slow rule, whoever holds it) sent
        # so long ago that its task cannot still be running
        never_started = Q(claimed_by="", dispatched_at__lt=now - timedelta(seconds=self.unclaimed_after))
        stalled = Q(dispatched_at__lt=now - timedelta(seconds=self.redispatch_after))
        rows = list(
            PendingFile.objects.filter(never_started | stalled).select_related("tree").order_by("id")[:room]
        )
        # lost, unless they still wait in the queue (the broker is asked for real)
        if not rows or self._measure() != 0:
            return []
        log.warning("sending %d tasks again that no worker finished", len(rows))
        return rows

    def _measure(self) -> int:
        self._depth = self.queue_depth()
        self._measured_at = time.monotonic()
        return self._depth

    def _send(self, group: list[tuple[PendingFile, FileVersion]]) -> None:
        # one statement for the message; a newer change seen meanwhile (seq moved) keeps its row
        # waiting to be sent again. Written before the message goes, as send_now does: a worker may
        # take it and claim the rows first, and a mark written after would wipe (or miss) the claim,
        # leaving a killed worker's files to the slow rule instead of its claim (claims)
        pending_rows.mark_sent([(row.pk, row.seq, version.seq) for row, version in group], timezone.now())
        try:
            self._dispatch([version for _, version in group])
        except Exception:  # not sent after all: new rows wait, unsent, for the next feed; a lost row
            # stays "sent, never started", for the slow rule that sends it alone
            fresh = [row.pk for row, _ in group if row.dispatched_at is None]
            # (those the mark did not take, a newer change seen, stay as they are)
            PendingFile.objects.filter(pk__in=fresh, claimed_by="", dispatched_at__isnull=False).update(
                dispatched_at=None, attempts=F("attempts") - 1
            )
            raise

    def has_backlog(self) -> bool:
        # asked once per watcher loop: an EXISTS, not a COUNT over every pending row
        return PendingFile.objects.exists()
