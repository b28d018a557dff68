"""The sending side of the analysis queue: file versions to analyze, trees to evaluate.

Everything that puts work on the broker goes through here (the watcher, rescan, the admin,
the evaluation trigger), by the tasks' registered names: nothing below tasks/ imports tasks/.
"""

from __future__ import annotations

from django.conf import settings

from kloros_site.analysis.messages import (
    ANALYZE_FILE,
    ANALYZE_FILES,
    EVALUATE_TREE,
    HELP_EVALUATE,
    FileVersion,
)
from kloros_site.analysis.pending import Feeder
from kloros_site.celery import app, evaluation_queue

# a pooled connection left stale by a broker restart is replaced on the first retry; a broker
# that stays away raises soon, and the caller keeps the work (the pending row) for later
DISPATCH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def send_message(message: dict) -> None:
    """Send one analysis message as it is (a dead letter's stored message, say)."""
    _send(ANALYZE_FILE, message, [message.get("path")])


def dispatch(version: FileVersion) -> None:
    send_message(version.to_message())


def dispatch_batch(versions: list[FileVersion]) -> None:
    """Several file versions in one message: one task's cost (events, ack, a round trip) for all."""
    if len(versions) == 1:
        dispatch(versions[0])
        return
    _send(ANALYZE_FILES, [version.to_message() for version in versions], [v.path for v in versions])


def _send(task: str, payload: dict | list[dict], paths: list) -> None:
    app.send_task(
        task,
        args=[payload],
        queue=settings.KLR_ANALYSIS_QUEUE,
        retry=True,
        retry_policy=DISPATCH_RETRY,
        # what Flower and the logs show instead of the whole file in base64
        argsrepr=repr(paths),
    )


def send_evaluation(tree_id: int) -> None:
    _send_tree(EVALUATE_TREE, tree_id)


def send_evaluation_help(tree_id: int) -> None:
    """Ask a worker to evaluate rounds of the tree's running big evaluation."""
    _send_tree(HELP_EVALUATE, tree_id)


def _send_tree(task: str, tree_id: int) -> None:
    app.send_task(
        task,
        args=[tree_id],
        queue=evaluation_queue(settings.KLR_ANALYSIS_QUEUE),
        retry=True,
        retry_policy=DISPATCH_RETRY,
    )


def queue_depth() -> int:
    """Messages waiting in the analysis queue.

    A declare (with the queue's own arguments, so it also creates a missing queue) answers
    with the count; on Redis it includes the priority lists that LLEN would miss.
    """
    queue = next(q for q in app.conf.task_queues if q.name == settings.KLR_ANALYSIS_QUEUE)
    with app.pool.acquire(block=True) as conn:
        return queue.bind(conn.default_channel).queue_declare().message_count


def feeder() -> Feeder:
    return Feeder(
        dispatch,
        queue_depth,
        settings.KLR_QUEUE_BOUND,
        settings.KLR_REDISPATCH_AFTER,
        dispatch_batch=dispatch_batch,
        batch_files=settings.KLR_BATCH_FILES,
        batch_bytes=settings.KLR_BATCH_BYTES,
    )
