"""Probes of the database, the broker and the workers: each answers in bounded time and never raises.

The workers are other processes, often on other machines: they are found by one broadcast of the
`kloros_stats` remote-control command (tasks/control.py), which waits its whole timeout for
answers, so its result is cached per web process. The probe is swappable (`use_worker_probe`):
the web tests answer with a stub instead of waiting on a broadcast for every request.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery.app.control import flatten_reply
from django.conf import settings
from django.db import connection
from kombu import Connection

log = logging.getLogger(__name__)

STARTED = time.time()
MB = 1024 * 1024


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.warning("database check failed", exc_info=True)
        return False
    return True


def _connection() -> Connection:
    from kloros_site.celery import app

    timeout = settings.KLR_BROKER_CHECK_TIMEOUT
    conn = app.connection_for_read(connect_timeout=timeout)
    try:
        # without a bound, kombu retries a dead broker forever and the request hangs
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    except Exception:
        conn.release()
        raise
    return conn


def broker_ok() -> bool:
    try:
        with _connection():
            return True
    except Exception as exc:
        log.warning("broker check failed: %s", type(exc).__name__)
        return False


def queue_depth(queue: str | None = None) -> int | None:
    """Messages waiting in the analysis queue; 0 when it was never declared, None when unreachable."""
    name = queue or settings.KLR_ANALYSIS_QUEUE
    try:
        conn = _connection()
    except Exception as exc:
        log.warning("queue depth: broker unreachable: %s", type(exc).__name__)
        return None
    with conn:
        try:
            return conn.default_channel.queue_declare(queue=name, passive=True).message_count
        except conn.channel_errors:
            # a passive declare of a queue no task was ever sent to fails with NOT_FOUND
            return 0
        except Exception as exc:
            log.warning("queue depth failed: %s", type(exc).__name__)
            return None


@dataclass(frozen=True)
class Worker:
    name: str
    # the largest current RSS among the worker's processes (main and pool), and each of them
    memory_mb: float | None
    uptime: float | None
    processes: int
    process_memory_mb: dict[str, float] = field(default_factory=dict)


WorkerProbe = Callable[[], list[Worker]]


def worker_from_stats(name: str, info: dict[str, Any]) -> Worker:
    per_process = {pid: rss / MB for pid, rss in (info.get("process_rss") or {}).items()}
    pool = info.get("pool") or {}
    return Worker(
        name=name,
        memory_mb=max(per_process.values(), default=None),
        uptime=info.get("uptime"),
        processes=len(pool.get("processes") or []),
        process_memory_mb=per_process,
    )


def broadcast_stats() -> list[Worker]:
    """Ask every worker for `kloros_stats` and wait KLR_INSPECT_TIMEOUT for the answers.

    One stats broadcast answers "who is alive" and "how much memory" at once: every broadcast
    waits its full timeout, so a separate ping would double the cost.
    """
    from kloros_site.celery import app

    replies = app.control.broadcast("kloros_stats", reply=True, timeout=settings.KLR_INSPECT_TIMEOUT)
    return [worker_from_stats(name, info) for name, info in sorted(flatten_reply(replies or []).items())]


@dataclass
class _WorkerCache:
    probe: WorkerProbe = broadcast_stats
    lock: threading.Lock = field(default_factory=threading.Lock)
    at: float = -math.inf
    workers: list[Worker] = field(default_factory=list)
    last_seen: float | None = None


_cache = _WorkerCache()


def use_worker_probe(probe: WorkerProbe | None) -> None:
    """Find workers with `probe` from now on (None: the broadcast again); forgets the cached answer."""
    with _cache.lock:
        _cache.probe = probe or broadcast_stats
        _cache.at = -math.inf


def forget_workers() -> None:
    """Drop the cached answer: the next call probes again."""
    with _cache.lock:
        _cache.at = -math.inf


def workers(max_age: float | None = None) -> list[Worker]:
    """Workers answering the probe, cached for KLR_WORKER_CACHE_SECONDS."""
    max_age = settings.KLR_WORKER_CACHE_SECONDS if max_age is None else max_age
    with _cache.lock:
        now = time.monotonic()
        if now - _cache.at > max_age:
            try:
                found = _cache.probe() if broker_ok() else []
            except Exception as exc:
                log.warning("worker inspection failed: %s", type(exc).__name__)
                found = []
            _cache.workers, _cache.at = found, time.monotonic()
            if found:
                _cache.last_seen = time.time()
        return list(_cache.workers)


def seconds_without_worker(now: float | None = None) -> float:
    """How long no worker has answered, counted from this process's start if none ever did."""
    now = time.time() if now is None else now
    if workers():
        return 0.0
    return now - (_cache.last_seen or STARTED)
