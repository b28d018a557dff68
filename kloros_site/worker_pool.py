"""The workers' process pool: Celery's prefork pool, with a recycled pool process replaced at once.

A pool process leaves after KLR_WORKER_MAX_TASKS_PER_CHILD tasks (or past the memory limit), and
the worker replaces it when the process's sentinel (a pipe it holds) reports the exit. The
kernel closes a leaving process's files before the process can be reaped: often (8 of 12
recycles measured) Celery's check then still finds it running, forgets the sentinel, and only
the pool's 5-second timer replaces it (celery/celery#9588). With one process per worker, that
worker extracted nothing for 1.7-4.7 s after its 250th task on the latency bench at 100 files/s
(up to 471 files pending at once); replaced at once, 0.25-0.4 s.
"""

from __future__ import annotations

import time
from typing import Any

from celery.concurrency.asynpool import AsynPool
from celery.concurrency.prefork import TaskPool as PreforkTaskPool

# how long the worker's event loop waits for a process whose sentinel reported its exit to become
# reapable (the rest of its exit takes micro- to milliseconds); past it, the pool's timer as before
REAP_WITHIN = 0.5
REAP_POLL = 0.001


def reaped(proc: Any, within: float = REAP_WITHIN) -> bool:
    """Whether the process has exited and been reaped, waiting for it at most `within` seconds."""
    deadline = time.monotonic() + within
    while proc.exitcode is None:  # a waitpid(WNOHANG): reaps it once it can be
        if time.monotonic() >= deadline:
            return False
        time.sleep(REAP_POLL)
    return True


class Pool(AsynPool):
    def _event_process_exit(self, hub: Any, proc: Any) -> None:
        # the exit is certain (its sentinel is closed): wait for the reap, so that maintain_pool
        # replaces the process now, not at the pool's next timer
        reaped(proc)
        super()._event_process_exit(hub, proc)


class TaskPool(PreforkTaskPool):
    Pool = Pool
