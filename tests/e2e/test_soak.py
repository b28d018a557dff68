"""Worker memory stays flat under a long stream of edits (the seed's "1 hour simulated").

CI runs a short version; the long one: `KLR_SOAK_ROUNDS=3600 ./test.sh embedded -- -m soak`
(one round = 10 files rewritten, then wait until all are stored).
"""

from __future__ import annotations

import os
import random

import psutil
import pytest

from kloros_site.analysis.messages import sha256
from kloros_site.analysis.models import SourceFile
from tests.harness import Proc, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROUNDS = int(os.environ.get("KLR_SOAK_ROUNDS", "30"))
WARM_UP = 10
MB = 1024 * 1024


def children_rss(worker: Proc) -> dict[int, int]:
    parent = psutil.Process(worker.popen.pid)
    return {child.pid: child.memory_info().rss for child in parent.children()}


def source(rng: random.Random, i: int) -> str:
    body = "\n".join(
        f'ChemPub().emit("curiosity.soak{rng.randrange(50)}")' for _ in range(rng.randint(1, 20))
    )
    defs = "\n".join(
        f"def f{i}_{k}(x):\n    return x + {rng.randrange(100)}\n" for k in range(rng.randint(0, 10))
    )
    return f"import m{rng.randrange(10)}\n{body}\n{defs}\n"


@pytest.mark.soak
def test_worker_children_keep_a_flat_rss(private_stack):
    # no recycling of pool processes: a leak must show
    stack = private_stack("soak", KLR_WORKER_MAX_MEMORY_KB=str(10 * 1024 * 1024))
    root = stack.root
    rng = random.Random(7)
    samples: list[dict[int, int]] = []
    worker = stack.start_worker(concurrency=2)
    stack.start_watcher()
    for round_ in range(ROUNDS):
        written = {}
        for i in range(10):
            text = source(rng, i)
            (root / f"m{i}.py").write_text(text)
            written[f"m{i}.py"] = sha256(text.encode())

        def stored(written: dict[str, str] = written) -> bool:
            rows = dict(SourceFile.objects.filter(path__in=written).values_list("path", "sha256"))
            return rows == written

        eventually(stored, timeout=120, message=f"round {round_} was not stored")
        if round_ >= WARM_UP - 1:
            samples.append(children_rss(worker))

    baseline, final = samples[0], samples[-1]
    assert baseline.keys() == final.keys(), "a pool process was replaced: the measurement is void"
    growth = {pid: (final[pid] - baseline[pid]) / MB for pid in final}
    assert all(g < 10 for g in growth.values()), f"RSS growth per child (MB): {growth}"
