"""Where an edit's latency goes: each change's way from its save to the bus, split into stages.

The stamps come from what the product already records (the read's `seq`, the stored file's and
the transition's `latency_ms`, the transition's `created_at`) and from the workers' INFO log
(a task's "received" line, and the "<path>: <outcome>" lines before its "succeeded" line), so
the code measured carries no instrumentation of its own. Log stamps have millisecond resolution.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.results import percentile

LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ ([\w.]+): (.*)$")
TASK = re.compile(r"Task [\w.]+\[([0-9a-f-]+)\] (received|succeeded in ([0-9.e-]+)s)")
STAGES = (
    "save_to_read",  # the watcher: the event, the quiet period, its loop
    "read_to_received",  # the watcher's upsert and send, Redis, the worker's main process
    "received_to_stored",  # the pool child: task start, parse, extraction, its commit
    "stored_to_evaluation",  # the measurement, due(), the evaluation's trigger
    "evaluation_to_row",  # the evaluation up to the transition row
    "row_to_bus",  # the rest of the transaction, its commit, the relay's publish, the subscriber
)


def worker_log(logs: Path) -> dict[str, dict[str, float]]:
    """{path: {"received": epoch, "runtime": s}} of each analysis task, from the workers' logs."""
    out: dict[str, dict[str, float]] = {}
    for log in sorted(logs.glob("worker*.log")):
        received: dict[str, float] = {}
        paths: list[str] = []
        for line in log.read_text(errors="replace").splitlines():
            found = LINE.match(line)
            if not found:
                continue
            stamp = datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if found[2] == "tasks.analysis":
                paths.append(found[3].split(": ", 1)[0])  # "<path>: <outcome, maybe with a colon>"
                continue
            task = TASK.search(found[3])
            if not task:
                continue
            if task[2] == "received":
                received[task[1]] = stamp
            else:
                for path in paths:
                    if task[1] in received:
                        out[path] = {"received": received[task[1]], "runtime": float(task[3])}
                paths = []
    return out


def breakdown(
    root: Path, saved: dict[str, float], bus: dict[str, float], logs: Path
) -> dict[str, dict[str, float]]:
    """Each stage's p50 and p90 in ms over the changes for which every stamp was found."""
    from kloros_site.analysis.models import SourceFile, Transition

    tasks = worker_log(logs)
    rows = Transition.objects.filter(
        question__tree__path=str(root), kind="opened", question__capability_key__in=saved
    ).values_list("question__capability_key", "created_at", "latency_ms", "question__evidence")
    files = {
        path: (seq, latency)
        for path, seq, latency in SourceFile.objects.filter(tree__path=str(root)).values_list(
            "path", "seq", "latency_ms"
        )
    }
    samples: dict[str, list[float]] = {name: [] for name in (*STAGES, "task_runtime")}
    for key, created, to_evaluation, evidence in rows:
        path = evidence[0].rsplit(":", 1)[0]
        if key not in bus or path not in files or path not in tasks or to_evaluation is None:
            continue
        seq, to_stored = files[path]
        read = seq / 1e9
        received = tasks[path]["received"]
        stamps = [
            saved[key],
            read,
            received,
            read + to_stored / 1000,
            read + to_evaluation / 1000,
            created.timestamp(),
            bus[key],
        ]
        for name, start, end in zip(STAGES, stamps, stamps[1:], strict=False):
            samples[name].append((end - start) * 1000)
        samples["task_runtime"].append(tasks[path]["runtime"] * 1000)
    return {name: summary(values) for name, values in samples.items()}


def summary(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": percentile(values, 50), "p90": percentile(values, 90)}
