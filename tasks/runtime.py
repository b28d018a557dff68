"""The periodic runtime check, and the worker signals that measure what it reads."""

from __future__ import annotations

import ctypes
import gc
import logging

from billiard.compat import mem_rss
from billiard.pool import EX_RECYCLE
from celery.signals import task_postrun, task_prerun, worker_process_shutdown
from django.db import connections

from kloros_site.analysis import measurements, runtime
from kloros_site.analysis.enqueue import queue_depth
from kloros_site.analysis.messages import EVALUATE_TREE
from kloros_site.celery import app

log = logging.getLogger(__name__)
# glibc's: hands the free memory at the top of the heap and in its arenas back to the system
_malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
# a task that grew its pool process by more than this (KiB) is followed by a collection and a trim
RELEASE_AFTER_GROWTH_KB = 8 * 1024
# the pool process's RSS (KiB) when its current task started
_rss_at_start = 0


@app.task(name="kloros.runtime_check")
def runtime_check() -> dict[str, list[str]]:
    try:
        depth: int | None = queue_depth()
    except Exception as exc:  # an unreachable broker is no reading, not a reason to skip the rest
        log.warning("runtime check: queue depth unknown: %s", exc)
        depth = None
    outcome = runtime.check(queue_depth=depth)
    return {"opened": outcome.opened, "changed": outcome.changed, "resolved": outcome.resolved}


@task_prerun.connect
def note_task_start(sender=None, args=None, **kwargs) -> None:
    """What a pool process recycled after this task is blamed on: an evaluation of its tree, or
    (set by services.record) the file it analyzes; nothing for other tasks."""
    if getattr(sender, "name", None) == EVALUATE_TREE and args:
        measurements.note_evaluation(int(args[0]))
    else:
        measurements.forget_last_work()


@task_prerun.connect
def note_rss(**kwargs) -> None:
    global _rss_at_start
    _rss_at_start = mem_rss()


@task_postrun.connect
def release_memory(**kwargs) -> None:
    """Hand the heap a big task grew (an evaluation of thousands of keys, a huge file) back to the
    system, as far as the allocators let go.

    The pool process runs small extractions next: without this it keeps the task's peak (glibc
    keeps freed memory for reuse), and every child ends up at the biggest task it ran. Decided by
    the process's own growth, so any task kind is covered and a small one costs two /proc reads.
    """
    if mem_rss() - _rss_at_start <= RELEASE_AFTER_GROWTH_KB:
        return
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)


@worker_process_shutdown.connect
def record_memory_recycle(sender=None, pid=None, exitcode=None, **kwargs) -> None:
    """Runs in a pool process that is leaving. EX_RECYCLE is also the exit of a process that
    reached worker_max_tasks_per_child: only one over the memory limit counts."""
    limit = app.conf.worker_max_memory_per_child
    if exitcode != EX_RECYCLE or not limit:
        return
    used_kb = mem_rss()
    if app.conf.worker_max_tasks_per_child and used_kb <= limit:
        return
    try:
        measurements.note_recycle(used_kb, str(sender or ""))
    except Exception:
        log.warning("could not record a memory recycle", exc_info=True)
    finally:
        connections.close_all()
