"""A rescan's wait: cheap polls while the workers extract, and a scan heard once as its result."""

from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kloros_site.analysis import evaluation, pending, pending_rows
from kloros_site.analysis.models import PendingFile, Question, SourceFile, Transition, Tree
from kloros_site.analysis.scan_wait import Waiting, status
from kloros_site.analysis.services import record_batch
from tests.kloros_site.analysis import test_feeder_batches
from tests.kloros_site.analysis.test_feeder_batches import Queue, write

pytestmark = pytest.mark.django_db


class LostTriggers(Queue):
    """Workers whose evaluation task is lost on its way: only the rescan's sweep asks again."""

    def work(self, n: int | None = None) -> None:
        for message in self.messages[:n]:
            record_batch(message if isinstance(message, list) else [message], lambda tree_id: None)
        del self.messages[:n]


def scan(tmp_path, files: int, queue: Queue):
    (tmp_path / "b.py").write_text("import a\nfrom a import missing\n")
    pending.request(tmp_path, [*write(tmp_path, files, "import b\nfrom b import nothing_here\n"), "b.py"])
    work = test_feeder_batches.feeder(queue, bound=1000, files=4)
    assert work.feed() == files + 1
    # evaluated where it is asked for, as a worker would take the task at once
    waiting = Waiting(Tree.objects.get().pk, work.feed, partial(evaluation.sweep, evaluation.evaluate_tree))
    return waiting


def test_a_poll_while_the_workers_extract_is_one_query(tmp_path):
    queue = Queue()
    waiting = scan(tmp_path, 30, queue)
    waiting.lost_check_seconds = 3600  # the first poll looks for lost work, the next ones not again
    waiting.poll()
    messages, per_poll = len(queue.messages), []
    while PendingFile.objects.exists():
        queue.work(1)
        with CaptureQueriesContext(connection) as queries:
            done = waiting.poll()
        per_poll.append(len(queries))
    # the last file's task evaluated the tree: the poll after it finds it settled
    assert len(per_poll) == messages and set(per_poll) == {1} and done.settled


def test_a_lost_evaluation_is_asked_again_and_heard_once(tmp_path, settings):
    settings.KLR_EVALUATION_LOST_AFTER = 0
    queue = LostTriggers()
    waiting = scan(tmp_path, 30, queue)
    waiting.lost_check_seconds = 0  # looks for lost work on every poll
    polls = []
    while len(polls) < 30 and not (polls and polls[-1].settled):
        queue.work(2)
        polls.append(waiting.poll())
    assert SourceFile.objects.count() == 31 and not PendingFile.objects.exists()
    assert polls[-1].settled and polls[-2].requested  # the sweep's request, after the lost one
    kinds = list(Transition.objects.values_list("kind", flat=True))
    assert kinds and set(kinds) == {"opened"} and len(kinds) == Question.objects.open().count()


def test_the_status_counts_the_tree_s_files_left_and_those_never_sent(tmp_path):
    pending.request(tmp_path, write(tmp_path, 5))
    tree = Tree.objects.get()
    assert status(tree.pk) == status(tree.pk).__class__(5, True, False, False)
    first = PendingFile.objects.order_by("id").first()
    assert first is not None
    pending_rows.mark_sent([(row.pk, row.seq, 1) for row in PendingFile.objects.all()], first.created_at)
    assert not status(tree.pk).unsent and status(tree.pk).left == 5
