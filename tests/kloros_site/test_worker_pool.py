"""A worker replaces a pool process the moment its exit is reported (kloros_site.worker_pool)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from billiard.connection import wait
from kombu.asynchronous import Hub

from kloros_site.worker_pool import Pool


def leave_like_a_recycled_process(hold: str, release: str) -> None:
    """A pool process's initializer: while `hold` exists, the process closes its files (its
    sentinel with them: its exit is reported) and stays unreapable until `release` exists, as a
    leaving process is between the kernel closing its files and its exit status."""
    if not os.path.exists(hold):
        return  # the replacement: an ordinary pool process
    os.closerange(3, 65536)
    while not os.path.exists(release):
        time.sleep(0.001)
    os._exit(0)


def test_a_process_whose_exit_is_reported_before_it_can_be_reaped_is_replaced_at_once(tmp_path: Path):
    hold, release = tmp_path / "hold", tmp_path / "release"
    hold.touch()
    pool = Pool(
        processes=1,
        threads=False,
        initializer=leave_like_a_recycled_process,
        initargs=(str(hold), str(release)),
    )
    hub = Hub()  # the worker's event loop, never run: none of its timers fires
    pool.register_with_event_loop(hub)
    try:
        leaving = pool._pool[0]
        wait([leaving.sentinel])  # its exit is reported ...
        assert leaving.exitcode is None  # ... and it cannot be reaped yet
        hold.unlink()
        release.touch()
        # what the worker's event loop calls when the sentinel is readable
        pool._event_process_exit(hub, leaving)
        # replaced now, not by the pool's timer 5 s later
        assert [p.pid for p in pool._pool] != [leaving.pid]
        assert len(pool._pool) == 1
    finally:
        pool.terminate()
        hub.close()
