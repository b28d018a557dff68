"""Cold scan: the whole pipeline (rescan -> 2 workers -> PostgreSQL/Redis -> outbox drained)
against the batch CLI, vulture and pylint's duplicate-code check on the same files."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from bench import trees
from bench.procs import PYTHON, manage, run_timed, server_cpu_since, server_cpu_snapshot, tree_cpu
from bench.stack import Stack, drained, wait

TOOL_TIMEOUT = 1800.0  # pylint on 10k files is slow; a run past this is reported as a timeout
BIN = Path(PYTHON).parent


def peers(root: Path) -> dict[str, list[str]]:
    """The single-process tools, each on exactly the files the pipeline gets."""
    return {
        "batch CLI (python -m monitors --format json)": [
            PYTHON,
            "-m",
            "monitors",
            str(root),
            "--format",
            "json",
        ],
        "parse+walk (ast.parse + ast.walk of every file)": [PYTHON, "-m", "bench.parsewalk", str(root)],
        "vulture": [str(BIN / "vulture"), str(root)],
        "pylint duplicate-code": [
            str(BIN / "pylint"),
            "--disable=all",
            "--enable=duplicate-code",
            "--recursive=y",
            "--jobs=1",
            str(root),
        ],
    }


def pipeline(stack: Stack, root: Path, workers: list) -> dict[str, Any]:
    """`manage.py rescan ROOT` until it returns, then until nothing is pending or unpublished."""
    cpu0, srv0 = tree_cpu([w.ps for w in workers]), server_cpu_snapshot()
    started = time.perf_counter()
    rescan = run_timed(
        manage("rescan", str(root)), stack.env, TOOL_TIMEOUT, stack.logs / f"rescan-{root.name}.log"
    )
    timed_out = False
    try:
        wait(drained, timeout=TOOL_TIMEOUT, what="pipeline drained")
    except TimeoutError:
        timed_out = True  # reported, with what was stored by then, instead of losing the other rows
    wall = time.perf_counter() - started
    workers_cpu = tree_cpu([w.ps for w in workers]) - cpu0
    from kloros_site.analysis.models import Question, SourceFile, Transition

    tree = str(trees_root(root))
    # the bus should hear each final question once: transitions written == questions open at the end
    kinds = Transition.objects.filter(question__tree__path=tree).values_list("kind", flat=True)
    return {
        "transitions": {kind: list(kinds).count(kind) for kind in ("opened", "changed", "resolved")},
        "open_questions": Question.objects.open().filter(tree__path=tree).count(),
        "wall_s": wall,
        "rescan_wall_s": rescan["wall_s"],
        # the rescan process feeds the queue; the workers parse, store and publish
        "cpu_s": rescan["cpu_s"] + workers_cpu,
        "rescan_cpu_s": rescan["cpu_s"],
        "workers_cpu_s": workers_cpu,
        "server_cpu_s": server_cpu_since(srv0),
        "exit": -1 if timed_out else rescan["exit"],
        "stored": SourceFile.objects.filter(tree__path=str(trees_root(root))).count(),
        "questions": Question.objects.filter(tree__path=str(trees_root(root))).count(),
    }


def trees_root(root: Path) -> Path:
    """The import root the pipeline stores the tree under (one up from a package folder)."""
    from monitors.scan import import_root

    return import_root(root)


def run(
    stack: Stack, tree_names: list[str], repeats: int, worker_counts: list[int], with_pylint: bool = True
) -> dict[str, Any]:
    build = {
        "stdlib": trees.stdlib,
        "django": trees.django,
        "gen10k": lambda base: trees.generated(base, 10_000),
    }
    rows: list[dict[str, Any]] = []
    for entry in tree_names:
        # "NAME:peers" runs only the single-process tools on that tree (the pipeline is minutes per tree)
        name, _, only = entry.partition(":")
        root = build[name](stack.work / "trees")
        files = trees.py_files(root)
        print(f"[cold] {name}: {files} files", flush=True)
        for count in [] if only == "peers" else worker_counts:
            # a copy per run, so each is a cold scan of a tree the store has never seen
            # (of the import root, so module names stay those of the original)
            top = trees_root(root)
            shutil.copytree(top, top.with_name(f"{top.name}-{count}w"))
            copy = top.with_name(f"{top.name}-{count}w") / root.relative_to(top)
            workers = stack.workers(count, prefix=f"{name}-{count}w-worker")
            row = {
                "tree": name,
                "files": files,
                "tool": f"pipeline ({stack.kind}, {count} workers x 1 process)",
            }
            row.update(pipeline(stack, copy, workers))
            row["cores"] = count
            for worker in workers:
                worker.stop()
            rows.append(row)
            print(f"[cold]   {row}", flush=True)
        for tool, argv in peers(root).items():
            if tool.startswith("pylint") and not with_pylint:
                continue
            # pylint is minutes per run: once; the cheap tools thrice, side by side with the pipeline
            runs = 1 if tool.startswith("pylint") or name == "gen10k" else repeats
            samples = [
                run_timed(argv, stack.env, TOOL_TIMEOUT, stack.logs / f"{name}-{tool.split()[0]}-{i}.log")
                for i in range(runs)
            ]
            best = sorted(samples, key=lambda s: s["wall_s"])[len(samples) // 2]
            row = {"tree": name, "files": files, "tool": tool, "cores": 1, "runs": runs, **best}
            row["wall_all_s"] = [s["wall_s"] for s in samples]
            rows.append(row)
            print(f"[cold]   {row}", flush=True)
    return {"rows": rows}
