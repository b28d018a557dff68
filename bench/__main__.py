"""`python -m bench FIGURE [--stack pg-redis|embedded]`: run one figure, save its JSON."""

from __future__ import annotations

import argparse
import signal
import sys

from bench.results import save
from bench.stack import STACKS, bench_stack

FIGURES = ("cold", "latency", "rss", "restart", "queries", "pages", "branch")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("figure", choices=FIGURES)
    parser.add_argument("--stack", choices=STACKS, default="pg-redis")
    parser.add_argument(
        "--trees", default="stdlib,django,gen10k:peers", help="cold: trees; NAME:peers skips the pipeline"
    )
    parser.add_argument("--repeats", type=int, default=3, help="cold: runs of each cheap peer tool")
    parser.add_argument(
        "--workers", default="2", help="cold: pipeline runs with these worker counts, e.g. 1,2"
    )
    parser.add_argument(
        "--no-pylint", action="store_true", help="cold: skip pylint (minutes on 10,000 files)"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="latency: seconds per rate")
    parser.add_argument("--rates", default="10,100", help="latency: changes per second")
    parser.add_argument(
        "--flat", action="store_true", help="latency: write the changes at the tree root, not in a folder"
    )
    parser.add_argument("--idle", type=float, default=60.0, help="rss: idle seconds measured")
    parser.add_argument(
        "--kill", action="store_true", help="branch: SIGKILL a worker midway through each switch"
    )
    parser.add_argument(
        "--switches", type=int, default=2, help="branch: checkouts measured (there, back, there, ...)"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="branch: seconds allowed per switch")
    parser.add_argument("--redis-db", type=int, help="the Redis db of this run (default: the figure's own)")
    parser.add_argument("--db", help="the PostgreSQL database of this run (default: kloros_bench_FIGURE)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KLR_NAME=VALUE",
        help="a product setting for every process of the stack (repeatable); saved with the result",
    )
    parser.add_argument("--rev", default="HEAD", help="the commit measured (a snapshot; default HEAD)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs) for a look")
    args = parser.parse_args(argv)
    # a SIGTERM (timeout, Ctrl-C in a pipe) must still run the clean-up: stop children, drop the database
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    settings = dict(item.split("=", 1) for item in args.set)
    with bench_stack(args.stack, args.figure, args.keep, args.rev, args.redis_db, args.db, settings) as stack:
        print(f"[bench] {args.figure} on {args.stack} in {stack.work}", flush=True)
        if args.figure == "cold":
            from bench import cold

            data = cold.run(
                stack,
                args.trees.split(","),
                args.repeats,
                [int(n) for n in args.workers.split(",")],
                with_pylint=not args.no_pylint,
            )
        elif args.figure == "latency":
            from bench import latency

            data = latency.run(stack, [float(r) for r in args.rates.split(",")], args.seconds, args.flat)
        elif args.figure == "rss":
            from bench import storm

            data = storm.run(stack, args.idle)
        elif args.figure == "restart":
            from bench import restart

            data = restart.run(stack)
        elif args.figure == "pages":
            from bench import pages

            data = pages.run(stack)
        elif args.figure == "branch":
            from bench import branch

            data = branch.run(stack, args.switches, args.kill, args.timeout)
        else:
            from bench import queries

            data = queries.run(stack, args.trees.split(",")[0])
        data["commit"] = stack.commit
        if settings:
            data["settings"] = settings
    name = f"{args.figure}-flat" if args.figure == "latency" and args.flat else args.figure
    name = f"{name}-kill" if args.figure == "branch" and args.kill else name
    print(f"[bench] saved {save(name, args.stack, data)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
