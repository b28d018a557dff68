from __future__ import annotations

import logging

from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from kloros_site.analysis.models import DeadLetter, PendingFile, Tree
from kloros_site.analysis.pending import Feeder
from kloros_site.analysis.services import FileVersion, record
from kloros_site.celery import app

log = logging.getLogger(__name__)


class AnalysisTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Out of retries: keep the message whole so an operator can retry it from the admin."""
        message = args[0]
        tree, _ = Tree.objects.get_or_create(path=message["root"])
        DeadLetter.objects.create(
            tree=tree,
            path=message["path"],
            message=message,
            error=f"{type(exc).__name__}: {exc}",
            attempts=self.request.retries + 1,
        )
        # the dead letter now owns this change; the feeder must not send it again and again
        PendingFile.objects.filter(tree=tree, path=message["path"], seq__lte=message["seq"]).delete()


@app.task(
    base=AnalysisTask,
    name="kloros.analyze_file",
    rate_limit=settings.KLR_ANALYSIS_RATE_LIMIT,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=3,
)
def analyze_file(message: dict) -> str:
    """Analyze one file version carried in full by the message; the worker reads no files."""
    outcome = record(FileVersion.from_message(message))
    log.info("%s: %s", message["path"], OUTCOMES.get(outcome, outcome))  # the worker log names the file
    return outcome


OUTCOMES = {
    "failed": "failed: could not be analyzed (the file's page says why)",
    "stale": "stale: a newer version is stored",
}


# a pooled connection left stale by a broker restart is replaced on the first retry; a broker
# that stays away raises soon, and the caller keeps the work (the pending row) for later
DISPATCH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def dispatch(version: FileVersion) -> None:
    analyze_file.apply_async(
        args=[version.to_message()],
        # what Flower and the logs show for the arguments: the file, never its content
        argsrepr=repr((version.path,)),
        kwargsrepr=repr({"root": version.root, "bytes": version.size}),
        queue=settings.KLR_ANALYSIS_QUEUE,
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
    return Feeder(dispatch, queue_depth, settings.KLR_QUEUE_BOUND, settings.KLR_REDISPATCH_AFTER)
