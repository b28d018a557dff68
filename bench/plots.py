"""PNG plots from bench/results/*.json into docs/bench/ (Agg: no display needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after matplotlib.use: the backend must be chosen first

from bench.results import RESULTS, load

OUT = Path(__file__).resolve().parent.parent / "docs" / "bench"


def latency(stack: str, figure: str = "latency") -> Path | None:
    data = load(figure, stack)
    if not data:
        return None
    fig, (hist, cdf) = plt.subplots(1, 2, figsize=(11, 4))
    every = [v for phase in data["phases"] for v in phase["samples_save_to_bus_ms"]]
    if not every:
        return None
    # log-spaced bins: latencies here span milliseconds to minutes
    low, high = max(1.0, min(every)), max(every)
    bins = [low * (high / low) ** (i / 60) for i in range(61)]
    for phase in data["phases"]:
        values = sorted(phase["samples_save_to_bus_ms"])
        if not values:
            continue
        label = f"{phase['rate']:g} changes/s ({len(values)}/{phase['changes']} received)"
        hist.hist(values, bins=bins, alpha=0.6, label=label)
        cdf.plot(values, [(i + 1) / len(values) for i in range(len(values))], label=label)
    for axis in (hist, cdf):
        axis.axvline(50, color="grey", linestyle=":", linewidth=1)
        axis.axvline(150, color="grey", linestyle="--", linewidth=1)
        axis.set_xlabel("file saved -> ChemBus message received (ms)")
        axis.legend()
    hist.set_ylabel("changes")
    cdf.set_ylabel("fraction of changes")
    hist.set_xscale("log")
    cdf.set_xscale("log")
    where = "at the tree root" if data.get("flat") else "in a folder"
    commit = data.get("commit", figure.removeprefix("latency-"))[:7]
    fig.suptitle(
        f"Save -> ChemBus latency, new files {where}, {stack} @ {commit} (dotted 50 ms, dashed 150 ms)"
    )
    fig.tight_layout()
    return save(fig, f"{figure}-{stack}.png")


def rss(stack: str) -> Path | None:
    data = load("rss", stack)
    if not data:
        return None
    fig, axis = plt.subplots(figsize=(9, 4.5))
    names = sorted({k for s in data["rss"] for k in s if k != "t"})
    for name in names:
        points = [(s["t"], s[name]) for s in data["rss"] if name in s]
        axis.plot([t for t, _ in points], [v for _, v in points], label=name, linewidth=1)
    axis.axhline(100, color="red", linestyle="--", linewidth=1, label="100 MB target (worker child)")
    axis.set_xlabel("seconds since the storm began")
    axis.set_ylabel("RSS (MB)")
    commit = data.get("commit", "")[:7]
    axis.set_title(
        f"RSS during a {data['files']:,}-file storm ({stack} @ {commit}; "
        f"{data['stored']:,} files analyzed in the window)"
    )
    axis.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return save(fig, f"rss-{stack}.png")


def save(fig: plt.Figure, name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> int:
    for stack in ("pg-redis", "embedded"):
        # every latency run kept (e.g. latency-<commit>-<stack>.json from before a fix) gets its plot
        figures = sorted(
            p.name.removesuffix(f"-{stack}.json") for p in RESULTS.glob(f"latency*-{stack}.json")
        )
        for path in [latency(stack, figure) for figure in figures] + [rss(stack)]:
            if path:
                print(f"[plots] {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
