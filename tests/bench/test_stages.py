"""bench/stages.py: each file's task found in the workers' log, batches and prefetched tasks too."""

from __future__ import annotations

from datetime import datetime

import pytest

from bench import stages

LOG = """\
2026-11-30 12:19:44,092 INFO celery.worker.strategy: Task kloros.analyze_file[aaaa-1] received
2026-11-30 12:19:44,100 INFO celery.worker.strategy: Task kloros.analyze_files[bbbb-2] received
2026-11-30 12:19:44,169 INFO tasks.analysis: lat/c_1.py: analyzed
2026-11-30 12:19:44,169 INFO celery.app.trace: Task kloros.analyze_file[aaaa-1] succeeded in 0.07s: 'analyzed'
2026-11-30 12:19:44,300 INFO tasks.analysis: lat/c_2.py: stale: a newer version is stored
2026-11-30 12:19:44,301 INFO tasks.analysis: lat/c_3.py: analyzed
2026-11-30 12:19:44,302 INFO celery.app.trace: Task kloros.analyze_files[bbbb-2] succeeded in 1.5e-01s: ['a']
"""


def test_each_path_gets_its_tasks_received_time_and_runtime(tmp_path):
    (tmp_path / "worker0.log").write_text(LOG)
    found = stages.worker_log(tmp_path)
    first = datetime(2026, 11, 30, 12, 19, 44, 92000).timestamp()
    assert found["lat/c_1.py"] == {"received": first, "runtime": 0.07}
    assert found["lat/c_2.py"] == found["lat/c_3.py"]
    assert found["lat/c_3.py"]["runtime"] == 0.15
    assert found["lat/c_3.py"]["received"] - first == pytest.approx(0.008, abs=1e-5)
