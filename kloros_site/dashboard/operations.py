"""What an operator can do to questions, files and dead letters; the admin actions only call these."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from kloros_site.analysis.models import DeadLetter, Question, SourceFile

log = logging.getLogger(__name__)


def evidence_path(item: str) -> str:
    """`pkg/mod.py:12` -> `pkg/mod.py` (a path may itself contain colons; the line never does)."""
    path, sep, line = item.rpartition(":")
    return path if sep and line.isdigit() else item


def evidence_mentions(path: str) -> Q:
    """Questions whose evidence names `path`, matched on the stored JSON text.

    Evidence is a JSON list of "path:LINE" strings; a quote before the path and a colon after
    it match whole paths only. Both escapings are tried because SQLite keeps the JSON text as
    Django wrote it (non-ASCII escaped) while PostgreSQL's jsonb prints it unescaped.
    """
    needles = {json.dumps(path, ensure_ascii=flag)[:-1] + ":" for flag in (True, False)}
    query = Q()
    for needle in needles:
        query |= Q(evidence__icontains=needle)
    return query


def open_questions_for(file: SourceFile) -> QuerySet[Question]:
    return Question.objects.open().filter(evidence_mentions(file.path), tree_id=file.tree_id)


def acknowledge(questions: QuerySet[Question], username: str) -> int:
    return questions.filter(acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=username
    )


def suppress(questions: QuerySet[Question], reason: str) -> int:
    return questions.update(suppressed=True, suppressed_reason=reason, suppressed_at=timezone.now())


def unsuppress(questions: QuerySet[Question]) -> int:
    return questions.filter(suppressed=True).update(
        suppressed=False, suppressed_reason="", suppressed_at=None
    )


def _safe_relative(path: str) -> str | None:
    """A path that stays inside its root: evidence is data, and `..` must not read outside."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts:
        return None
    return pure.as_posix()


def reanalyze(files: Iterable[tuple[str, str]]) -> int:
    """Read each (root, relative path) now and send it to the workers; returns how many were sent.

    A file that is gone is sent as a deletion, which is what the store should learn anyway.
    """
    from kloros_site.analysis.enqueue import dispatch
    from kloros_site.analysis.reader import read_version

    sent = 0
    for root, rel in sorted(set(files)):
        safe = _safe_relative(rel)
        if safe is None:
            log.warning("not re-analyzing %r: not a relative path inside its tree", rel)
            continue
        version = read_version(Path(root), Path(root) / safe, settings.KLR_MAX_FILE_BYTES)
        dispatch(replace(version, force=True))
        sent += 1
    return sent


def reanalyze_questions(questions: QuerySet[Question]) -> int:
    files = [
        (root, evidence_path(item))
        for root, evidence in questions.values_list("tree__path", "evidence")
        for item in (evidence or [])
        if isinstance(item, str)
    ]
    return reanalyze(files)


def reanalyze_files(files: QuerySet[SourceFile]) -> int:
    return reanalyze(files.values_list("tree__path", "path"))


def retry_dead_letters(letters: QuerySet[DeadLetter]) -> int:
    """Send each stored message again, as it was; the worker decides if it is still news."""
    from kloros_site.analysis.enqueue import send_message

    retried = 0
    for letter in letters.order_by("id"):
        send_message(letter.message)
        DeadLetter.objects.filter(pk=letter.pk).update(retried_at=timezone.now())
        retried += 1
    return retried
