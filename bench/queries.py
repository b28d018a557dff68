"""Profiler evidence for the pipeline's cost per file: SQL round trips and time of one
`services.record` call, in this process against the stack's database, on a real tree.

Files go in sorted order into an initially empty tree, as a cold scan sends them, so the
figure is what a worker pays per file (minus the broker), without py-spy's overhead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench import trees
from bench.results import median
from bench.stack import Stack

FILES = 100  # enough for a stable median; the whole stdlib would take minutes here


class QueryCounter:
    """Counts statements sent (CaptureQueriesContext saturates at 9,000 logged queries)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def run(stack: Stack, tree: str) -> dict[str, Any]:
    from django.db import connection

    from kloros_site.analysis.messages import FileVersion, sha256
    from kloros_site.analysis.services import record
    from monitors.engine import analyze
    from monitors.scan import import_root, iter_source_files

    build = {"stdlib": trees.stdlib, "django": trees.django}
    root = import_root(build[tree](stack.work / "trees"))
    rows = []
    for rel, path in list(iter_source_files(root))[:FILES]:
        data = path.read_bytes()
        started = time.perf_counter()
        keys = len(analyze(rel, data))
        parse_ms = (time.perf_counter() - started) * 1000
        version = FileVersion(
            root=str(root), path=rel, seq=time.time_ns(), sha256=sha256(data), size=len(data), data=data
        )
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            record(version)
            record_ms = (time.perf_counter() - started) * 1000
        rows.append({"keys": keys, "queries": counter.count, "parse_ms": parse_ms, "record_ms": record_ms})
    result = {
        "tree": tree,
        "files": len(rows),
        "median_keys": median([r["keys"] for r in rows]),
        "median_queries": median([r["queries"] for r in rows]),
        "median_parse_ms": median([r["parse_ms"] for r in rows]),
        "median_record_ms": median([r["record_ms"] for r in rows]),
        "queries_per_key": sum(r["queries"] for r in rows) / max(1, sum(r["keys"] for r in rows)),
        "total_record_s": sum(r["record_ms"] for r in rows) / 1000,
        "total_parse_s": sum(r["parse_ms"] for r in rows) / 1000,
    }
    print(f"[queries] {result}", flush=True)
    return result
