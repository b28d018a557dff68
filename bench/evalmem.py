"""Memory of one process through extraction and a tree's evaluation (issue 11), in this process:
record the files of a generated tree in batches of 16 (as a backlog's tasks do; no evaluation
in between), then `evaluation.evaluate_tree`. RSS from /proc/self/status, tracemalloc's peak
during the evaluation, the evaluation's wall and CPU time and its SQL statements (publishing on
ChemBus included: run with the broker of your stack, e.g. CELERY_BROKER_URL=redis://...).

    DATABASE_URL=postgres://... .venv/bin/python -m bench.evalmem --files 1200 10000
    DATABASE_URL=postgres://... .venv/bin/python -m bench.evalmem --switch 3

--switch N: the evaluation of a branch switch instead (bench/run.sh branch's Django 5.1 -> 5.2,
284 changed files), N times: 5.1 recorded and evaluated, then 5.2's changed files recorded and
that evaluation measured, on a fresh tree each time.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import re
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import trees


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def backend_cpu(pid: int) -> float:
    """CPU seconds of a local process (0 if there is none: SQLite)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class StatementTimes:
    """Wall time spent in each shape of statement (its text up to the first parenthesis or value),
    rows fetched later through a cursor not included."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.count: dict[str, int] = {}

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        shape = re.sub(r"\s+", " ", re.split(r"%s|\(|\bIN\b|= ANY", sql, maxsplit=1)[0])[:90]
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds[shape] = self.seconds.get(shape, 0.0) + time.perf_counter() - started
            self.count[shape] = self.count.get(shape, 0) + 1

    def top(self, n: int = 12) -> list[tuple[str, int, float]]:
        ranked = sorted(self.seconds, key=self.seconds.__getitem__, reverse=True)[:n]
        return [(shape, self.count[shape], round(self.seconds[shape], 2)) for shape in ranked]


def measure(files: int, work: Path, trace: bool, statements: bool = False) -> dict:
    from django.db import connection

    from bench.queries import QueryCounter
    from kloros_site.analysis import evaluation
    from kloros_site.analysis.messages import FileVersion, sha256
    from kloros_site.analysis.models import Tree
    from kloros_site.analysis.services import record_batch
    from monitors.scan import iter_source_files

    root = trees.generated(work, files, name=f"gen{files}")
    Tree.objects.filter(path=str(root)).delete()
    versions = []
    for rel, path in sorted(iter_source_files(root)):
        data = path.read_bytes()
        versions.append(
            FileVersion(
                root=str(root), path=rel, seq=time.time_ns(), sha256=sha256(data), size=len(data), data=data
            )
        )
    gc.collect()
    figures: dict = {"files": files, "rss_start": rss_mb()}
    for i in range(0, len(versions), 16):
        record_batch(versions[i : i + 16], lambda tree_id: None)
        if i // 16 == 1000 // 16:
            gc.collect()
            figures["rss_after_1000_extracted"] = rss_mb()
    del versions
    gc.collect()
    figures["rss_extracted"] = rss_mb()
    tree = Tree.objects.get(path=str(root))
    counter = QueryCounter()
    if trace:
        tracemalloc.start()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0")
        backend = cursor.fetchone()[0]
    started, cpu, server = time.perf_counter(), time.process_time(), backend_cpu(backend)
    times = StatementTimes()
    with ExitStack() as wrapped:
        wrappers: list[Callable[..., Any]] = [counter, times] if statements else [counter]
        for wrapper in wrappers:
            wrapped.enter_context(connection.execute_wrapper(wrapper))
        evaluation.evaluate_tree(tree.pk)
    figures["evaluation_s"] = round(time.perf_counter() - started, 2)
    # CPU, steadier than wall time on a machine shared with other runs: this process's, and that
    # of the PostgreSQL backend serving its connection (the server on this machine)
    figures["evaluation_cpu_s"] = round(time.process_time() - cpu, 2)
    figures["server_cpu_s"] = round(backend_cpu(backend) - server, 2)
    if trace:
        figures["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    figures["queries"] = counter.count
    if statements:
        figures["statements_s"] = times.top()
    figures["rss_peak_so_far"] = hwm_mb()
    figures["rss_evaluated"] = rss_mb()
    gc.collect()
    figures["rss_after_gc"] = rss_mb()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    figures["rss_after_trim"] = rss_mb()
    Tree.objects.filter(pk=tree.pk).delete()
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()}


def versions_of(root: Path, stored: dict[str, str]) -> list:
    """Versions of the files under root that differ from `stored` (path -> sha256), deletions too."""
    from kloros_site.analysis.messages import FileVersion, sha256
    from monitors.scan import iter_source_files

    found, seen = [], set()
    for rel, path in sorted(iter_source_files(root)):
        data = path.read_bytes()
        seen.add(rel)
        if stored.get(rel) != (digest := sha256(data)):
            found.append(
                FileVersion(
                    root=str(root), path=rel, seq=time.time_ns(), sha256=digest, size=len(data), data=data
                )
            )
    gone = sorted(set(stored) - seen)
    return found + [FileVersion(root=str(root), path=rel, seq=time.time_ns(), deleted=True) for rel in gone]


def measure_switch(work: Path, statements: bool = False) -> dict:
    import subprocess

    from django.db import connection

    from bench.branch import repository
    from bench.queries import QueryCounter
    from kloros_site.analysis import evaluation
    from kloros_site.analysis.models import SourceFile, Tree
    from kloros_site.analysis.services import record_batch

    repo, (old, new) = repository()
    root = work / "switch"
    Tree.objects.filter(path=str(root)).delete()
    for tag in (old, new):
        subprocess.run(["rm", "-rf", str(root)], check=True)
        root.mkdir()
        archive = subprocess.run(["git", "-C", str(repo), "archive", tag], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
        stored = dict(
            SourceFile.objects.filter(tree__path=str(root)).exclude(sha256="").values_list("path", "sha256")
        )
        versions = versions_of(root, stored)
        for i in range(0, len(versions), 16):
            record_batch(versions[i : i + 16], lambda tree_id: None)
        tree = Tree.objects.get(path=str(root))
        counter, times = QueryCounter(), StatementTimes()
        started, cpu = time.perf_counter(), time.process_time()
        with ExitStack() as wrapped:
            wrappers: list[Callable[..., Any]] = [counter, times] if statements else [counter]
            for wrapper in wrappers:
                wrapped.enter_context(connection.execute_wrapper(wrapper))
            written = evaluation.evaluate_tree(tree.pk)
    figures = {"switch": f"{old} -> {new}", "files": len(versions), "transitions": written}
    figures["evaluation_s"] = round(time.perf_counter() - started, 2)
    figures["evaluation_cpu_s"] = round(time.process_time() - cpu, 2)
    figures["queries"] = counter.count
    if statements:
        figures["statements_s"] = times.top()
    Tree.objects.filter(pk=tree.pk).delete()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, nargs="+", default=[1200])
    parser.add_argument("--trace", action="store_true", help="tracemalloc peak (slows the evaluation)")
    parser.add_argument("--switch", type=int, default=0, help="times to measure a branch switch's evaluation")
    parser.add_argument(
        "--statements", action="store_true", help="the evaluation's slowest kinds of statement"
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kloros_site.settings")
    import django

    django.setup()
    with tempfile.TemporaryDirectory() as work:
        for _ in range(args.switch):
            print(json.dumps(measure_switch(Path(work), args.statements)), flush=True)
        for files in [] if args.switch else args.files:
            print(json.dumps(measure(files, Path(work), args.trace, args.statements)), flush=True)


if __name__ == "__main__":
    main()
