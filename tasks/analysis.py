"""The analysis tasks: thin, each a call of a plain function in kloros_site.analysis."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from kloros_site.analysis import claims, enqueue, evaluation, rounds
from kloros_site.analysis.messages import (
    ANALYZE_FILE,
    ANALYZE_FILES,
    EVALUATE_TREE,
    HELP_EVALUATE,
    FileVersion,
)
from kloros_site.analysis.models import DeadLetter, PendingFile, SourceFile, Tree
from kloros_site.analysis.services import record_batch
from kloros_site.celery import app

log = logging.getLogger(__name__)


def dead_letter(message: dict, error: str, attempts: int) -> None:
    """Keep the message whole so an operator can retry it from the admin."""
    tree, _ = Tree.objects.get_or_create(path=message["root"])
    DeadLetter.objects.create(
        tree=tree, path=message["path"], message=message, error=error, attempts=attempts
    )
    # the dead letter now owns this change; the feeder must not send it again and again
    PendingFile.objects.filter(tree=tree, path=message["path"], seq__lte=message["seq"]).delete()
    evaluation.request_if_due(tree, enqueue.send_evaluation)


class AnalysisTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Out of retries (a single file's task)."""
        dead_letter(args[0], f"{type(exc).__name__}: {exc}", self.request.retries + 1)


class AnalysisBatchTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """The files of the batch not stored yet: out of retries (the database stayed away), each
        is dead-lettered; otherwise (a time limit: one slow file) each goes again in a task of its
        own, so that only the file that fails alone is dead-lettered."""
        for message in args[0]:
            stored = SourceFile.objects.filter(tree__path=message["root"], path=message["path"])
            if stored.filter(seq__gte=message["seq"]).exists():
                continue
            if not isinstance(exc, (OperationalError, InterfaceError)):
                try:
                    enqueue.send_message(message)
                    continue
                except Exception:  # broker away as well: the dead letter keeps the file
                    log.warning("could not send %s again alone", message["path"], exc_info=True)
            dead_letter(message, f"{type(exc).__name__}: {exc}", self.request.retries + 1)


RETRIES = {
    "rate_limit": settings.KLR_ANALYSIS_RATE_LIMIT,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    # 1+2+4+8+16 s: a database restart is waited out, not dead-lettered (with jitter, three
    # retries could all fall within a restart of a few seconds)
    "retry_jitter": False,
    "max_retries": 5,
}


@app.task(base=AnalysisTask, name=ANALYZE_FILE, **RETRIES)
def analyze_file(message: dict) -> str:
    """Extract one file version carried in full by the message; the worker reads no files."""
    return extract([FileVersion.from_message(message)])[0]


@app.task(base=AnalysisBatchTask, name=ANALYZE_FILES, **RETRIES)
def analyze_files(messages: list[dict]) -> list[str]:
    """Extract several file versions (a scan's or a storm's backlog) in one transaction; a file
    that fails on its own is dead-lettered alone, the others are stored."""
    versions = [FileVersion.from_message(message) for message in messages]
    message_of = {id(version): message for version, message in zip(versions, messages, strict=True)}

    def failed(version: FileVersion, exc: Exception) -> None:
        dead_letter(message_of[id(version)], f"{type(exc).__name__}: {exc}", 1)

    return extract(versions, failed)


def extract(
    versions: list[FileVersion], failed: Callable[[FileVersion, Exception], None] | None = None
) -> list[str]:
    """What both analysis tasks do: claim the files, store them, evaluate or ask for it, log each."""
    claims.claim(versions)  # the files are now in this process's hands: lost with it if it dies
    outcomes = record_batch(versions, evaluation.here_or_send(enqueue.send_evaluation), failed)
    for version, outcome in zip(versions, outcomes, strict=True):
        log.info("%s: %s", version.path, OUTCOMES.get(outcome, outcome))  # the worker log names the file
    return outcomes


OUTCOMES = {
    "failed": "failed: could not be analyzed (the file's page says why)",
    "stale": "stale: a newer version is stored",
}


@app.task(
    name=EVALUATE_TREE,
    # a cold scan of a big tree is one long evaluation (rounds of keys, each
    # committed): the per-file analysis limits would cut it off and make it start over
    soft_time_limit=settings.KLR_EVALUATION_TIME_LIMIT,
    time_limit=settings.KLR_EVALUATION_TIME_LIMIT + 60,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=None,  # its work stays in the database; giving up would only delay it
)
def evaluate_tree(tree_id: int) -> int:
    """Turn every change recorded for the tree into question changes, in batches."""
    written = evaluation.evaluate_tree(tree_id, ask_help=enqueue.send_evaluation_help)
    evaluation.request_if_due(Tree.objects.get(pk=tree_id), enqueue.send_evaluation)
    return written


@app.task(
    name=HELP_EVALUATE,
    soft_time_limit=settings.KLR_EVALUATION_TIME_LIMIT,
    time_limit=settings.KLR_EVALUATION_TIME_LIMIT + 60,
    # a round that failed (a deadlock with another round) is left for the evaluation to take over
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=2,
)
def help_evaluate(tree_id: int) -> int:
    """Evaluate rounds of the tree's running big evaluation, alongside it."""
    return rounds.help_evaluate(tree_id)


@app.task(name="kloros.evaluation_sweep")
def evaluation_sweep() -> int:
    """Beat: evaluate trees whose trigger was lost with a killed worker."""
    return evaluation.sweep(enqueue.send_evaluation)
