"""A throw-away analyzer stack for one figure: state folder, database, broker, workers, watcher.

The bench process configures Django for the same database and broker as its children, so
it can read progress (pending rows, outbox) straight from the tables.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bench import procs
from bench.procs import REPO, Proc, celery, eventually, manage

DB_NAME = "kloros_bench"
QUEUE = "analysis-bench"
# Redis dbs 11, 13-15 and 6 are the bench's (the tests use 9, something else 12): one per figure, so figures can
# run side by side when time is short; each is flushed at start and end. On a machine where
# other sessions use those dbs, give the run one of its own with --redis-db (and --db).
REDIS_DB = {"cold": 11, "latency": 13, "rss": 14, "restart": 15, "branch": 6}
PG = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-v", "ON_ERROR_STOP=1"]
STACKS = ("pg-redis", "embedded")
T = TypeVar("T")


@dataclass
class Stack:
    kind: str
    commit: str  # the product code measured (a snapshot of this commit)
    work: Path  # temp folder for state, logs and trees; removed at the end
    env: dict[str, str]
    stack: ExitStack
    procs: list[Proc] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return self.work / "logs"

    def start(self, name: str, argv: list[str], ready: str, timeout: float = 120) -> Proc:
        proc = Proc(name, argv, self.env, self.logs)
        self.procs.append(proc)
        self.stack.callback(proc.stop)  # stopped at the end, even when the figure fails
        proc.wait_for(ready, timeout)
        return proc

    def workers(self, count: int = 2, prefix: str = "worker") -> list[Proc]:
        """`count` workers of one pool process each: two single-process workers, as the storm tests run."""
        return [self.start(f"{prefix}{i}", worker_argv(f"{prefix}{i}"), "ready.") for i in range(count)]

    def spawn_worker(self, name: str) -> Proc:
        """One more worker, started without waiting for it to be ready (a replacement mid-figure)."""
        proc = Proc(name, worker_argv(name), self.env, self.logs)
        self.procs.append(proc)
        self.stack.callback(proc.stop)
        return proc

    def watcher(self, root: Path, name: str = "watcher") -> Proc:
        return self.start(name, manage("watch", str(root)), "watching ")


def worker_argv(name: str) -> list[str]:
    return celery(
        "worker",
        "--concurrency=1",
        f"--hostname=bench-{name}@%h",
        "--without-mingle",
        "--without-gossip",
        f"--queues={QUEUE},celery",
        "--loglevel=INFO",  # "ready." is an INFO line
    )


def _psql(sql: str) -> None:
    subprocess.run([*PG, "-d", "postgres", "-c", sql], check=True, capture_output=True, timeout=60)


def snapshot(rev: str, dest: Path) -> str:
    """Extract the committed tree of `rev` into `dest`; returns the full commit id."""
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", rev], check=True, capture_output=True, text=True, timeout=30
    ).stdout.strip()
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True, timeout=120)
    return commit


@contextmanager
def bench_stack(
    kind: str,
    figure: str,
    keep: bool = False,
    rev: str = "HEAD",
    redis_db: int | None = None,
    db: str | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """A fresh stack of `kind` for `figure` running commit `rev`; Django in this process is set up against it.

    `redis_db` and `db` replace the figure's own Redis db and PostgreSQL database name;
    `settings` (KLR_... environment variables) change the product's settings for every process.
    """
    if kind not in STACKS:
        raise ValueError(f"unknown stack {kind!r}; one of {STACKS}")
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix=f"kloros-bench-{kind}-"))
        if not keep:
            stack.callback(shutil.rmtree, work, ignore_errors=True)
        (work / "logs").mkdir()
        commit = snapshot(rev, work / "src")
        procs.SOURCE[0] = work / "src"
        # this process reads the tables through the same models as the children: forget the
        # project's modules imported from the working tree (bench.results takes the percentile
        # from there) so the snapshot's are imported instead
        sys.path.insert(0, str(work / "src"))
        for name in [m for m in sys.modules if m.split(".")[0] in ("kloros_site", "tasks", "monitors")]:
            del sys.modules[name]
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(work / "src"),
            KLR_STATE_DIR=str(work / "state"),
            KLR_ANALYSIS_QUEUE=QUEUE,
            KLR_CHEMBUS_EXCHANGE="chembus-bench",
            KLR_LOG_LEVEL="INFO",
            DJANGO_SETTINGS_MODULE="kloros_site.settings",
            PYTHONUNBUFFERED="1",
            SECRET_KEY="bench-only-not-secret",
        )
        env.update(settings or {})
        redis_db = REDIS_DB.get(figure) if redis_db is None else redis_db
        if kind == "pg-redis":
            db = db or f"{DB_NAME}_{figure}"
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
            _psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            _psql(f"CREATE DATABASE {db}")
            stack.callback(_psql, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            if redis_db is not None:
                env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
                _flush_redis(redis_db)
                stack.callback(_flush_redis, redis_db)
            else:  # an in-process figure (queries): no worker, no shared broker db to claim
                env["CELERY_BROKER_URL"] = "filesystem://"
        else:
            env["DATABASE_URL"] = f"sqlite:///{work / 'state' / 'db.sqlite3'}"
            env["CELERY_BROKER_URL"] = "filesystem://"
        os.environ.update(env)
        subprocess.run(
            manage("migrate", "--no-input", "-v", "0"), cwd=work / "src", env=env, check=True, timeout=300
        )
        import django

        django.setup()
        from django.db import connections

        # the bench's own connections must be gone before the database is dropped
        stack.callback(connections.close_all)
        yield Stack(kind, commit, work, env, stack)


def _flush_redis(db: int) -> None:
    subprocess.run(["redis-cli", "-n", str(db), "flushdb"], check=True, capture_output=True, timeout=30)


def wait(check: Callable[[], T], timeout: float, interval: float = 0.05, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy, at most `timeout` seconds (TimeoutError then)."""
    return eventually(check, timeout, f"{what} not reached within {timeout:.0f} s", interval)


def backlog() -> dict[str, int]:
    """Work not done yet: pending rows, tasks in the analysis queue, changes not yet evaluated,
    unpublished transitions."""
    from kloros_site.analysis.enqueue import queue_depth
    from kloros_site.analysis.models import ChangedKeys, PendingFile, Transition, Tree

    depth = -1
    with contextlib.suppress(Exception):
        depth = queue_depth()
    return {
        "pending": PendingFile.objects.count(),
        "queue": depth,
        "unevaluated": ChangedKeys.objects.count()
        + Tree.objects.filter(evaluation_requested_at__isnull=False).count(),
        "outbox": Transition.objects.filter(published_at__isnull=True).count(),
    }


def drained() -> bool:
    b = backlog()
    return b["pending"] == 0 and b["queue"] == 0 and b["unevaluated"] == 0 and b["outbox"] == 0
