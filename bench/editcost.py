"""What one edit costs a worker, in this process: `tasks.analysis.extract` of one file version
(store, the in-task evaluation, the publish after its commit), timed and its SQL statements
counted, the heartbeat thread running as in a worker. The edits alternately open and resolve
the file's question, so every one of them is heard on ChemBus: run with the broker of your stack.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... PYTHONPATH=$PWD \\
        .venv/bin/python -m bench.editcost --edits 150 --label main

Compare two commits from snapshots (`git archive REV | tar -x -C DIR`, run from DIR),
interleaved A B A B: the figure is the ratio, not the times (they follow the machine's load).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from typing import Any

from bench.queries import QueryCounter


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=150)
    parser.add_argument("--label", default="", help="names the run and its tree")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kloros_site.settings")
    import django

    django.setup()
    print(json.dumps(run(args.edits, args.label)), flush=True)


def run(edits: int, label: str) -> dict[str, Any]:
    from django.db import connection

    import kloros_site.celery
    from kloros_site.analysis import claims, pending
    from kloros_site.analysis.messages import FileVersion, sha256
    from kloros_site.analysis.models import Tree
    from tasks.analysis import extract

    logging.disable(logging.INFO)  # a line per task would be most of the time measured
    kloros_site.celery.in_worker = True
    claims.start_beating()
    root = f"/srv/bench-editcost-{label}"
    Tree.objects.filter(path=root).delete()

    def version(path: str, source: str) -> FileVersion:
        data = source.encode()
        return FileVersion(
            root=root, path=path, seq=time.time_ns(), sha256=sha256(data), size=len(data), data=data
        )

    extract([version("c.py", 'ChemSub(topic="curiosity.x")\n')])
    sources = ['ChemPub().emit("curiosity.a")\n', "x = 1\n"]
    times: list[float] = []
    counts: list[int] = []
    for i in range(edits):
        edit = version("p.py", f"{sources[i % 2]}# {i}\n")
        pending.request(root, ["p.py"], seq=edit.seq)  # as the watcher records it
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            extract([edit])
            times.append((time.perf_counter() - started) * 1000)
        counts.append(counter.count)
    Tree.objects.filter(path=root).delete()
    return {
        "label": label,
        "edits": edits,
        "median_ms": statistics.median(times),
        "p90_ms": statistics.quantiles(times, n=10)[-1],
        "median_statements": statistics.median(counts),
        "load": os.getloadavg()[0],
    }


if __name__ == "__main__":
    main()
