"""Shared fixtures. The stack under test is whatever the environment configures (see test.sh):
embedded (SQLite + filesystem broker), PostgreSQL + Redis, or PostgreSQL + RabbitMQ.

The helpers themselves live in modules (tests/harness.py, bench/procs.py); this file only
turns them into fixtures. `tests` is a package and the repository root is on sys.path
(pyproject: pythonpath), so everything is imported as `tests.…`, `bench.…`, `kloros_site.…`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from tests.harness import (
    REPO,
    Listener,
    PrivateStack,
    Proc,
    attach,
    celery,
    children,
    database_url,
    eventually,
    manage,
)


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test shows the tail of the logs of the children it used, and only those."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for process in children(item):
            report.sections.append((f"{process.name} log (tail)", process.output()[-6000:]))


@pytest.fixture(scope="session")
def purged_broker(stack_env) -> None:
    """Start from empty task queues: a previous run's leftovers must not leak into this one.
    What `celery purge -f` does, in this process: the command would cost a second of start-up."""
    from kloros_site.celery import app

    with app.connection_for_write() as conn:
        for queue in app.amqp.queues:
            with suppress(*conn.channel_errors):  # a queue never declared has nothing to purge
                conn.default_channel.queue_purge(queue)


@pytest.fixture(scope="session")
def worker_process(stack_env, purged_broker, tmp_path_factory) -> Iterator[Proc]:
    """The session's worker, started and not waited for (see `worker`)."""
    process = Proc(
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
        cwd=REPO,
    )
    try:
        yield process
    finally:
        # the session is over and the worker idle: a warm shutdown would only wait out its
        # consumer's polls (5-10 s on the embedded broker) with nothing left to finish
        process.kill()
        process.stop()


@pytest.fixture(scope="session")
def worker(worker_process) -> Proc:
    """The session's worker, ready for tasks."""
    worker_process.wait_for("ready.", timeout=60)
    return worker_process


NEEDS_WORKER = pytest.StashKey[bool]()


def pytest_collection_modifyitems(config, items) -> None:
    config.stash[NEEDS_WORKER] = any("worker" in item.fixturenames for item in items)


@pytest.fixture(autouse=True)
def worker_starts_early(request) -> None:
    """A worker takes seconds to start: when some test of this run needs one, it is started with
    the first test that has a database, and gets ready while the tests before it run."""
    uses_database = request.node.get_closest_marker("django_db") or "django_db_setup" in request.fixturenames
    if request.config.stash.get(NEEDS_WORKER, False) and uses_database:
        request.getfixturevalue("worker_process")


@pytest.fixture
def private_stack(request, stack_env, purged_broker, tmp_path) -> Iterator[Callable[..., PrivateStack]]:
    stacks: list[PrivateStack] = []

    def make(name: str, **env: str) -> PrivateStack:
        stack = PrivateStack(name, {**stack_env, **env}, tmp_path, request.node)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()


@pytest.fixture
def start_watcher(request, stack_env, tmp_path) -> Iterator[Callable[[Path], Proc]]:
    started: list[Proc] = []

    def start(root: Path) -> Proc:
        process = Proc(f"watcher-{len(started)}", manage("watch", str(root)), stack_env, tmp_path, cwd=REPO)
        started.append(attach(request.node, process))
        process.wait_for("watching ", timeout=60)
        return process

    yield start
    for process in started:
        process.stop(timeout=15)


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


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Users made by tests (admin_client, logins) get a cheap hash instead of 10^6 PBKDF2 rounds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def wait_until() -> Callable[..., object]:
    return eventually
