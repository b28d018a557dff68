"""Markdown tables from bench/results/*.json, plus the machine and versions, for docs/BENCHMARKS.md."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.results import load


def _cmd(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return out.splitlines()[0] if out else "?"


def machine() -> list[str]:
    model = _field(Path("/proc/cpuinfo"), "model name")
    mem = _field(Path("/proc/meminfo"), "MemTotal")
    return [
        f"- CPU: {model}, nproc {_cmd(['nproc'])}; memory {mem}; {platform.platform()}",
        f"- Python {platform.python_version()}; django {version('django')}, celery {version('celery')}, "
        f"kombu {version('kombu')}, psycopg {version('psycopg')}, watchdog {version('watchdog')}",
        f"- {_cmd(['psql', '-h', '127.0.0.1', '-U', 'postgres', '-Atc', 'select version()'])[:16]}; "
        f"Redis {_redis()}; "
        f"RabbitMQ {_cmd(['rabbitmqctl', 'version'])}",
        f"- peers: vulture {version('vulture')}, pylint {version('pylint')}, matplotlib {version('matplotlib')}",
    ]


def _field(path: Path, name: str) -> str:
    lines = path.read_text().splitlines()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(name)), "?")


def _redis() -> str:
    info = subprocess.run(["redis-cli", "info", "server"], capture_output=True, text=True, timeout=30).stdout
    return next(
        (line.split(":")[1].strip() for line in info.splitlines() if line.startswith("redis_version")), "?"
    )


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def cold(stack: str) -> list[str]:
    data = load("cold", stack)
    if not data:
        return []
    rows = []
    for r in data["rows"]:
        cli = next(
            (x for x in data["rows"] if x["tree"] == r["tree"] and x["tool"].startswith("batch")), None
        )
        ratio = r["wall_s"] / cli["wall_s"] if cli else float("nan")
        rows.append(
            [
                r["tree"],
                r["files"],
                r["tool"],
                r["cores"],
                r["wall_s"],
                r["cpu_s"],
                r.get("server_cpu_s", "-"),
                ratio,
            ]
        )
    header = ["tree", "files", "tool", "cores", "wall s", "CPU s", "DB+broker CPU s", "wall / batch CLI"]
    return table(header, rows)


def latency(stack: str, figure: str = "latency") -> list[str]:
    data = load(figure, stack)
    if not data:
        return []
    rows = []
    for p in data["phases"]:
        q, b, w = p["save_to_question_ms"], p["save_to_bus_ms"], p["read_to_commit_ms"]
        drain = p["drain_after_last_write_s"]
        backlog = p.get("max_backlog_s")
        current = p.get("current_after_last_write_s")
        rows.append(
            [
                f"{p['rate']:g}/s ({p['achieved_rate']:.1f} achieved)",
                f"{p.get('received', b['n'])}/{p['changes']}",
                q["p50"],
                q["p99"],
                b["p50"],
                b["p90"],
                b["p99"],
                b["max"],
                w["p50"],
                "-" if drain is None else f"{drain:.1f}",
                "-"
                if backlog is None
                else f"{backlog:.2f} ({p['max_pending']} files at {p['throughput_per_s']:.0f}/s)",
                _current(current, p),
                p["stack_cpu_per_change_ms"],
            ]
        )
    header = [
        "rate",
        "received",
        "save->question p50 ms",
        "p99",
        "save->bus p50 ms",
        "p90",
        "p99",
        "max",
        "read->commit p50 ms",
        "drain after last write s",
        "max backlog s of work",
        "all current (== batch) after last write s",
        "stack CPU ms/change",
    ]
    return table(header, rows)


def _current(seconds: float | None, phase: dict[str, Any]) -> str:
    if seconds is not None:
        return f"{seconds:.2f}"
    if "stored_vs_batch" not in phase:
        return "n/a"  # a result from before the harness measured it
    differs = phase["stored_vs_batch"]
    return "not drained" if differs is None else f"stored != batch ({_differs(differs)})"


def _differs(counts: dict[str, int]) -> str:
    return f"{counts['missing']} missing, {counts['extra']} extra, {counts['different']} different"


def branch(stack: str, figure: str = "branch") -> list[str]:
    data = load(figure, stack)
    if not data:
        return []
    rows = []
    for r in data["rows"]:
        current, drained = r["questions_current_s"], r["drained_s"]
        t, e = r["transitions"], r["expected_transitions"]
        rows.append(
            [
                f"{r['from']} -> {r['to']}",
                f"{r['files_changed']} ({r['files_changed_watched']})",
                "-" if r["killed_after_s"] is None else f"{r['killed_after_s']:.2f}",
                f"> {data['timeout_s']:g}" if current is None else f"{current:.2f}",
                "-" if drained is None else f"{drained:.2f}",
                f"{t['opened']} / {t['changed']} / {t['resolved']}",
                f"{e['opened']} / {e['changed']} / {e['resolved']}",
                "yes" if r["final_equals_batch"] else f"no ({_differs(r['final_mismatch'])})",
            ]
        )
    header = [
        "checkout",
        "files changed (analyzed kinds)",
        "worker killed at s",
        "questions == batch after s",
        "drained after s",
        "transitions opened / changed / resolved",
        "batch difference o / c / r",
        "final == batch",
    ]
    return table(header, rows)


def main() -> int:
    print("\n".join(machine()))
    for stack in ("pg-redis", "embedded"):
        renders = (
            ("cold", cold),
            ("latency", latency),
            ("latency-flat", lambda s: latency(s, "latency-flat")),
            ("branch", branch),
            ("branch-kill", lambda s: branch(s, "branch-kill")),
        )
        for name, render in renders:
            lines = render(stack)
            if lines:
                print(f"\n{name} ({stack})\n" + "\n".join(lines))
        for name in ("rss", "restart", "queries"):
            data = load(name, stack)
            if data:
                summary = {k: v for k, v in data.items() if k not in ("rss", "backlog")}
                print(f"\n{name} ({stack}): {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
