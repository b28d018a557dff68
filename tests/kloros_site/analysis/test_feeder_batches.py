"""A backlog goes to the workers several files per message; a few changes go one per message."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kloros_site.analysis import pending
from kloros_site.analysis.models import PendingFile, SourceFile
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


def test_a_message_marks_its_pending_rows_sent_in_one_statement(tmp_path):
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
