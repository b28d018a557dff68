"""The one percentile of the project: the dashboard's latency chart and the benchmarks both use it.

Plain Python with no Django import, so bench/ can use it before any settings exist.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], q: float) -> float | None:
    """Nearest-rank percentile of unsorted values (q in 0..100): the smallest value with at least
    q% of the values at or below it, so it is always an observed value; None when there is none."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
