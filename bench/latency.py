"""Event-to-question latency: a file saved -> its question committed -> its ChemBus message received.

Each change creates a new file with a unique orphaned `ChemPub().emit("curiosity.bench_<tag>")`, so
it yields exactly one new ORPHANED_QUEUE question, matched back by its capability key.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from bench import stages, trees
from bench.procs import manage, run_timed, tree_cpu
from bench.results import percentile
from bench.stack import Stack, backlog, drained, wait

BASE_FILES = 500  # the watched tree is not empty: questions are evaluated against a real index
SETTLE_TIMEOUT = 240.0


class Subscriber(threading.Thread):
    """A ChemSub on its own thread, stamping each envelope with the time it arrived."""

    def __init__(self) -> None:
        super().__init__(name="bench-sub", daemon=True)
        from django.conf import settings

        from kloros_site.chembus import ChemSub

        # subscribed before the first write, so no message can be published ahead of the queue
        self.sub = ChemSub(
            "curiosity.#",
            url=settings.CHEMBUS_URL,
            transport_options=settings.CHEMBUS_TRANSPORT_OPTIONS,
            exchange=settings.CHEMBUS_EXCHANGE,
            prefetch=200,
        )
        self.received: dict[str, float] = {}  # capability key -> epoch seconds received
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            for envelope in self.sub.iter(timeout=None, stop=self.stop):
                key = envelope["facts"].get("capability_key", "")
                if key.startswith("channel.curiosity.bench_") and key not in self.received:
                    self.received[key] = time.time()
        finally:
            self.sub.close()


class BacklogProbe(threading.Thread):
    """Pending rows, queue depth, unevaluated changes and outbox every quarter second."""

    def __init__(self) -> None:
        super().__init__(name="bench-backlog", daemon=True)
        self.samples: list[dict[str, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import connection

        start = time.monotonic()
        try:
            while not self.stop.wait(0.25):
                self.samples.append({"t": time.monotonic() - start, **backlog()})
        finally:
            connection.close()


def write_changes(folder: Path, tag: str, rate: float, seconds: float) -> dict[str, float]:
    """Create round(rate*seconds) files on a fixed schedule; {capability key: epoch saved}."""
    saved: dict[str, float] = {}
    count = round(rate * seconds)
    start = time.monotonic()
    for i in range(count):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        channel = f"curiosity.bench_{tag}_{i}"
        path = folder / f"c_{tag}_{i:05d}.py"
        path.write_text(f'from bus import ChemPub\n\nChemPub().emit("{channel}")\n')
        saved[f"channel.{channel}"] = time.time()
    return saved


def committed(tree_root: Path, keys: set[str]) -> dict[str, dict[str, float]]:
    """For each key: when its OPENED transition row was created (epoch) and the file's latency_ms."""
    from kloros_site.analysis.models import SourceFile, Transition

    out: dict[str, dict[str, float]] = {}
    rows = Transition.objects.filter(
        question__tree__path=str(tree_root), kind="opened", question__capability_key__in=keys
    ).values_list("question__capability_key", "created_at", "question__evidence")
    paths: dict[str, str] = {}
    for key, created, evidence in rows:
        out.setdefault(key, {"created": created.timestamp()})
        paths[evidence[0].rsplit(":", 1)[0]] = key
    for path, latency in SourceFile.objects.filter(tree__path=str(tree_root), path__in=paths).values_list(
        "path", "latency_ms"
    ):
        if latency is not None:  # a file stored without a measured latency has no worker figure
            out[paths[path]]["worker_ms"] = latency
    return out


def current(root: Path, at_drained: dict[str, tuple]) -> dict[str, int]:
    """How the stored questions, taken when the pipeline drained, differ from a batch scan of
    the tree as it stands (no change is written after the last one, so it is the final tree)."""
    from monitors import scan_tree

    store, _ = scan_tree(root)
    batch = {q.id: (q.hypothesis, list(q.evidence), q.question) for q in store.all_questions().values()}
    return {
        "missing": len(batch.keys() - at_drained.keys()),
        "extra": len(at_drained.keys() - batch.keys()),
        "different": sum(at_drained[k] != batch[k] for k in batch.keys() & at_drained.keys()),
    }


def stored_questions(root: Path) -> dict[str, tuple]:
    from kloros_site.analysis.models import Question

    rows = Question.objects.open().filter(tree__path=str(root))
    return {qid: (h, e, q) for qid, h, e, q in rows.values_list("qid", "hypothesis", "evidence", "question")}


def throughput(root: Path, tag: str, saved: dict[str, float]) -> float:
    """The phase's files stored per second, from the first save to the last of them stored."""
    from django.db.models import Count, Max

    from kloros_site.analysis.models import SourceFile

    files = SourceFile.objects.filter(tree__path=str(root), path__contains=f"c_{tag}_", status="analyzed")
    done = files.aggregate(n=Count("id"), last=Max("analyzed_at"))
    span = done["last"].timestamp() - min(saved.values()) if done["last"] else 0.0
    return done["n"] / span if span > 0 else float("nan")


def summary(values: list[float]) -> dict[str, float]:
    def nearest_rank(q: float) -> float:
        found = percentile(values, q)
        return float("nan") if found is None else found

    return {
        "n": len(values),
        "p50": nearest_rank(50),
        "p90": nearest_rank(90),
        "p99": nearest_rank(99),
        "max": max(values) if values else float("nan"),
    }


def phase(stack: Stack, root: Path, rate: float, seconds: float, procs: list, flat: bool) -> dict[str, Any]:
    tag = f"r{int(rate)}"
    # in a folder (as in any package) or at the tree root: the watcher re-touches every file of
    # a folder whose directory-modified event it sees, except for the root (BENCHMARKS.md)
    folder = root if flat else root / f"lat_{tag}"
    folder.mkdir(exist_ok=True)
    time.sleep(1.0)  # the watcher's event for the new folder passes before the clock starts
    sub = Subscriber()
    sub.start()
    probe = BacklogProbe()
    cpu0 = tree_cpu(procs)
    probe.start()
    try:
        began = time.monotonic()
        saved = write_changes(folder, tag, rate, seconds)
        wrote_s = time.monotonic() - began
        probe_during = list(probe.samples)
        drain_s: float | None = None
        current_s: float | None = None
        at_drained: dict[str, tuple] = {}
        try:
            wait(lambda: len(sub.received) >= len(saved), SETTLE_TIMEOUT, 0.1, "every question received")
            drain_s = time.monotonic() - began - wrote_s
            # every change has been heard: from here nothing is pending but what drained() sees
            wait(drained, SETTLE_TIMEOUT, 0.02, "pipeline drained")
            current_s = time.monotonic() - began - wrote_s
            at_drained = stored_questions(root)
        except TimeoutError:
            # an overloaded pipeline is a result, not a crash: report what arrived in time
            print(f"[latency]   only {len(sub.received)}/{len(saved)} received in time", flush=True)
    finally:
        probe.stop.set()
        sub.stop.set()
        probe.join(5)
        sub.join(5)
    cpu = tree_cpu(procs) - cpu0
    rows = committed(root, set(saved))
    # "every question current within 2 s of the last write": drained, and what was stored then
    # equals a batch scan of the final tree (scanned now, after the clock stopped)
    differs = current(root, at_drained) if current_s is not None else None
    rate_done = throughput(root, tag, saved)
    samples = probe.samples
    max_pending = max((s["pending"] for s in samples), default=0)
    to_row = [(rows[k]["created"] - saved[k]) * 1000 for k in saved if k in rows]
    to_bus = [(sub.received[k] - saved[k]) * 1000 for k in saved if k in sub.received]
    worker = [rows[k]["worker_ms"] for k in saved if "worker_ms" in rows.get(k, {})]
    return {
        "rate": rate,
        "changes": len(saved),
        "received": sum(1 for k in saved if k in sub.received),
        "achieved_rate": len(saved) / wrote_s,
        "drain_after_last_write_s": drain_s,
        # time from the last write until drained with stored == batch (None: not drained in time,
        # or drained to something else than the batch scan: see stored_vs_batch)
        "current_after_last_write_s": current_s
        if differs is not None and not any(differs.values())
        else None,
        "drained_after_last_write_s": current_s,
        "stored_vs_batch": differs,
        # "the backlog never grows past one second of work": the most pending files at once,
        # over the files the pipeline stored per second in this phase
        "throughput_per_s": rate_done,
        "max_pending": max_pending,
        "max_backlog_s": max_pending / rate_done if rate_done == rate_done and rate_done > 0 else None,
        "max_unevaluated": max((s["unevaluated"] for s in samples), default=0),
        "stack_cpu_s": cpu,
        "stack_cpu_per_change_ms": cpu / len(saved) * 1000,
        "save_to_question_ms": summary(to_row),
        "save_to_bus_ms": summary(to_bus),
        "read_to_commit_ms": summary(worker),  # SourceFile.latency_ms: the feeder's read -> commit
        # p50/p90 of each stage on the way (bench/stages.py): where the time goes
        "stages_ms": stages.breakdown(root, saved, sub.received, stack.logs),
        "samples_save_to_bus_ms": to_bus,
        "samples_save_to_question_ms": to_row,
        "backlog": probe_during,
        "backlog_after": probe.samples[len(probe_during) :],
    }


def run(stack: Stack, rates: list[float], seconds: float, flat: bool = False) -> dict[str, Any]:
    root = trees.generated(stack.work / "trees", BASE_FILES, name="latency")
    workers = stack.workers(2)
    run_timed(manage("rescan", str(root)), stack.env, SETTLE_TIMEOUT, stack.logs / "rescan.log")
    wait(drained, SETTLE_TIMEOUT, 0.1, "base tree analyzed")
    watcher = stack.watcher(root)
    procs = [w.ps for w in workers] + [watcher.ps]
    phases = []
    for rate in rates:
        print(f"[latency] {rate:g} changes/s for {seconds:g} s", flush=True)
        result = phase(stack, root, rate, seconds, procs, flat)
        print(
            f"[latency]   to question {result['save_to_question_ms']}\n"
            f"[latency]   to bus {result['save_to_bus_ms']}\n"
            f"[latency]   drain {result['drain_after_last_write_s']} s; current (stored == batch) "
            f"{result['current_after_last_write_s']} s after the last write {result['stored_vs_batch']}\n"
            f"[latency]   backlog at most {result['max_pending']} files = {result['max_backlog_s']} s of work "
            f"at {result['throughput_per_s']:.1f} files/s\n"
            f"[latency]   stages (ms) "
            + ", ".join(
                f"{k} {v['p50']:.1f}/{v['p90']:.1f}" for k, v in result["stages_ms"].items() if v["n"]
            ),
            flush=True,
        )
        phases.append(result)
    return {"base_files": BASE_FILES, "seconds": seconds, "flat": flat, "phases": phases}
