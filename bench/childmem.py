"""What a worker pool child holds before its first task, and what parsing adds per file (issue 11).

`imports`: RSS (/proc/self/status) at the points of a worker's start-up, each in a fresh process
(the pool children are forked from it and start with this), and the page modules it loaded.
`parse`: RSS and tracemalloc's live bytes after every 1,000 generated files put through the
engine, every file new (new names) against one file over and over (the same names).

    .venv/bin/python -m bench.childmem imports
    .venv/bin/python -m bench.childmem parse --files 4000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

from bench.evalmem import rss_mb

# the start-up of `celery -A kloros_site worker`, one step a line (each printed with the RSS after it)
STARTUP = """
import importlib, sys
from bench.evalmem import rss_mb
print("interpreter", rss_mb())
for name in ("celery", "kloros_site", "kloros_site.settings", "kloros_site.celery"):
    importlib.import_module(name)
    print(name, rss_mb())
import django
django.setup()
print("django.setup()", rss_mb())
from kloros_site.celery import app
app.loader.import_default_modules()  # the task modules (Celery's Django fixup runs its checks here)
print("task modules", rss_mb())
print("page modules", [m for m in sys.modules if m.startswith(("pygments", "prometheus_client",
      "kloros_site.urls", "kloros_site.analysis.admin", "kloros_site.analysis.pages",
      "kloros_site.dashboard.live", "kloros_site.dashboard.views"))])
"""


def imports() -> dict:
    env = dict(os.environ, KLR_STATE_DIR=tempfile.mkdtemp(prefix="childmem-"))
    env.setdefault("CELERY_BROKER_URL", "filesystem://")
    out = subprocess.run([sys.executable, "-c", STARTUP], env=env, capture_output=True, text=True, check=True)
    steps = [line.rsplit(" ", 1) for line in out.stdout.splitlines() if not line.startswith("page modules")]
    pages = next(line for line in out.stdout.splitlines() if line.startswith("page modules"))
    return {"steps_mb": {name: round(float(mb), 1) for name, mb in steps}, "page_modules": pages}


def parse(files: int) -> dict:
    import gc
    import tracemalloc

    from bench.trees import module_source
    from monitors.config import Config
    from monitors.engine import analyze_or_placeholder

    rng = random.Random(11)
    modules = [f"pkg.m{i}" for i in range(50)]
    sources = [module_source(rng, i, modules).encode() for i in range(files)]
    result: dict = {}
    for mode in ("same", "new"):
        tracemalloc.start()
        rows = []
        for i in range(files):
            j = 7 if mode == "same" else i
            analyze_or_placeholder(f"pkg/m{j}.py", sources[j], Config())
            if (i + 1) % 1000 == 0:
                gc.collect()
                rows.append((i + 1, round(rss_mb(), 1), round(tracemalloc.get_traced_memory()[0] / 2**20, 2)))
        tracemalloc.stop()
        result[mode] = rows  # (files, RSS MB, live traced MB)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figure", choices=("imports", "parse"))
    parser.add_argument("--files", type=int, default=4000)
    args = parser.parse_args()
    data = imports() if args.figure == "imports" else parse(args.files)
    print(json.dumps(data))


if __name__ == "__main__":
    main()
