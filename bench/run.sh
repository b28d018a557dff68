#!/usr/bin/env bash
# The benchmark harness (docs/BENCHMARKS.md). One figure per command:
#   bench/run.sh cold      [--stack pg-redis|embedded] [--trees stdlib,django,gen10k:peers]
#   bench/run.sh latency   [--stack ...] [--rates 10,100] [--seconds 30]
#   bench/run.sh rss       [--stack ...] [--idle 60]     (10,000-file storm RSS + idle CPU)
#   bench/run.sh idle      same run as rss (the idle CPU is measured around the storm)
#   bench/run.sh restart   [--stack ...]
#   bench/run.sh branch    [--stack ...] [--kill] [--switches 2] [--timeout 300]
#                          git checkout between Django 5.1 and 5.2 in a watched repository, timed until
#                          the stored questions equal the batch scan; --kill SIGKILLs a worker midway
#   bench/run.sh queries   [--trees stdlib]   (SQL round trips per file: profiler evidence)
#   bench/run.sh pages     [--stack ...]      (page times and queries with 100,000 questions)
#   bench/run.sh plots     PNGs under docs/bench/ from bench/results/*.json
#   bench/run.sh precision [--trees django,pretix,homeassistant,kloros] | --report | --freeze-round1
#                          scan real trees, draw samples to read into docs/precision/ (docs/PRECISION.md)
#   bench/run.sh report    markdown tables of bench/results/*.json (for docs/BENCHMARKS.md)
#   bench/run.sh all       every figure on PostgreSQL + Redis (branch with and without --kill), then the plots
# Needs PostgreSQL (127.0.0.1:5432, trust auth for postgres) and Redis (127.0.0.1:6379: dbs 6, 11, 13-15
# are the bench's and are flushed; --redis-db N and --db NAME choose others) for the pg-redis stack;
# the embedded stack needs nothing. Any figure: --set KLR_NAME=VALUE changes a product setting.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip install -q -r bench/requirements.txt
figure="${1:-all}"; shift || true
case "$figure" in
  idle) figure=rss ;;
esac
case "$figure" in
  cold|latency|rss|restart|queries|pages|branch) exec .venv/bin/python -m bench "$figure" "$@" ;;
  precision) exec .venv/bin/python -m bench.precision "$@" ;;
  plots) exec .venv/bin/python -m bench.plots "$@" ;;
  report) exec .venv/bin/python -m bench.report ;;
  all)
    for f in cold latency rss restart branch; do .venv/bin/python -m bench "$f" "$@"; done
    .venv/bin/python -m bench branch --kill "$@"
    exec .venv/bin/python -m bench.plots ;;
  *) echo "unknown figure: $figure (cold|latency|rss|idle|restart|queries|pages|branch|precision|plots|report|all)" >&2; exit 2 ;;
esac
