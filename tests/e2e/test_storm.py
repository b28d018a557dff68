"""Storms of creates, edits, moves and deletes through real watcher and worker processes.

After the system goes quiet, the stored questions must equal a batch scan of the tree as it
then stands, every file must be accounted for, and the analysis queue must never have held
more than its bound — with a worker SIGKILLed mid-storm, the broker restarted mid-storm, or
the PostgreSQL server restarted mid-storm.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from kombu import Connection

from kloros_site.analysis import evaluation
from kloros_site.analysis.models import DeadLetter, PendingFile, Question, SourceFile
from kloros_site.analysis.reader import read_version
from monitors import scan_tree
from tests.harness import children, eventually, wait_for_port

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BOUND = 40
CHANNELS = [f"curiosity.c{i}" for i in range(6)]


def module_source(rng: random.Random, modules: list[str]) -> str:
    lines = []
    for _ in range(rng.randint(0, 2)):
        target = rng.choice(modules + ["pkg_missing.nowhere"])
        lines.append(f"import {target}")
    lines.append("")
    for _ in range(rng.randint(0, 3)):
        channel = rng.choice(CHANNELS)
        call = rng.choice(
            [
                'ChemPub().emit("{c}")',
                'ChemSub("{c}")',
                'ChemSub(topic="{c}")',
                'ChemPub().publish(signal="{c}")',
            ]
        )
        lines.append(call.format(c=channel))
    if rng.random() < 0.2:
        lines.append('ChemSub("curiosity.*")')
    for i in range(rng.randint(0, 2)):
        lines += [
            f"def helper_{rng.randint(0, 5)}_{i}(a, b):",
            "    total = a + b",
            "    total *= 2",
            "    return total",
        ]
    if rng.random() < 0.1:
        lines.append("def broken(:")
    return "\n".join(lines) + "\n"


class Tree:
    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.files: list[Path] = []

    def modules(self) -> list[str]:
        return [p.relative_to(self.root).with_suffix("").as_posix().replace("/", ".") for p in self.files]

    def new_path(self) -> Path:
        folder = self.root / self.rng.choice(["", "pkg_a", "pkg_b", "pkg_b/sub"])
        return folder / f"m{self.rng.randrange(10_000)}.py"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(self.root).parents:
            if str(parent) != "." and not (self.root / parent / "__init__.py").exists():
                (self.root / parent / "__init__.py").write_text("")
        path.write_text(module_source(self.rng, self.modules()))
        if path not in self.files:
            self.files.append(path)

    def step(self) -> None:
        roll = self.rng.random()
        if not self.files or roll < 0.2:
            self.write(self.new_path())
        elif roll < 0.65:
            self.write(self.rng.choice(self.files))
        elif roll < 0.8:
            victim = self.rng.choice(self.files)
            victim.unlink()
            self.files.remove(victim)
        else:
            source = self.rng.choice(self.files)
            target = self.new_path()
            if target.exists():
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            source.rename(target)  # as an editor or `git mv` does
            self.files[self.files.index(source)] = target


class DepthProbe(threading.Thread):
    """Samples the storm queue's depth on the broker the whole time."""

    def __init__(self, queue: str) -> None:
        super().__init__(daemon=True)
        self.queue = queue
        self.samples: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with Connection(
            settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS
        ) as conn:
            while not self.stop.is_set():
                try:
                    channel = conn.channel()
                    try:
                        self.samples.append(
                            channel.queue_declare(queue=self.queue, passive=True).message_count
                        )
                    finally:
                        channel.close()
                except Exception:
                    conn.ensure_connection(max_retries=50, interval_start=0.2, interval_max=1)
                time.sleep(0.02)


@pytest.fixture
def storm(private_stack):
    stack = private_stack("storm", KLR_QUEUE_BOUND=str(BOUND), KLR_REDISPATCH_AFTER="5")
    workers = [stack.start_worker(), stack.start_worker()]
    stack.start_watcher()
    probe = DepthProbe(stack.queue)
    probe.start()
    yield stack.root, workers, stack.start_worker, probe
    probe.stop.set()


def settle(root: Path) -> None:
    """Quiet: nothing pending, and every file on disk stored with its current content."""
    from kloros_site.analysis.messages import sha256

    def files() -> tuple[dict[str, str], dict[str, str]]:
        on_disk = {p.relative_to(root).as_posix(): sha256(p.read_bytes()) for p in root.rglob("*.py")}
        stored = dict(SourceFile.objects.exclude(status="deleted").values_list("path", "sha256"))
        return on_disk, stored

    def quiet() -> bool:
        if PendingFile.objects.exists() or not evaluation.evaluated():
            return False
        on_disk, stored = files()
        return on_disk == stored

    try:
        eventually(quiet, timeout=300)
    except AssertionError:
        # what is behind, so a failure says where the pipeline stopped
        on_disk, stored = files()
        lag = {
            "pending": list(PendingFile.objects.values_list("path", "dispatched_at", "attempts")[:10]),
            "evaluated": evaluation.evaluated(),
            "not stored as on disk": sorted(p for p in on_disk if stored.get(p) != on_disk[p])[:10],
            "stored, not on disk": sorted(stored.keys() - on_disk.keys())[:10],
        }
        raise AssertionError(f"the pipeline did not catch up with the tree: {lag}") from None


def assert_matches_batch_scan(root: Path) -> None:
    store, errors = scan_tree(root)
    batch = {q.id: (q.hypothesis, list(q.evidence), q.question) for q in store.all_questions().values()}
    stored = {q.qid: (q.hypothesis, q.evidence, q.question) for q in Question.objects.open()}
    missing = batch.keys() - stored.keys()
    extra = stored.keys() - batch.keys()
    assert not missing and not extra, (
        f"missing: {[batch[k] for k in missing]}\nextra: {[stored[k] for k in extra]}"
    )
    assert stored == batch
    failed = dict(SourceFile.objects.filter(status="failed").values_list("path", "reason"))
    assert failed == {path: error.reason for path, error in errors.items()}


def run_storm(root: Path, seed: int, operations: int, midway=None) -> None:
    tree = Tree(root, seed)
    for i in range(operations):
        tree.step()
        if midway and i == operations // 2:
            midway()


@pytest.mark.parametrize("seed", [1, 2])
def test_storm_ends_equal_to_a_batch_scan_and_the_queue_stays_bounded(storm, seed):
    root, workers, start_worker, probe = storm
    run_storm(root, seed, 1000)
    settle(root)
    assert_matches_batch_scan(root)
    assert probe.samples and max(probe.samples) <= BOUND
    assert Question.objects.open().exists()  # the storm asked something: the comparison was not vacuous


def test_a_worker_killed_mid_storm_loses_nothing(storm):
    root, workers, start_worker, probe = storm

    def crash() -> None:
        workers[0].kill()
        start_worker()

    run_storm(root, 3, 1000, midway=crash)
    settle(root)
    assert_matches_batch_scan(root)
    assert max(probe.samples) <= BOUND


def restart_redis(host: str, port: int) -> None:
    """Stop the test Redis and start it again as it ran: its folder, log file and binding come from
    the server itself (CONFIG GET), not from this machine's layout."""
    cli = ["redis-cli", "-h", host, "-p", str(port)]
    names = ("dir", "logfile", "bind", "save", "appendonly")
    config = {}
    for name in names:
        reply = subprocess.run([*cli, "config", "get", name], check=True, capture_output=True, text=True)
        config[name] = reply.stdout.splitlines()[1] if reply.stdout.count("\n") > 1 else ""
    subprocess.run([*cli, "shutdown", "nosave"], capture_output=True)
    wait_for_port(port, host, is_open=False, timeout=30)
    argv = ["redis-server", "--daemonize", "yes", "--port", str(port)]
    for name in names:
        if name == "bind":
            argv += ["--bind", *config[name].split()]
        else:
            argv += [f"--{name}", config[name]]
    subprocess.run(argv, check=True)
    wait_for_port(port, host, timeout=60)


def restart_rabbitmq(host: str, port: int) -> None:
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True)
    wait_for_port(port, host, is_open=False, timeout=60)
    subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True)
    wait_for_port(port, host, timeout=120)


def restart_broker() -> None:
    url = urlsplit(settings.CELERY_BROKER_URL)
    host = url.hostname or "127.0.0.1"
    if url.scheme.startswith("redis"):
        restart_redis(host, url.port or 6379)
    else:
        restart_rabbitmq(host, url.port or 5672)


@pytest.mark.skipif(
    settings.CELERY_BROKER_URL.startswith("filesystem"),
    reason="the embedded broker is a folder: there is no server to restart",
)
def test_a_broker_restart_mid_storm_loses_nothing(storm, worker):
    from kloros_site.analysis.enqueue import dispatch, queue_depth

    root, workers, start_worker, probe = storm
    queue_depth()  # this process now holds a pooled broker connection, as a web process would
    run_storm(root, 4, 1000, midway=restart_broker)
    settle(root)
    assert_matches_batch_scan(root)

    # the pooled connection died with the broker: the next send must reconnect, not fail
    (root / "after_restart.py").write_text("x = 1\n")
    dispatch(read_version(root, root / "after_restart.py", 10_000))
    eventually(lambda: SourceFile.objects.filter(path="after_restart.py").exists())


def restart_postgresql(host: str, port: str) -> None:
    """Restart the server (a fast shutdown: every connection of every process is dropped) and
    poll until it accepts connections again."""
    version = max(
        (p.name for p in Path("/etc/postgresql").iterdir()), key=lambda v: tuple(map(int, v.split(".")))
    )
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    ready = ["pg_isready", "-q", "-h", host, "-p", port]
    eventually(lambda: subprocess.run(ready, timeout=30).returncode == 0, 120, "PostgreSQL did not come back")


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the embedded stack's database is a SQLite file: there is no server to restart",
)
def test_a_postgres_restart_mid_storm_loses_nothing(storm, request):
    from django.db import connection

    root, workers, start_worker, probe = storm
    server = (connection.settings_dict["HOST"] or "127.0.0.1", str(connection.settings_dict["PORT"] or 5432))
    failed: list[BaseException] = []

    def restart_server() -> None:
        try:
            restart_postgresql(*server)
        except BaseException as exc:  # re-raised below, on the test's own thread
            failed.append(exc)

    restart = threading.Thread(target=restart_server)
    tree = Tree(root, 5)
    for i in range(1500):
        tree.step()
        if i == 500:
            restart.start()  # the storm goes on while the server goes down and comes back
        elif i == 1000:
            restart.join()  # and its last third is written after it is back
    restart.join()
    if failed:
        raise failed[0]
    connection.close()  # this process's own connection died with the server too

    settle(root)
    assert_matches_batch_scan(root)
    assert max(probe.samples) <= BOUND
    # nobody gave up on a file because the database was away for a moment, and nobody crashed
    assert list(DeadLetter.objects.values_list("path", "error")) == []
    assert [p.name for p in children(request.node) if not p.alive()] == []
