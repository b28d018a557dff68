"""Loaded by every Python process started with this folder on its path (bench/childstorm.py puts
it on the workers'): in a Celery pool child, one line per task to $KLR_CHILD_PROBE.<pid>: the
files it has analyzed so far, the task and its RSS after it."""

from __future__ import annotations

import os
from pathlib import Path

if os.environ.get("KLR_CHILD_PROBE"):
    from celery.signals import task_postrun, worker_process_init

    _files = [0]

    def _rss_mb() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _write(text: str) -> None:
        with open(f"{os.environ['KLR_CHILD_PROBE']}.{os.getpid()}", "a") as f:
            f.write(text + "\n")

    @worker_process_init.connect(weak=False)
    def _start(**kwargs) -> None:
        _write(f"start rss={_rss_mb():.1f}")

    @task_postrun.connect(weak=False)
    def _after(sender=None, args=None, **kwargs) -> None:
        name = getattr(sender, "name", "?")
        if name == "kloros.analyze_files" and args:
            _files[0] += len(args[0])
        elif name == "kloros.analyze_file":
            _files[0] += 1
        _write(f"files={_files[0]} task={name} rss={_rss_mb():.1f}")
