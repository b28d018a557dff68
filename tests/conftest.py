"""Shared fixtures. The stack under test is whatever the environment configures (see test.sh):
embedded (SQLite + filesystem broker), PostgreSQL + Redis, or PostgreSQL + RabbitMQ."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

import pytest

REPO = Path(__file__).resolve().parent.parent


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL naming the database the tests actually use (the test database)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{settings_dict.get('HOST') or '127.0.0.1'}{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def stack_env(django_db_setup, django_db_blocker) -> dict[str, str]:
    """Environment for child processes: same broker and state folder, the test database."""
    from django.conf import settings
    from django.db import connection

    env = dict(os.environ)
    env["DATABASE_URL"] = database_url(connection.settings_dict)
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["KLR_STATE_DIR"] = str(settings.STATE_DIR)
    env["PYTHONUNBUFFERED"] = "1"
    env["DJANGO_SETTINGS_MODULE"] = "kloros_site.settings"
    return env


RUNNING: list[Process] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test shows the tail of every child process's log."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for process in RUNNING:
            report.sections.append((f"{process.name} log (tail)", process.output()[-6000:]))


class Process:
    """A real child process whose output is kept in a log file for the failure message."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        RUNNING.append(self)
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = self.log_path.open("w")
        # its own process group, so a test can SIGKILL a worker together with its pool children
        self.popen = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, no acknowledgement, as in a crash."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.popen.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not print {text!r}:\n{self.output()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self in RUNNING:
            RUNNING.remove(self)
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.log.close()


def manage(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "manage.py"), *args]


def celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "kloros_site", *args]


@pytest.fixture(scope="session")
def purged_broker(stack_env) -> None:
    """Start from empty task queues: a previous run's leftovers must not leak into this one."""
    subprocess.run(celery("purge", "-f"), env=stack_env, check=True, capture_output=True, cwd=REPO)


@pytest.fixture(scope="session")
def worker(stack_env, purged_broker, tmp_path_factory) -> Iterator[Process]:
    process = Process(
        "worker",
        celery(
            "worker",
            "--concurrency=2",
            "--loglevel=INFO",
            "--hostname=test-worker@%h",
            "--without-mingle",
            "--without-gossip",
        ),
        stack_env,
        tmp_path_factory.mktemp("worker"),
    )
    try:
        process.wait_for("ready.")
        yield process
    finally:
        process.stop()


class PrivateStack:
    """Workers and a watcher on an analysis queue of their own, so a test can change their settings
    (bound, memory limits, bus URL) without the session worker taking its tasks."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.queue = f"analysis-{name}"
        self.env = {**env, "KLR_ANALYSIS_QUEUE": self.queue}
        self.log_dir = log_dir
        self.root = log_dir / f"{name}-tree"
        self.root.mkdir()
        self.processes: list[Process] = []
        self._delete_queue()

    def _delete_queue(self) -> None:
        """Its bound is a RabbitMQ argument: a queue left by another run with another bound must go."""
        from django.conf import settings
        from kombu import Connection

        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        with Connection(settings.CELERY_BROKER_URL, transport_options=options) as conn, suppress(Exception):
            conn.default_channel.queue_delete(self.queue)

    def start_worker(self, concurrency: int = 1, queues: str | None = None, **env: str) -> Process:
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
        process = Process(f"{self.name}-worker-{n}", argv, {**self.env, **env}, self.log_dir)
        self.processes.append(process)
        process.wait_for("ready.")
        return process

    def start_beat(self) -> Process:
        """celery beat with the in-memory scheduler (no schedule file), as deployed."""
        argv = celery("beat", "--scheduler=celery.beat:Scheduler", "--loglevel=INFO")
        process = Process(f"{self.name}-beat", argv, self.env, self.log_dir)
        self.processes.append(process)
        process.wait_for("beat: Starting")
        return process

    def start_watcher(self) -> Process:
        process = Process(f"{self.name}-watcher", manage("watch", str(self.root)), self.env, self.log_dir)
        self.processes.append(process)
        process.wait_for("watching ")
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@pytest.fixture
def private_stack(stack_env, purged_broker, tmp_path) -> Iterator[Callable[..., PrivateStack]]:
    stacks: list[PrivateStack] = []

    def make(name: str, **env: str) -> PrivateStack:
        stack = PrivateStack(name, {**stack_env, **env}, tmp_path)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()


@pytest.fixture
def start_watcher(stack_env, tmp_path) -> Iterator[Callable[[Path], Process]]:
    started: list[Process] = []

    def start(root: Path) -> Process:
        process = Process(f"watcher-{len(started)}", manage("watch", str(root)), stack_env, tmp_path)
        started.append(process)
        process.wait_for("watching ")
        return process

    yield start
    for process in started:
        process.stop()


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


@pytest.fixture
def listen(stack_env) -> Iterator[Callable[[str], Listener]]:
    listeners: list[Listener] = []

    def start(pattern: str) -> Listener:
        listener = Listener(pattern, stack_env)
        listeners.append(listener)
        return listener

    yield start
    for listener in listeners:
        listener.stop()


def eventually(check: Callable[[], object], timeout: float = 30, message: str = "") -> object:
    """Poll until `check` returns something truthy; fail with `message` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s")
        time.sleep(0.05)


@pytest.fixture
def wait_until() -> Callable[..., object]:
    return eventually
