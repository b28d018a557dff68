"""Plain functions that move one file's analysis from the engine into the database.

Tasks and commands call these; nothing here knows about Celery.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.utils import timezone

from kloros_site.analysis import bus_facts, source
from kloros_site.analysis.models import PendingFile, Question, SourceFile, Transition, Tree
from kloros_site.analysis.signals import questions_changed
from kloros_site.analysis.store import DatabaseStore, lock_tree
from monitors import ENGINE_VERSION, Delta, apply
from monitors.engine import analyze_or_placeholder, placeholder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileVersion:
    """One observed state of a file, as a task carries it: the worker needs nothing else."""

    root: str
    path: str  # relative to root, POSIX
    seq: int  # when the content was read, in ns: orders versions of one path
    sha256: str = ""
    size: int = 0
    mtime_ns: int = 0
    data: bytes | None = None
    deleted: bool = False
    reason: str = ""  # set by the reader when it could not send the content (too large, unreadable)
    detail: str = ""
    force: bool = False  # analyze even if this content was analyzed already (an operator asked)

    def to_message(self) -> dict:
        """JSON-safe task payload (Celery runs with the json serializer only)."""
        message = {k: v for k, v in self.__dict__.items() if k != "data"}
        message["data_b64"] = None if self.data is None else base64.b64encode(self.data).decode("ascii")
        return message

    @classmethod
    def from_message(cls, message: dict) -> FileVersion:
        fields = {k: v for k, v in message.items() if k != "data_b64"}
        encoded = message.get("data_b64")
        return cls(**fields, data=None if encoded is None else base64.b64decode(encoded))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record(version: FileVersion) -> str:
    """Analyze and store one file version; returns what happened (a short outcome word).

    Whatever the outcome, the pending row this version answers is done with.
    """
    tree, _ = Tree.objects.get_or_create(path=version.root)
    outcome = _record(tree, version)
    PendingFile.objects.filter(tree=tree, path=version.path, seq__lte=version.seq).delete()
    return outcome


def _record(tree: Tree, version: FileVersion) -> str:
    current = SourceFile.objects.filter(tree=tree, path=version.path).first()
    if current and current.seq >= version.seq:
        return "stale"
    if (
        current
        and not version.deleted
        and not version.force
        and current.status == SourceFile.Status.ANALYZED
        and version.sha256
        and current.sha256 == version.sha256
        and current.engine_version == ENGINE_VERSION
    ):
        SourceFile.objects.filter(pk=current.pk, seq__lt=version.seq).update(
            seq=version.seq, mtime_ns=version.mtime_ns
        )
        return "unchanged"

    started = time.perf_counter()
    postings, status, reason, detail = _analyze(version)
    duration_ms = (time.perf_counter() - started) * 1000

    with transaction.atomic():
        lock_tree(tree)
        # a newer version may have been stored while we parsed
        current = SourceFile.objects.filter(tree=tree, path=version.path).first()
        if current and current.seq >= version.seq:
            return "stale"
        latency_ms = (time.time_ns() - version.seq) / 1e6
        fields = {
            "latency_ms": latency_ms,
            "status": status,
            "sha256": version.sha256,
            "size": version.size,
            "mtime_ns": version.mtime_ns,
            "seq": version.seq,
            "engine_version": ENGINE_VERSION,
            "analyzed_at": timezone.now(),
            "duration_ms": duration_ms,
            "reason": reason,
            "detail": detail,
            "source": source.pack(version.data),
        }
        if current:
            SourceFile.objects.filter(pk=current.pk).update(**fields)
        else:
            SourceFile.objects.create(tree=tree, path=version.path, **fields)
        delta = apply(DatabaseStore(tree), version.path, postings)
        transition_ids = record_transitions(tree, delta, latency_ms)
        if transition_ids:
            transaction.on_commit(
                partial(questions_changed.send, sender=Transition, transition_ids=transition_ids)
            )
    return status


def _analyze(version: FileVersion) -> tuple[dict | None, str, str, str]:
    """(postings, status, reason, detail). A file that exists but cannot be analyzed posts a
    placeholder, as the batch scan does: its module exists, its contents are unknown."""
    if version.deleted:
        return None, SourceFile.Status.DELETED, "", ""
    if version.reason:
        return placeholder(version.path), SourceFile.Status.FAILED, version.reason, version.detail
    assert version.data is not None
    try:
        postings, error = analyze_or_placeholder(version.path, version.data)
    except Exception as exc:  # an analyzer bug must not cost the file its recorded state
        log.exception("analyzer failed on %s", version.path)
        return (
            placeholder(version.path),
            SourceFile.Status.FAILED,
            "analyzer_error",
            f"{type(exc).__name__}: {exc}",
        )
    if error is not None:
        return postings, SourceFile.Status.FAILED, error.reason, str(error)
    return postings, SourceFile.Status.ANALYZED, "", ""


def record_transitions(tree: Tree, delta: Delta, latency_ms: float | None = None) -> list[int]:
    """Write one outbox row per opened, changed or resolved question of `delta`, except suppressed ones."""
    kinds = [
        (Transition.Kind.OPENED, delta.opened),
        (Transition.Kind.CHANGED, delta.changed),
        (Transition.Kind.RESOLVED, delta.resolved),
    ]
    qids = [q.id for _, questions in kinds for q in questions]
    rows = {row.qid: row for row in Question.objects.filter(tree=tree, qid__in=qids)}
    transitions = []
    for kind, questions in kinds:
        for q in questions:
            if rows[q.id].suppressed:
                continue
            transition = Transition(question=rows[q.id], kind=kind, latency_ms=latency_ms)
            transition.signal, transition.envelope = bus_facts.envelope_for(rows[q.id], transition)
            transitions.append(transition)
    created = Transition.objects.bulk_create(transitions)
    return [t.pk for t in created]
