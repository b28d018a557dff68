"""What the pipeline measures about itself, for the runtime questions (kloros_site.analysis.runtime).

Workers record the file versions they process (`write_analyses` in the transaction that stores
them, else `note_analyses`), call `note_evaluation` when they evaluate a tree and `note_recycle`
when a pool process leaves for memory; the periodic check calls `sample_backlog`. Each is at most
one small insert.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from kloros_site.analysis.models import PendingFile, RuntimeEvent, Tree

log = logging.getLogger(__name__)
Kind = RuntimeEvent.Kind

# what this process worked on last, (tree id, path) of an analysis or (tree id, "") of an
# evaluation: a pool process recycled for memory is recycled right after it
_last_work: tuple[int, str] | None = None


def analysis_events(tree: Tree, outcomes: list[tuple[str, str]]) -> list[RuntimeEvent]:
    """The rows saying a worker has processed these versions, (path, outcome) each."""
    global _last_work
    if outcomes:
        _last_work = (tree.pk, outcomes[-1][0])
    now = timezone.now()
    return [
        RuntimeEvent(tree=tree, kind=Kind.ANALYSIS, at=now, path=path, detail=o[:64]) for path, o in outcomes
    ]


def write_analyses(tree: Tree, outcomes: list[tuple[str, str]]) -> None:
    """`note_analyses` inside the transaction that stores these versions (services._write): no
    round trip and no commit of its own. The rows cannot be refused where the versions' own
    are not (the same tree, a path as long as the file's, the outcome cut to the column)."""
    RuntimeEvent.objects.bulk_create(analysis_events(tree, outcomes))


def note_analyses(tree: Tree, outcomes: list[tuple[str, str]]) -> None:
    """A worker has processed these versions, (path, outcome) each, and stored none of them in a
    transaction of its own (stale, unchanged, failed; services.record_batch calls this): one
    insert for them all."""
    events = analysis_events(tree, outcomes)
    if not events:
        return
    try:
        if len(events) == 1:
            events[0].save()  # one statement: bulk_create would wrap it in a transaction of its own
        else:
            RuntimeEvent.objects.bulk_create(events)
    except Exception:  # a lost measurement must not fail an analysis that is already stored
        log.warning("could not record the analysis of %s", outcomes[0][0], exc_info=True)


def note_evaluation(tree_id: int) -> None:
    """An evaluation of the tree starts in this process."""
    global _last_work
    _last_work = (tree_id, "")


def forget_last_work() -> None:
    """A task starts: until it analyzes something, the process has nothing to blame."""
    global _last_work
    _last_work = None


def note_recycle(rss_kb: float, worker: str) -> bool:
    """This pool process leaves for memory: recorded against what it did last, if anything."""
    if _last_work is None:
        return False
    tree_id, path = _last_work
    if not Tree.objects.filter(pk=tree_id).exists():
        return False
    RuntimeEvent.objects.create(
        tree_id=tree_id, kind=Kind.RECYCLE, at=timezone.now(), path=path, value=rss_kb, detail=worker[:64]
    )
    return True


def sample_backlog(now: datetime, queue_depth: int | None) -> None:
    """One backlog sample per tree: its pending rows, and how many messages the queue held."""
    pending = dict(PendingFile.objects.values_list("tree").annotate(n=Count("id")).order_by())
    RuntimeEvent.objects.bulk_create(
        RuntimeEvent(tree_id=pk, kind=Kind.BACKLOG, at=now, value=pending.get(pk, 0), depth=queue_depth)
        for pk in Tree.objects.values_list("pk", flat=True)
    )
