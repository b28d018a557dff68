"""Which worker process holds which sent file: claims and heartbeats, for finding lost work fast.

A worker claims a file's pending row when its task starts (`claim`): the row then says "in
the hands of host/pidns/pid" instead of "waiting in the queue". Each claiming process keeps a
heartbeat row fresh from a thread (`WorkerBeat`). The feeder treats a claim as lost when its
process is gone: at once when the process ran on the feeder's own host and pid namespace and
no longer exists, otherwise when its heartbeat is older than KLR_WORKER_LOST_AFTER.

Why not Celery's own means: with acks_late on Redis a SIGKILLed worker's unacknowledged
messages come back only after the transport's visibility_timeout (an hour here, and it cannot
be short: a long evaluation would be delivered again while it runs); task_reject_on_worker_lost
needs the worker's main process alive to requeue (a whole worker killed requeues nothing) and
redelivers a task that kills its process forever; there is no "worker lost" signal for a
killed main process, and Celery's event heartbeats would need an event consumer in the watcher
and a map from task ids to files. The database already holds the pending rows the feeder
reads, so the claim and the heartbeat live beside them, on every broker (the filesystem
transport has no acknowledgements at all).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable
from datetime import timedelta
from functools import reduce
from operator import or_
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

import kloros_site.celery
from kloros_site.analysis.messages import FileVersion
from kloros_site.analysis.models import PendingFile, Tree, WorkerBeat

log = logging.getLogger(__name__)
# heartbeats of processes gone this long and holding no claim are deleted
FORGET_AFTER = timedelta(hours=1)
_beating: dict[int, threading.Thread] = {}  # pid -> its heartbeat thread (a forked child has none)


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:  # no /proc: pids are compared on the host name alone
        return ""


def identity(pid: int | None = None) -> str:
    """host/pid namespace/pid of this process: unique among live processes, and checkable for
    liveness by a process on the same host and pid namespace."""
    return f"{socket.gethostname()}/{_pid_namespace()}/{pid or os.getpid()}"


def is_gone(name: str) -> bool:
    """Whether the process `name` ran where this one runs and has ended (False: cannot tell)."""
    host, _, rest = name.partition("/")
    namespace, _, pid = rest.rpartition("/")
    if host != socket.gethostname() or namespace != _pid_namespace() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, someone else's
        return False
    return _zombie(int(pid))


def _zombie(pid: int) -> bool:
    """A killed worker's child can linger as a zombie where nobody reaps orphans (a container)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def beat() -> None:
    parent = kloros_site.celery.pool_parent
    WorkerBeat.objects.update_or_create(
        name=identity(), defaults={"beat_at": timezone.now(), "parent": identity(parent) if parent else ""}
    )


def _beat_forever(interval: float) -> None:
    while True:
        threading.Event().wait(interval)
        try:
            beat()
        except Exception as exc:  # the database is away: beat again once it answers
            log.warning("could not write the worker heartbeat: %s", exc)
            close_old_connections()
            connection.close()


def start_beating() -> None:
    """Beat now (a claim must never name a process without a heartbeat) and keep beating."""
    pid = os.getpid()
    if pid in _beating:
        return
    beat()
    forget_old_beats()  # each new process tidies after the ones before it
    thread = threading.Thread(
        target=_beat_forever, args=(settings.KLR_WORKER_BEAT_SECONDS,), name="kloros-heartbeat", daemon=True
    )
    thread.start()
    _beating[pid] = thread


def claim(versions: Iterable[FileVersion]) -> int:
    """Mark the pending rows these sent versions answer as started by this process (which beats)."""
    versions = list(versions)
    if not versions:
        return 0
    keep_beating()
    return mark_claimed(versions, identity())


def keep_beating() -> None:
    if kloros_site.celery.in_worker:
        start_beating()
    else:  # a task run in place (a test, a shell): one heartbeat, no thread
        beat()


def mark_claimed(versions: Iterable[FileVersion], name: str) -> int:
    """Only the row's current sending is claimed (dispatched_seq): an older message of the same
    path, still running, must not vouch for the newer one that may have been lost."""
    by_root: dict[str, list[FileVersion]] = {}
    for version in versions:
        by_root.setdefault(version.root, []).append(version)
    now = timezone.now()
    claimed = 0
    for root, group in by_root.items():
        sent = reduce(or_, (Q(path=v.path, dispatched_seq=v.seq) for v in group))
        rows = PendingFile.objects.filter(sent, tree__path=root)
        claimed += rows.update(claimed_by=name, claimed_at=now)
    return claimed


def lost_claimers() -> list[str]:
    """The processes holding claims of pending files that are gone."""
    return gone(
        set(PendingFile.objects.exclude(claimed_by="").values_list("claimed_by", flat=True).distinct())
    )


def gone(names: set[str]) -> list[str]:
    """Those of `names` whose process is gone: ended on this host, or silent too long."""
    if not names:
        return []
    beats = dict(WorkerBeat.objects.filter(name__in=names).values_list("name", "beat_at"))
    silent = timezone.now() - timedelta(seconds=settings.KLR_WORKER_LOST_AFTER)
    return sorted(name for name in names if is_gone(name) or beats.get(name, silent) <= silent)


def killed_with_their_worker(names: Iterable[str]) -> set[str]:
    """Those of these gone pool processes whose worker (main process) has ended too, on this host.

    A file can kill the pool process analyzing it (a crash, the hard time limit), and the worker
    then starts another; the worker itself runs no file. Both gone means a kill from outside (an
    operator, a crash of the worker's service): the files it held are not suspects. A worker on
    another host, or a process that analyzes in its main process, cannot tell: never counted.
    """
    parents = WorkerBeat.objects.filter(name__in=list(names)).exclude(parent="").values_list("name", "parent")
    return {name for name, parent in parents if is_gone(parent)}


def claim_evaluation(tree_id: int) -> str:
    """Mark the tree's evaluation as running in this process; returns the claim."""
    me = identity()
    keep_beating()
    Tree.objects.filter(pk=tree_id).update(evaluation_claimed_by=me)
    return me


def forget_old_beats() -> int:
    """Heartbeats of processes long gone (recycled pool children) that hold no claim."""
    old = WorkerBeat.objects.filter(beat_at__lt=timezone.now() - FORGET_AFTER)
    claimers = PendingFile.objects.exclude(claimed_by="").values("claimed_by")
    return old.exclude(name__in=claimers).delete()[0]
