"""The feeder against a queue it can see: a list standing in for the broker's analysis queue.

The real brokers are exercised end to end in tests/e2e; here the bound, the coalescing and
the re-sending of lost work are checked one rule at a time.
"""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from kloros_site.analysis import claims, pending
from kloros_site.analysis.models import PendingFile, WorkerBeat
from kloros_site.analysis.pending import Feeder
from kloros_site.analysis.services import record

pytestmark = pytest.mark.django_db


class Queue:
    def __init__(self) -> None:
        self.messages = []
        self.high_water = 0

    def put(self, version) -> None:
        self.messages.append(version)
        self.high_water = max(self.high_water, len(self.messages))

    def depth(self) -> int:
        return len(self.messages)

    def work(self, n: int | None = None) -> None:
        """A worker storing what it takes off the queue."""
        for version in self.messages[:n]:
            record(version)
        del self.messages[:n]


def feeder(queue: Queue, bound: int = 3, redispatch_after: float = 60, unclaimed_after: float = 2) -> Feeder:
    # looks for lost work on every feed, not at most twice a second
    return Feeder(queue.put, queue.depth, bound, redispatch_after, unclaimed_after, lost_check_seconds=0)


def tree(tmp_path, count: int):
    for i in range(count):
        (tmp_path / f"m{i}.py").write_text(f"x = {i}\n")
    return [f"m{i}.py" for i in range(count)]


def test_many_events_for_one_path_are_one_row_sent_once_with_the_final_content(tmp_path):
    queue = Queue()
    target = tmp_path / "a.py"
    for i in range(50):
        target.write_text(f"x = {i}\n")
        pending.request(tmp_path, ["a.py"])
    assert PendingFile.objects.count() == 1
    assert feeder(queue).feed() == 1
    assert [v.data for v in queue.messages] == [b"x = 49\n"]


def test_the_queue_never_holds_more_than_the_bound_and_nothing_is_dropped(tmp_path):
    queue = Queue()
    paths = tree(tmp_path, 10)
    pending.request(tmp_path, paths)
    work = feeder(queue, bound=3)
    while PendingFile.objects.exists():
        work.feed()
        queue.work(2)
    assert queue.high_water == 3
    assert PendingFile.objects.count() == 0
    from kloros_site.analysis.models import SourceFile

    assert sorted(SourceFile.objects.values_list("path", flat=True)) == sorted(paths)


def test_a_change_while_in_flight_is_sent_again(tmp_path):
    queue = Queue()
    (tmp_path / "a.py").write_text("x = 1\n")
    pending.request(tmp_path, ["a.py"])
    feeder(queue).feed()
    (tmp_path / "a.py").write_text("x = 2\n")
    pending.request(tmp_path, ["a.py"])
    queue.work()  # the worker stores x = 1, which is older than the new change
    assert PendingFile.objects.get().dispatched_at is None
    feeder(queue).feed()
    assert queue.messages[-1].data == b"x = 2\n"
    queue.work()
    assert not PendingFile.objects.exists()


def test_lost_tasks_are_sent_again_only_when_the_queue_is_empty_and_they_are_old(tmp_path):
    queue = Queue()
    tree(tmp_path, 2)
    pending.request(tmp_path, ["m0.py", "m1.py"])
    work = feeder(queue, bound=5, redispatch_after=30)
    assert work.feed() == 2
    queue.messages.clear()  # a worker died holding them, on a broker without acknowledgements
    assert work.feed() == 0  # too recent: they may still be running
    PendingFile.objects.update(dispatched_at=timezone.now() - timedelta(seconds=31))
    queue.put("someone else's task")
    assert work.feed() == 0  # the queue is not empty: they may be waiting behind it
    queue.messages.clear()
    assert work.feed() == 2


def test_a_broker_refusing_keeps_the_row(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    pending.request(tmp_path, ["a.py"])

    def refuse(version):
        raise ConnectionError("broker down")

    assert Feeder(refuse, lambda: 0, 10, 60).feed() == 0
    assert PendingFile.objects.get().dispatched_at is None


def test_deleted_files_are_sent_as_deletions(tmp_path):
    queue = Queue()
    pending.request(tmp_path, ["gone.py"])
    feeder(queue).feed()
    assert queue.messages[0].deleted


def test_a_broker_that_cannot_say_its_depth_keeps_the_rows(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    pending.request(tmp_path, ["a.py"])

    def depth():
        raise ConnectionError("broker down")

    sent = []
    assert Feeder(sent.append, depth, 10, 60).feed() == 0
    assert not sent and PendingFile.objects.get().dispatched_at is None


# --- lost work: claims and heartbeats (kloros_site.analysis.claims) ---


def ended_process() -> int:
    """The pid of a process of this host that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def sent(tmp_path, queue: Queue, count: int, **options) -> Feeder:
    pending.request(tmp_path, tree(tmp_path, count))
    work = feeder(queue, bound=10, **options)
    assert work.feed() == count
    return work


def held_by(name: str, paths: list[str]) -> None:
    PendingFile.objects.filter(path__in=paths).update(claimed_by=name, claimed_at=timezone.now())


def test_a_file_claimed_by_a_process_that_ended_is_sent_again_at_once(tmp_path):
    queue = Queue()
    work = sent(tmp_path, queue, 2)
    dead = claims.identity(ended_process())
    held_by(dead, ["m0.py"])
    WorkerBeat.objects.create(name=dead, beat_at=timezone.now())  # its heartbeat is not old yet
    # the queue still holds m1's task: a dead claim does not wait for it to empty
    assert work.feed() == 1
    assert [v.path for v in queue.messages] == ["m0.py", "m1.py", "m0.py"]
    row = PendingFile.objects.get(path="m0.py")
    assert (row.claimed_by, row.attempts) == ("", 2)  # waiting in the queue again
    assert work.feed() == 0  # and only once


def test_a_claim_of_a_live_worker_is_left_alone_while_a_task_nobody_started_is_sent_again(tmp_path):
    queue = Queue()
    work = sent(tmp_path, queue, 2)
    assert claims.mark_claimed(queue.messages[:1], claims.identity()) == 1  # this process: alive
    claims.beat()
    PendingFile.objects.update(dispatched_at=timezone.now() - timedelta(seconds=30))
    assert work.feed() == 0  # m1 may still be waiting behind m0 in the queue
    queue.messages.clear()  # the broker says the queue is empty: m1 was taken by no live worker
    assert work.feed() == 1
    assert [v.path for v in queue.messages] == ["m1.py"]
    assert PendingFile.objects.get(path="m0.py").claimed_by == claims.identity()


def test_a_task_nobody_started_is_not_sent_again_before_its_grace(tmp_path):
    queue = Queue()
    work = sent(tmp_path, queue, 1, unclaimed_after=30)
    queue.messages.clear()
    assert work.feed() == 0  # a worker may have just taken it
    PendingFile.objects.update(dispatched_at=timezone.now() - timedelta(seconds=31))
    assert work.feed() == 1


def test_a_claim_of_a_silent_worker_elsewhere_is_sent_again_once_its_heartbeat_is_old(tmp_path, settings):
    settings.KLR_WORKER_LOST_AFTER = 5
    queue = Queue()
    work = sent(tmp_path, queue, 3)
    remote, vanished = "otherhost/4026531836/123", "otherhost/4026531836/456"  # no pid to check here
    held_by(remote, ["m0.py"])
    held_by(vanished, ["m1.py"])  # a claim naming a process without a heartbeat
    beat = WorkerBeat.objects.create(name=remote, beat_at=timezone.now() - timedelta(seconds=4))
    assert work.feed() == 1
    assert queue.messages[-1].path == "m1.py"
    beat.beat_at = timezone.now() - timedelta(seconds=6)
    beat.save()
    assert work.feed() == 1
    assert queue.messages[-1].path == "m0.py"


def test_only_the_current_sending_of_a_file_is_claimed(tmp_path):
    queue = Queue()
    work = sent(tmp_path, queue, 1)
    (tmp_path / "m0.py").write_text("x = 'newer'\n")
    pending.request(tmp_path, ["m0.py"])
    assert work.feed() == 1
    older, newer = queue.messages
    assert claims.mark_claimed([older], "host/1/1") == 0  # the older task must not vouch for the newer
    assert claims.mark_claimed([newer], "host/1/1") == 1
    pending.request(tmp_path, ["m0.py"])  # a newer change: the row waits to be sent again, unclaimed
    assert PendingFile.objects.get().claimed_by == ""


def test_a_file_lost_again_and_again_falls_back_to_the_slow_rule(tmp_path):
    queue = Queue()
    work = sent(tmp_path, queue, 1, redispatch_after=60)
    dead = claims.identity(ended_process())
    PendingFile.objects.update(attempts=pending.FAST_RESENDS)
    held_by(dead, ["m0.py"])
    queue.messages.clear()
    assert work.feed() == 0  # it may be what kills its workers: not every few seconds
    PendingFile.objects.update(dispatched_at=timezone.now() - timedelta(seconds=61))
    assert work.feed() == 1


def test_old_heartbeats_without_claims_are_forgotten(tmp_path):
    queue = Queue()
    sent(tmp_path, queue, 1)
    old = timezone.now() - claims.FORGET_AFTER - timedelta(seconds=1)
    beats = [("h/1/1", old), ("h/1/2", old), ("h/1/3", timezone.now())]
    WorkerBeat.objects.bulk_create([WorkerBeat(name=name, beat_at=at) for name, at in beats])
    held_by("h/1/2", ["m0.py"])
    assert claims.forget_old_beats() == 1
    assert sorted(WorkerBeat.objects.values_list("name", flat=True)) == ["h/1/2", "h/1/3"]


def test_a_worker_that_claims_its_message_at_once_keeps_the_claim(tmp_path):
    """Under load a worker takes a message and claims its rows before the feeder's next statement:
    the rows must be marked as sent before the message goes. Marked after, the claim finds no current
    sending (or the mark wipes it), and a worker killed then leaves them to the slow rule (queue
    empty, then KLR_UNCLAIMED_AFTER) instead of being found gone at once."""
    worker = claims.identity(ended_process())

    class TakenAtOnce(Queue):
        def put(self, version) -> None:
            super().put(version)
            claims.mark_claimed([version], worker)

    queue = TakenAtOnce()
    pending.request(tmp_path, tree(tmp_path, 2))
    work = feeder(queue, bound=10)
    assert work.feed() == 2
    assert set(PendingFile.objects.values_list("claimed_by", flat=True)) == {worker}
    assert work.feed() == 2  # its worker is gone: sent again at once
    assert [v.path for v in queue.messages] == ["m0.py", "m1.py", "m0.py", "m1.py"]


def test_a_lost_file_the_broker_refuses_to_take_again_is_still_sent_alone(tmp_path):
    """Marked as sent before the broker refused: a new row goes back to waiting unsent (above), a
    lost one stays "sent, never started", for the slow rule that sends it alone, not in a batch."""
    queue = Queue()
    work = sent(tmp_path, queue, 1, unclaimed_after=0)
    held_by(claims.identity(ended_process()), ["m0.py"])

    def refuse(version):
        raise ConnectionError("broker down")

    refusing = Feeder(refuse, lambda: 0, 10, 60, 0, lost_check_seconds=0)
    assert refusing.feed() == 0
    row = PendingFile.objects.get()
    assert (row.dispatched_at is not None, row.claimed_by) == (True, "")
    queue.messages.clear()
    assert work.feed() == 1  # the queue is empty and the grace (0 here) over: sent again, alone
    assert [v.path for v in queue.messages] == ["m0.py"]
