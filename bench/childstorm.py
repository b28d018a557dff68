"""A worker child's RSS after every task through a storm (issue 11), with the files it has analyzed.

Two single-process workers and a watcher on PostgreSQL + Redis, `--files` generated files written
at once (as `bench/run.sh rss`). Each pool child logs, after each task, the files it has analyzed
so far and its RSS (bench/childprobe/sitecustomize.py, put on the workers' PYTHONPATH), so the
growth after the first 1,000 files is read per child, whatever the other child evaluates. The
harness's own RSS samples go to OUT.json. A PostgreSQL restart by another session is waited out.

    .venv/bin/python -m bench.childstorm --rev main --out /tmp/childmem/main --db kloros_bench_NAME --redis-db N
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench import trees
from bench.stack import backlog, bench_stack, drained, wait
from bench.storm import RssSampler

PROBE = Path(__file__).resolve().parent / "childprobe"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rev", default="HEAD")
    parser.add_argument("--out", required=True, help="prefix: OUT.<pid> per child, OUT.json")
    parser.add_argument("--db", default="kloros_bench_childstorm")
    parser.add_argument("--redis-db", type=int, default=14)
    args = parser.parse_args()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with bench_stack("pg-redis", "rss", rev=args.rev, redis_db=args.redis_db, db=args.db) as stack:
        stack.env["PYTHONPATH"] += f":{PROBE}"
        stack.env["KLR_CHILD_PROBE"] = args.out
        root = stack.work / "trees" / "storm"
        root.mkdir(parents=True)
        workers = stack.workers(2)
        sampler = RssSampler(stack.watcher(root), workers)
        sampler.start()
        started = time.monotonic()
        trees.generated(stack.work / "trees", args.files, seed=11, name="storm")

        def settled() -> bool:
            try:
                b = backlog()
                print(f"{time.monotonic() - started:.0f} s {b}", flush=True)
                return b["pending"] == 0 and b["queue"] == 0 and drained()
            except Exception as exc:  # PostgreSQL restarted under the run: ask again
                print("backlog unreadable:", exc, flush=True)
                from django.db import connections

                connections.close_all()
                return False

        wait(settled, 1500, 5.0, "storm drained")
        drain_s = time.monotonic() - started
        sampler.stop.set()
        sampler.join(5)
        Path(f"{args.out}.json").write_text(
            json.dumps(
                {"commit": stack.commit, "files": args.files, "drain_s": drain_s, "rss": sampler.samples}
            )
        )
        print(f"drained in {drain_s:.0f} s; children's logs at {args.out}.<pid>", flush=True)


if __name__ == "__main__":
    main()
