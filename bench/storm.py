"""Memory during a 10,000-file storm (each worker child, the watcher) and CPU of the idle stack."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import psutil

from bench import trees
from bench.procs import Proc, server_cpu_since, server_cpu_snapshot, tree_cpu
from bench.stack import Stack, backlog, drained, wait

STORM_FILES = 10_000
DRAIN_TIMEOUT = 600.0  # bounded: a slower drain is reported as how far it got


class RssSampler(threading.Thread):
    """RSS (MB) of the watcher and of every worker pool child, every half second."""

    def __init__(self, watcher: Proc, workers: list[Proc]) -> None:
        super().__init__(name="bench-rss", daemon=True)
        self.watcher = watcher
        self.workers = workers
        self.samples: list[dict[str, Any]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self.stop.wait(0.5):
            sample: dict[str, Any] = {"t": time.monotonic() - start}
            with contextlib.suppress(psutil.Error):
                sample["watcher"] = self.watcher.ps.memory_info().rss / 2**20
            for i, worker in enumerate(self.workers):
                with contextlib.suppress(psutil.Error):
                    sample[f"worker{i}-main"] = worker.ps.memory_info().rss / 2**20
                for child in worker.children():
                    # keyed by pid: a child replaced for memory shows up as a new line
                    with contextlib.suppress(psutil.Error):
                        sample[f"worker{i}-child-{child.pid}"] = child.memory_info().rss / 2**20
            self.samples.append(sample)


def idle_cpu(procs: list[psutil.Process], seconds: float) -> dict[str, float]:
    """CPU of the stack's processes (and, for reference, the database and broker servers) while idle."""
    cpu0, srv0, t0 = tree_cpu(procs), server_cpu_snapshot(), time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    cpu, srv = tree_cpu(procs) - cpu0, server_cpu_since(srv0)
    return {
        "seconds": elapsed,
        "stack_cpu_s": cpu,
        "stack_cpu_pct": cpu / elapsed * 100,  # of one core
        "servers_cpu_s": srv,
        "servers_cpu_pct": srv / elapsed * 100,
    }


def run(stack: Stack, idle_seconds: float) -> dict[str, Any]:
    root = stack.work / "trees" / "storm"
    root.mkdir(parents=True)
    workers = stack.workers(2)
    watcher = stack.watcher(root)
    procs = [w.ps for w in workers] + [watcher.ps]
    # the stack's own idle CPU, before it has seen anything
    print(f"[rss] idle {idle_seconds:g} s before the storm", flush=True)
    idle_before = idle_cpu(procs, idle_seconds)
    print(f"[rss]   {idle_before}", flush=True)
    sampler = RssSampler(watcher, workers)
    sampler.start()
    backlog_samples: list[dict[str, float]] = []
    try:
        started = time.monotonic()
        # written as fast as the disk allows: the watcher has to coalesce and bound the queue
        trees.generated(stack.work / "trees", STORM_FILES, seed=11, name="storm")
        wrote_s = time.monotonic() - started
        print(f"[rss] wrote {STORM_FILES} files in {wrote_s:.1f} s", flush=True)

        def settled() -> bool:
            b = backlog()
            backlog_samples.append({"t": time.monotonic() - started, **b})
            return b["pending"] == 0 and b["queue"] == 0 and b["outbox"] == 0 and drained()

        try:
            wait(settled, DRAIN_TIMEOUT, 2.0, "storm analyzed")
            drain_s: float | None = time.monotonic() - started
        except TimeoutError:
            drain_s = None  # not drained in time: the RSS series still covers the whole window
    finally:
        sampler.stop.set()
        sampler.join(5)
    from kloros_site.analysis.models import SourceFile

    stored = SourceFile.objects.filter(tree__path=str(root)).count()
    print(f"[rss] storm drained after {drain_s} s, {stored} files stored", flush=True)
    idle_after = None
    if drain_s is not None:  # idle only means something once the storm is done
        print(f"[rss] idle {idle_seconds:g} s after the storm", flush=True)
        idle_after = idle_cpu(procs, idle_seconds)
        print(f"[rss]   {idle_after}", flush=True)
    return {
        "files": STORM_FILES,
        "stored": stored,
        "write_s": wrote_s,
        "drain_s": drain_s,
        "rss": sampler.samples,
        "backlog": backlog_samples,
        "idle_before": idle_before,
        "idle_after": idle_after,
        "max_rss_mb": {
            name: max(s[name] for s in sampler.samples if name in s)
            for name in {k for s in sampler.samples for k in s if k != "t"}
        },
    }
