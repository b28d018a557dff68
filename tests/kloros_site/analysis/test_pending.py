"""The feeder against a queue it can see: a list standing in for the broker's analysis queue.

The real brokers are exercised end to end in tests/e2e; here the bound, the coalescing and
the re-sending of lost work are checked one rule at a time.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from kloros_site.analysis import pending
from kloros_site.analysis.models import PendingFile
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


def feeder(queue: Queue, bound: int = 3, redispatch_after: float = 60) -> Feeder:
    return Feeder(queue.put, queue.depth, bound, redispatch_after)


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
