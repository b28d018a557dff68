"""Warm restart: a fully analyzed 3,000-file tree, watcher stopped and started again,
timed until its start-up reconcile is logged and all the work it found is done."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from bench import trees
from bench.procs import manage
from bench.stack import Stack, drained, wait

FILES = 3000
REPEATS = 3
TIMEOUT = 600.0
SETUP_TIMEOUT = 1800.0
CHANGED = re.compile(r"watching .* \((\d+) changed since last run\)")


def restart(stack: Stack, root: Path, name: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    started = time.monotonic()
    proc = stack.start(name, manage("watch", str(root)), "changed since last run", timeout)
    reconciled = time.monotonic()
    wait(drained, timeout, 0.02, "restart work done")
    done = time.monotonic()
    match = CHANGED.search(proc.output())
    proc.stop()
    return {
        "changed": int(match.group(1)) if match else -1,
        "to_reconcile_logged_s": reconciled - started,
        "to_all_done_s": done - started,
    }


def touch_some(root: Path, fraction: float, round_: int) -> int:
    files = sorted(root.rglob("*.py"))
    step = max(1, round(1 / fraction))
    chosen = files[round_::step]
    for path in chosen:
        with path.open("a") as handle:
            handle.write(f"\n# edited in round {round_}\n")
    return len(chosen)


def run(stack: Stack) -> dict[str, Any]:
    # tiny modules sharing no names: the set-up pass stays minutes, not the tens of minutes the
    # shared-name hot spot costs (BENCHMARKS.md); a restart's work is a stat walk either way
    root = trees.generated(stack.work / "trees", FILES, name="restart", source=trees.tiny_source)
    stack.workers(2)
    first = restart(stack, root, "watcher-first", SETUP_TIMEOUT)  # the cold pass: everything is new
    print(f"[restart] first analysis {first}", flush=True)
    unchanged, one_pct = [], []
    for i in range(REPEATS):
        unchanged.append(restart(stack, root, f"watcher-unchanged-{i}"))
        print(f"[restart] unchanged {unchanged[-1]}", flush=True)
        edited = touch_some(root, 0.01, i)
        one_pct.append({"edited": edited, **restart(stack, root, f"watcher-1pct-{i}")})
        print(f"[restart] 1% changed {one_pct[-1]}", flush=True)
    return {"files": FILES, "first": first, "unchanged": unchanged, "one_percent": one_pct}
