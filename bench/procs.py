"""Child processes and polling, shared by the bench runs and the tests (tests/harness.py).

A child runs in its own session, logs to a file, and is always stopped; waiting means polling a
condition (its log, a port, a table), never sleeping a fixed time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psutil

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
PYTHON = str(REPO / ".venv" / "bin" / "python")
# The product code the children run: a snapshot of one commit (see stack.snapshot), so edits
# others make to the working tree during a run cannot change the code under measurement.
SOURCE = [REPO]


def manage(*args: str) -> list[str]:
    return [PYTHON, str(SOURCE[0] / "manage.py"), *args]


def celery(*args: str) -> list[str]:
    return [PYTHON, "-m", "celery", "-A", "kloros_site", *args]


class NotReached(AssertionError, TimeoutError):
    """A condition polled for did not come true in time (a failed assertion in a test)."""


class Exited(AssertionError, RuntimeError):
    """A child exited while something was still expected of it."""


def eventually(check: Callable[[], T], timeout: float = 30, message: str = "", interval: float = 0.05) -> T:
    """Poll `check` until it returns something truthy and return that; NotReached after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise NotReached(message or f"condition not met within {timeout:.0f} s")
        time.sleep(interval)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def wait_for_port(port: int, host: str = "127.0.0.1", *, is_open: bool = True, timeout: float = 60) -> None:
    """Until something listens on host:port (or, with is_open=False, nothing does any more)."""
    state = "open" if is_open else "closed"
    eventually(
        lambda: port_open(port, host) == is_open, timeout, f"{host}:{port} not {state} after {timeout:.0f} s"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proc:
    """A long-running child (worker, watcher, Flower) whose output goes to a log file."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log_dir: Path, cwd: Path | None = None
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("w")
        # its own session, so stopping it also reaches pool children if the parent hangs
        self.popen = subprocess.Popen(
            argv,
            cwd=cwd or SOURCE[0],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.ps = psutil.Process(self.popen.pid)

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_for(self, text: str, timeout: float = 120, start: int = 0) -> float:
        """Wait until `text` shows up in the log after offset `start`; returns time.monotonic() then."""

        def printed() -> bool:
            if text in self.output()[start:]:
                return True
            if not self.alive():
                raise Exited(f"{self.name} exited {self.popen.returncode}:\n{self.output()[-3000:]}")
            return False

        eventually(printed, timeout, f"{self.name} did not print {text!r}:\n{self.output()[-3000:]}", 0.005)
        return time.monotonic()

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, no acknowledgement, as in a crash."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def children(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.Error):
            return self.ps.children(recursive=True)
        return []

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM and wait up to `timeout` s, then SIGKILL; the pool children go with it."""
        if self._log.closed:
            return
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        # pool children of a worker that died first must not outlive the run
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self._log.close()


def tree_cpu(procs: list[psutil.Process]) -> float:
    """CPU seconds (user + system) of these processes and their live and reaped descendants."""
    total = 0.0
    seen: set[int] = set()
    for root in procs:
        with contextlib.suppress(psutil.Error):
            family = [root, *root.children(recursive=True)]
            for proc in family:
                if proc.pid in seen:
                    continue
                seen.add(proc.pid)
                with contextlib.suppress(psutil.Error):
                    t = proc.cpu_times()
                    # children_*: pool processes that were replaced and reaped still count
                    total += t.user + t.system + t.children_user + t.children_system
    return total


def server_cpu_snapshot() -> dict[int, float]:
    """{pid: CPU seconds} of the PostgreSQL and Redis server processes right now."""
    found: dict[int, float] = {}
    for proc in psutil.process_iter(["name"]):
        if (proc.info["name"] or "").startswith(("postgres", "redis-server")):
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                found[proc.pid] = t.user + t.system
    return found


def server_cpu_since(before: dict[int, float]) -> float:
    """Server CPU used since `before`, counting backends started meanwhile from zero.

    Backends that connected and exited in between are missed: a lower bound.
    """
    now = server_cpu_snapshot()
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())


def run_timed(argv: list[str], env: dict[str, str], timeout: float, log: Path) -> dict[str, float | int]:
    """Run a one-shot command; wall seconds and CPU seconds of it and its children (rusage)."""
    before = os.times()
    started = time.perf_counter()
    with log.open("w") as out:
        try:
            code = subprocess.run(
                argv, cwd=SOURCE[0], env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            code = -1
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {"wall_s": wall, "cpu_s": cpu, "exit": code}
