"""Remote-control commands the web process asks workers over the broker."""

from __future__ import annotations

import os

import psutil
from celery.worker.control import inspect_command


@inspect_command()
def kloros_stats(state) -> dict:
    """Celery's own stats plus the current RSS of the worker and each pool process.

    rusage's maxrss covers the main process only and is a peak since start; the seed's memory
    alert is about every process as it is now.
    """
    me = psutil.Process(os.getpid())
    rss = {str(me.pid): me.memory_info().rss}
    for child in me.children():
        try:
            rss[str(child.pid)] = child.memory_info().rss
        except psutil.Error:  # a pool process being replaced
            continue
    return {**state.consumer.controller.stats(), "process_rss": rss}
