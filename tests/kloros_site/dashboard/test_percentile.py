"""The one nearest-rank percentile, shared by the dashboard and bench/, against worked examples."""

from __future__ import annotations

import pytest

from bench.results import percentile as bench_percentile
from kloros_site.dashboard.percentile import percentile

# the worked examples of the nearest-rank method: the value at rank ceil(q/100 * n)
FIVE = [15.0, 20.0, 35.0, 40.0, 50.0]
TEN = [3.0, 6.0, 7.0, 8.0, 8.0, 10.0, 13.0, 15.0, 16.0, 20.0]


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        (FIVE, 5, 15.0),
        (FIVE, 30, 20.0),
        (FIVE, 40, 20.0),
        (FIVE, 50, 35.0),
        (FIVE, 100, 50.0),
        (TEN, 25, 7.0),
        (TEN, 50, 8.0),
        (TEN, 75, 15.0),
        (TEN, 100, 20.0),
        (TEN, 0, 3.0),
        ([1.0, 1000.0], 50, 1.0),  # the two old functions disagreed here (bench said 1000)
        ([5.0], 99, 5.0),
    ],
)
def test_nearest_rank_on_known_values(values, q, expected):
    assert percentile(list(reversed(values)), q) == expected  # unsorted input on purpose


def test_no_values_have_no_percentile():
    assert percentile([], 50) is None


def test_bench_uses_the_same_function():
    assert bench_percentile is percentile
