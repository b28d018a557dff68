"""Work lost with a SIGKILLed worker comes back through its claim, not through a timeout.

The slow rule (KLR_REDISPATCH_AFTER) and Redis' visibility timeout are both an hour away here,
and the filesystem broker has no acknowledgements at all: the only way a file that was in the
killed worker's hands can be stored is the feeder seeing that its claimer is gone. RabbitMQ is
the exception: it hands a dead connection's unacknowledged messages to another consumer at once,
and that consumer's claim replaces the dead one before the feeder looks.
"""

from __future__ import annotations

import os
import signal

import pytest
from django.conf import settings

from kloros_site.analysis.models import PendingFile
from tests.e2e.test_storm import assert_matches_batch_scan, run_storm, settle
from tests.harness import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def big_module(version: int) -> str:
    """About 600 KB: seconds of analysis, a window wide enough to find its worker at it."""
    body = "".join(f"def f{i}(a, b):\n    c = a + b\n    return helper(c, {i})\n" for i in range(10_000))
    return f"VERSION = {version}\n{body}"


def test_the_file_a_killed_worker_held_is_sent_again_by_its_claim(private_stack):
    stack = private_stack("lost", KLR_QUEUE_BOUND="40", KLR_REDISPATCH_AFTER="3600")
    workers = [stack.start_worker(), stack.start_worker()]
    watcher = stack.start_watcher()
    killed: list[str] = []

    def kill_the_worker_holding_the_big_file() -> None:
        big = stack.root / "big.py"
        for version in range(5):
            big.write_text(big_module(version))
            row = eventually(
                lambda: PendingFile.objects.filter(path="big.py").exclude(claimed_by="").first(),
                timeout=120,
                message="no worker started the big file",
            )
            pid = int(row.claimed_by.rpartition("/")[2])
            holder = next(w for w in workers if pid in {c.pid for c in w.children()})
            os.killpg(holder.popen.pid, signal.SIGSTOP)
            # frozen: if its row is still claimed by it, the file is in its hands, not stored
            if PendingFile.objects.filter(pk=row.pk, seq=row.seq, claimed_by=row.claimed_by).exists():
                holder.kill()
                workers.remove(holder)
                workers.append(stack.start_worker())
                killed.append(row.claimed_by)
                return
            os.killpg(holder.popen.pid, signal.SIGCONT)  # it finished first: try again
        raise AssertionError("never caught a worker with the big file in its hands")

    run_storm(stack.root, 6, 600, midway=kill_the_worker_holding_the_big_file)
    settle(stack.root)  # big.py included: stored with its last content
    assert_matches_batch_scan(stack.root)
    resent = [line for line in watcher.output().splitlines() if "whose worker is gone" in line]
    # on RabbitMQ the broker gave the file back first (see above): stored == batch is the check
    if not settings.CELERY_BROKER_URL.startswith("amqp"):
        lines = [line for line in resent if killed[0] in line]
        assert lines, resent
        # its whole worker was killed, main process too: no file of its is a suspect (claims), so
        # they go in messages, not one per message as those of a pool process that died alone
        assert all("killed with their worker" in line for line in lines), lines
