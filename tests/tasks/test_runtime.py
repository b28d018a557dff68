"""The pool process's own housekeeping around each task (tasks.runtime)."""

from __future__ import annotations

import pytest
from celery.signals import task_postrun, task_prerun

from tasks import runtime


@pytest.fixture
def trims(monkeypatch) -> list[int]:
    """Every malloc_trim the receivers ask for, instead of the real one."""
    calls: list[int] = []
    monkeypatch.setattr(runtime, "_malloc_trim", calls.append)
    return calls


def run_task(monkeypatch, rss_kb: list[int]) -> None:
    """A task's signals as the worker sends them, the process at rss_kb[0] before and rss_kb[1] after."""
    readings = iter(rss_kb)
    monkeypatch.setattr(runtime, "mem_rss", lambda: next(readings))
    task_prerun.send(sender=None, task_id="t", task=None, args=(), kwargs={})
    task_postrun.send(sender=None, task_id="t", task=None, args=(), kwargs={}, retval=None, state="SUCCESS")


def test_a_task_that_grew_the_process_is_followed_by_a_trim(monkeypatch, trims):
    run_task(monkeypatch, [80_000, 80_000 + runtime.RELEASE_AFTER_GROWTH_KB + 1])
    assert trims == [0]


def test_a_small_task_costs_no_collection(monkeypatch, trims):
    run_task(monkeypatch, [80_000, 80_000 + runtime.RELEASE_AFTER_GROWTH_KB])
    run_task(monkeypatch, [150_000, 90_000])  # shrank: nothing to give back
    assert trims == []
