"""What an operator does to questions, files and dead letters: the admin's actions and the
question page's buttons call these, and each change is written to the admin log with who did it
(the question page's timeline and the admin's History read it back)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kloros_site.analysis import enqueue
from kloros_site.analysis.evidence import cited_files, safe_relative
from kloros_site.analysis.messages import FileVersion
from kloros_site.analysis.models import DeadLetter, Question, SourceFile

log = logging.getLogger(__name__)


def send(version: FileVersion) -> None:
    """The one place operator actions hand work to the workers (by the task's registered name)."""
    enqueue.dispatch(version)


def _log(user, model, ids: list[int], message: str) -> None:
    if ids and user is not None and user.pk is not None:
        LogEntry.objects.log_actions(
            user.pk, model.objects.filter(pk__in=ids), CHANGE, change_message=message
        )


def acknowledge(questions: QuerySet[Question], user) -> int:
    with transaction.atomic():
        ids = list(questions.filter(acknowledged_at__isnull=True).values_list("pk", flat=True))
        count = Question.objects.filter(pk__in=ids).acknowledge(user.get_username())
        _log(user, Question, ids, "Acknowledged")
    return count


def suppress(questions: QuerySet[Question], reason: str, user) -> int:
    with transaction.atomic():
        ids = list(questions.values_list("pk", flat=True))
        count = Question.objects.filter(pk__in=ids).suppress(reason)
        _log(user, Question, ids, f"Suppressed: {reason}")
    return count


def unsuppress(questions: QuerySet[Question], user) -> int:
    with transaction.atomic():
        ids = list(questions.filter(suppressed=True).values_list("pk", flat=True))
        count = Question.objects.filter(pk__in=ids).unsuppress()
        _log(user, Question, ids, "Unsuppressed")
    return count


def reanalyze(files: Iterable[tuple[str, str]]) -> int:
    """Read each (root, relative path) now and send it to the workers; returns how many were sent.

    A file that is gone is sent as a deletion, which is what the store should learn anyway.
    """
    from kloros_site.analysis.reader import read_version

    sent = 0
    for root, rel in sorted(set(files)):
        safe = safe_relative(rel)
        if safe is None:
            log.warning("not re-analyzing %r: not a relative path inside its tree", rel)
            continue
        version = read_version(Path(root), Path(root) / safe, settings.KLR_MAX_FILE_BYTES)
        send(replace(version, force=True))
        sent += 1
    return sent


def reanalyze_questions(questions: QuerySet[Question], user=None) -> int:
    files = cited_files(questions)
    sent = reanalyze(files)
    paths = ", ".join(sorted({path for _, path in files}))
    _log(
        user, Question, list(questions.values_list("pk", flat=True)), f"Re-analysis requested: {paths}"[:2000]
    )
    return sent


def reanalyze_files(files: QuerySet[SourceFile], user=None) -> int:
    sent = reanalyze(files.values_list("tree__path", "path"))
    _log(user, SourceFile, list(files.values_list("pk", flat=True)), "Re-analysis requested")
    return sent


def retry_dead_letters(letters: QuerySet[DeadLetter], user=None) -> int:
    """Send each stored message again, as it was; the worker decides if it is still news."""
    retried = []
    for letter in letters.order_by("id"):
        enqueue.send_message(letter.message)
        DeadLetter.objects.filter(pk=letter.pk).update(retried_at=timezone.now())
        retried.append(letter.pk)
    _log(user, DeadLetter, retried, "Retried")
    return len(retried)
