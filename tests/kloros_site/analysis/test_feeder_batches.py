"""A backlog goes to the workers several files per message; a few changes go one per message."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kloros_site.analysis import claims, pending
from kloros_site.analysis.models import PendingFile, SourceFile, WorkerBeat
from kloros_site.analysis.pending import Feeder
from kloros_site.analysis.services import record_batch
from tests.kloros_site.analysis import test_pending

pytestmark = pytest.mark.django_db


class Queue(test_pending.Queue):
    """The broker's analysis queue: a message is one file version or a list of them."""

    def work(self, n: int | None = None) -> None:
        for message in self.messages[:n]:
            record_batch(message if isinstance(message, list) else [message])
        del self.messages[:n]


def feeder(queue: Queue, bound: int, files: int, size: int = 1 << 20) -> Feeder:
    # looks for lost work on every feed, not at most twice a second
    return Feeder(
        queue.put,
        queue.depth,
        bound,
        60,
        lost_check_seconds=0,
        dispatch_batch=queue.put,
        batch_files=files,
        batch_bytes=size,
    )


def files_per_message(queue: Queue) -> list[int]:
    return [len(m) if isinstance(m, list) else 1 for m in queue.messages]


def write(tmp_path, count: int, body: str = "x = 1\n") -> list[str]:
    for i in range(count):
        (tmp_path / f"m{i:03}.py").write_text(body)
    return [f"m{i:03}.py" for i in range(count)]


def test_a_backlog_is_sent_in_batches_spread_over_several_messages(tmp_path):
    queue = Queue()
    pending.request(tmp_path, write(tmp_path, 100))
    assert feeder(queue, bound=1000, files=10).feed() == 100
    assert files_per_message(queue) == [10] * 10  # at most 10 files each, at least SPREAD messages
    queue.work()
    assert SourceFile.objects.count() == 100 and not PendingFile.objects.exists()


def test_a_few_changes_go_one_per_message(tmp_path):
    queue = Queue()
    pending.request(tmp_path, write(tmp_path, 3))
    assert feeder(queue, bound=1000, files=10).feed() == 3
    assert files_per_message(queue) == [1, 1, 1]


def test_the_bound_counts_messages_and_nothing_is_dropped(tmp_path):
    queue = Queue()
    paths = write(tmp_path, 50)
    pending.request(tmp_path, paths)
    work = feeder(queue, bound=3, files=4)
    while PendingFile.objects.exists():
        work.feed()
        assert max(files_per_message(queue)) <= 4
        queue.work(2)
    assert queue.high_water == 3
    assert sorted(SourceFile.objects.values_list("path", flat=True)) == paths


def test_a_message_holds_at_most_the_byte_bound_and_a_bigger_file_goes_alone(tmp_path):
    queue = Queue()
    paths = write(tmp_path, 40, "x = 1\n" * 100)  # 600 bytes each
    (tmp_path / "big.py").write_text("y = 2\n" * 1000)
    pending.request(tmp_path, [*paths, "big.py"])
    feeder(queue, bound=1000, files=16, size=1300).feed()
    sizes = [[len(v.data) for v in (m if isinstance(m, list) else [m])] for m in queue.messages]
    assert sorted(sum(s) for s in sizes)[-1] == 6000 and [6000] in sizes
    assert all(sum(s) <= 1300 for s in sizes if s != [6000])
    assert sum(len(s) for s in sizes) == 41


def test_a_row_whose_task_was_lost_goes_alone(tmp_path):
    queue = Queue()
    paths = write(tmp_path, 40)
    pending.request(tmp_path, paths)
    work = feeder(queue, bound=1000, files=10)
    work.feed()
    queue.messages.clear()  # a worker died holding them all, on a broker without acknowledgements
    PendingFile.objects.update(dispatched_at=timezone.now() - timedelta(seconds=61))
    assert work.feed() == 40
    assert files_per_message(queue) == [1] * 40  # a file that kills its worker takes no other with it


def lost_with_its_pool_process(tmp_path, queue: Queue, parent: str, files: int = 32) -> Feeder:
    """`files` sent, then held by a pool process that has ended, started by the worker `parent`."""
    pending.request(tmp_path, write(tmp_path, files))
    work = feeder(queue, bound=1000, files=16)
    work.feed()
    queue.messages.clear()  # taken by that pool process: acks_late, the broker gives nothing back
    dead = claims.identity(test_pending.ended_process())
    WorkerBeat.objects.create(name=dead, parent=parent, beat_at=timezone.now())
    PendingFile.objects.update(claimed_by=dead, claimed_at=timezone.now())
    return work


def test_the_files_of_a_whole_worker_killed_are_sent_again_together(tmp_path):
    """Its main process is gone too: killed from outside (an operator, a crash of the machine's
    worker service), not by one of its files, so the files go in messages, shared by two workers."""
    queue = Queue()
    work = lost_with_its_pool_process(tmp_path, queue, parent=claims.identity(test_pending.ended_process()))
    assert work.feed() == 32
    assert files_per_message(queue) == [16, 16]
    queue.work()
    assert not PendingFile.objects.exists()


def test_the_files_of_a_pool_process_that_died_under_a_live_worker_go_alone(tmp_path):
    """A pool process that dies while its worker lives may have been killed by a file (a crash, the
    hard time limit): each of its files goes alone, as does a file lost twice whatever killed it."""
    queue = Queue()
    work = lost_with_its_pool_process(tmp_path, queue, parent=claims.identity(), files=20)  # this process
    assert work.feed() == 20
    assert files_per_message(queue) == [1] * 20
    queue.messages.clear()
    dead = claims.identity(test_pending.ended_process())
    WorkerBeat.objects.create(
        name=dead, parent=claims.identity(test_pending.ended_process()), beat_at=timezone.now()
    )
    PendingFile.objects.update(claimed_by=dead, claimed_at=timezone.now())
    assert work.feed() == 20
    assert files_per_message(queue) == [1] * 20


def test_what_the_watcher_finds_in_one_pass_goes_in_as_few_messages_as_the_batch_allows(tmp_path):
    queue = Queue()
    paths = write(tmp_path, 20)
    work = feeder(queue, bound=1000, files=16)
    assert work.send_now(tmp_path, paths[:5])
    assert files_per_message(queue) == [5]
    assert work.send_now(tmp_path, paths)  # more than one message holds: shared evenly
    assert files_per_message(queue) == [5, 10, 10]
    assert not PendingFile.objects.filter(dispatched_at__isnull=True).exists()
    queue.work()
    assert SourceFile.objects.count() == 20 and not PendingFile.objects.exists()


def test_the_watcher_leaves_to_the_feeder_what_would_fill_more_than_half_the_queue(tmp_path):
    queue = Queue()
    paths = write(tmp_path, 40)  # three messages of at most 16 files
    assert not feeder(queue, bound=5, files=16).send_now(tmp_path, paths)
    assert queue.messages == [] and not PendingFile.objects.exists()
    assert feeder(queue, bound=6, files=16).send_now(tmp_path, paths)
    assert files_per_message(queue) == [14, 14, 12]


def test_a_message_the_broker_refuses_leaves_its_files_to_the_feeder(tmp_path):
    queue = Queue()
    paths = write(tmp_path, 20)

    def second_refused(versions) -> None:
        if queue.messages:
            raise ConnectionError("broker away")
        queue.put(versions)

    work = Feeder(
        queue.put, queue.depth, 1000, 60, dispatch_batch=second_refused, batch_files=10, batch_bytes=1 << 20
    )
    assert work.send_now(tmp_path, paths)
    assert [v.path for v in queue.messages[0]] == paths[:10]
    unsent = PendingFile.objects.filter(dispatched_at__isnull=True).values_list("path", flat=True)
    assert sorted(unsent) == paths[10:]
    assert work.feed() == 10
    queue.work()
    assert SourceFile.objects.count() == 20 and not PendingFile.objects.exists()


def test_while_the_queue_keeps_the_workers_busy_only_full_messages_go(tmp_path):
    queue = Queue()
    queue.messages += ["waiting", "waiting"]  # pending.BUSY messages nobody has taken yet
    paths = write(tmp_path, 20)
    work = feeder(queue, bound=1000, files=16)
    pending.request(tmp_path, paths[:5])
    assert work.feed() == 0  # a message of 5 waits for more files or a shorter queue
    assert not work.send_now(tmp_path, paths[5:8])  # and the watcher's changes go to the feeder
    pending.request(tmp_path, paths)
    assert work.feed() == 16 and files_per_message(queue)[2:] == [16]
    del queue.messages[:2]  # the workers took them
    assert work.feed() == 4 and files_per_message(queue) == [16, 1, 1, 1, 1]
    queue.work()
    assert SourceFile.objects.count() == 20 and not PendingFile.objects.exists()


def test_a_message_marks_its_rows_sent_in_one_statement(tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queue = Queue()
    pending.request(tmp_path, write(tmp_path, 40))
    with CaptureQueriesContext(connection) as queries:
        assert feeder(queue, bound=1000, files=10).feed() == 40
    updates = [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "analysis_pendingfile"')]
    assert files_per_message(queue) == [5] * 8
    assert len(updates) == 8  # one per message, not one per file
    sent = PendingFile.objects.values_list("path", "dispatched_seq", "attempts", "claimed_by")
    versions = {v.path: v.seq for message in queue.messages for v in message}
    assert sorted(sent) == sorted((path, seq, 1, "") for path, seq in versions.items())
