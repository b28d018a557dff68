"""Child processes for the tests: the bench's harness (bench/procs.py), pointed at this checkout.

Each child a test starts is recorded on that test (`attach`), so a failing test shows the logs of
its own children only (see tests/conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bench.procs import Proc, eventually, free_port, port_open, wait_for_port

REPO = Path(__file__).resolve().parent.parent
CHILDREN = pytest.StashKey[list[Proc]]()

__all__ = [
    "REPO",
    "Listener",
    "PrivateStack",
    "Proc",
    "attach",
    "celery",
    "database_url",
    "eventually",
    "free_port",
    "manage",
    "port_open",
    "wait_for_port",
]


def manage(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "manage.py"), *args]


def celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "kloros_site", *args]


def attach(node: pytest.Item, proc: Proc) -> Proc:
    """Show `proc`'s log when the test `node` fails."""
    node.stash.setdefault(CHILDREN, []).append(proc)
    return proc


def children(item: pytest.Item) -> list[Proc]:
    """The children a test started, and the session's it asked for through its fixtures."""
    found = list(item.stash.get(CHILDREN, []))
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, Proc) and value not in found:
            found.append(value)
    return found


def database_url(settings_dict: dict[str, Any]) -> str:
    """A DATABASE_URL naming the database the tests actually use (the test database)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{settings_dict.get('HOST') or '127.0.0.1'}{port}/{settings_dict['NAME']}"


class PrivateStack:
    """Workers and a watcher on an analysis queue of their own, so a test can change their settings
    (bound, memory limits, bus URL) without the session worker taking its tasks."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, node: pytest.Item) -> None:
        self.name = name
        self.queue = f"analysis-{name}"
        self.env = {**env, "KLR_ANALYSIS_QUEUE": self.queue}
        self.log_dir = log_dir
        self.node = node
        self.root = log_dir / f"{name}-tree"
        self.root.mkdir()
        self.processes: list[Proc] = []
        self._delete_queue()

    def _delete_queue(self) -> None:
        """Its bound is a RabbitMQ argument: a queue left by another run with another bound must go."""
        from django.conf import settings
        from kombu import Connection

        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        with Connection(settings.CELERY_BROKER_URL, transport_options=options) as conn, suppress(Exception):
            conn.default_channel.queue_delete(self.queue)

    def _start(self, name: str, argv: list[str], ready: str, env: dict[str, str] | None = None) -> Proc:
        proc = attach(self.node, Proc(name, argv, {**self.env, **(env or {})}, self.log_dir, cwd=REPO))
        self.processes.append(proc)
        proc.wait_for(ready, timeout=60)
        return proc

    def start_worker(self, concurrency: int = 1, queues: str | None = None, **env: str) -> Proc:
        """A worker on this stack's analysis queue (or `queues`), with `env` on top of the stack's."""
        n = sum(p.name.startswith(f"{self.name}-worker") for p in self.processes)
        argv = celery(
            "worker",
            f"--concurrency={concurrency}",
            f"--hostname={self.name}{n}@%h",
            "--without-mingle",
            "--without-gossip",
            f"--queues={queues or self.queue}",
            "--loglevel=INFO",
        )
        return self._start(f"{self.name}-worker-{n}", argv, "ready.", env)

    def start_beat(self) -> Proc:
        """celery beat with the in-memory scheduler (no schedule file), as deployed."""
        argv = celery("beat", "--scheduler=celery.beat:Scheduler", "--loglevel=INFO")
        return self._start(f"{self.name}-beat", argv, "beat: Starting")

    def start_watcher(self) -> Proc:
        return self._start(f"{self.name}-watcher", manage("watch", str(self.root)), "watching ")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop(timeout=15)


class Listener:
    """`manage.py chembus listen` in a child process, collecting its JSON lines."""

    def __init__(self, pattern: str, env: dict[str, str], name: str | None = None) -> None:
        self.pattern = pattern
        self.name = name
        self.popen = subprocess.Popen(
            manage("chembus", "listen", pattern, *(["--name", name] if name else [])),
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.messages: list[dict] = []
        self.errors: list[str] = []
        assert self.popen.stderr
        for line in self.popen.stderr:
            self.errors.append(line)
            if line.startswith("listening on"):
                break
        else:
            raise AssertionError(f"chembus listen failed: {''.join(self.errors)}")
        for target in (self._read, self._drain_errors):
            threading.Thread(target=target, daemon=True).start()

    def _drain_errors(self) -> None:
        assert self.popen.stderr
        self.errors.extend(self.popen.stderr)

    def _read(self) -> None:
        assert self.popen.stdout
        for line in self.popen.stdout:
            if line.strip():
                self.messages.append(json.loads(line))

    def delete_queue(self) -> None:
        from kloros_site.chembus import ChemSub

        ChemSub(self.pattern, name=self.name).unsubscribe()

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
