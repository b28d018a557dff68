"""Where figures are kept: one JSON file per figure and stack under bench/results/."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

# the dashboard's nearest-rank percentile, so figures and the latency chart agree (a plain module:
# importing it configures nothing)
from kloros_site.dashboard.percentile import percentile

__all__ = ["RESULTS", "load", "median", "percentile", "save"]

RESULTS = Path(__file__).resolve().parent / "results"


def save(figure: str, stack: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{figure}-{stack}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True))
    return path


def load(figure: str, stack: str) -> dict[str, Any] | None:
    path = RESULTS / f"{figure}-{stack}.json"
    return json.loads(path.read_text()) if path.exists() else None


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
