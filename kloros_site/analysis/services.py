"""Plain functions that move one file's analysis from the engine into the database.

Tasks and commands call these; nothing here knows about Celery. Extraction (`record`) runs on
any worker in parallel and locks only the file's own row; what it changed is evaluated in
batches by kloros_site.analysis.evaluation.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from kloros_site.analysis import evaluation, measurements, source
from kloros_site.analysis.messages import FileVersion
from kloros_site.analysis.models import ChangedKeys, PendingFile, SourceFile, Tree
from kloros_site.analysis.store import write_postings
from monitors import ENGINE_VERSION
from monitors.config import DEFAULT, Config
from monitors.engine import analyze_or_placeholder, placeholder

log = logging.getLogger(__name__)


def analysis_version(config: Config) -> str:
    """What produced a stored analysis: the analysis code and the tree's configuration."""
    if config == DEFAULT:
        return ENGINE_VERSION
    return hashlib.sha256(f"{ENGINE_VERSION}|{config.digest()}".encode()).hexdigest()[:16]


def evaluate_now(tree_id: int) -> None:
    """The default for callers without workers (tests, one-off tools): evaluate in this process."""
    evaluation.evaluate_tree(tree_id)


def record(version: FileVersion, request_evaluation: Callable[[int], None] = evaluate_now) -> str:
    """Analyze and store one file version; returns what happened (a short outcome word).

    Whatever the outcome, the pending row this version answers is done with; if that leaves
    the tree settled (or a trickle has waited long enough), its evaluation is requested.
    """
    tree, _ = Tree.objects.get_or_create(path=version.root)
    try:
        outcome = _record(tree, version)
    except IntegrityError:  # another worker created the same new file's row first: now it exists
        outcome = _record(tree, version)
    if outcome in ("stale", "unchanged"):  # (a stored version deletes its row in its transaction)
        answered(tree, version)
    measurements.note_analysis(tree, version.path, outcome)  # measured for the runtime questions
    evaluation.request_if_due(tree, request_evaluation)
    return outcome


def answered(tree: Tree, version: FileVersion) -> None:
    """The pending row this version answers is done with (a newer change keeps its row)."""
    done = PendingFile.objects.filter(tree=tree, path=version.path, seq__lte=version.seq)
    done._raw_delete(done.db)


def _record(tree: Tree, version: FileVersion) -> str:
    config = tree.analysis_config()
    engine_version = analysis_version(config)
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
        and current.engine_version == engine_version
    ):
        SourceFile.objects.filter(pk=current.pk, seq__lt=version.seq).update(
            seq=version.seq, mtime_ns=version.mtime_ns
        )
        return "unchanged"

    started = time.perf_counter()
    postings, status, reason, detail = _analyze(version, config)
    duration_ms = (time.perf_counter() - started) * 1000

    with transaction.atomic():
        file = _locked_file(tree, version.path) if current else SourceFile(tree=tree, path=version.path)
        # a newer version may have been stored while we parsed
        if file.seq >= version.seq:
            return "stale"
        file.latency_ms = (time.time_ns() - version.seq) / 1e6
        file.status = status
        file.sha256 = version.sha256
        file.size = version.size
        file.mtime_ns = version.mtime_ns
        file.seq = version.seq
        file.engine_version = engine_version
        file.analyzed_at = timezone.now()
        file.duration_ms = duration_ms
        file.reason = reason
        file.detail = detail
        file.source = source.pack(version.data)
        file.save(force_insert=current is None)  # new: one INSERT; a race with another is an IntegrityError
        changed = write_postings(file, postings, new=current is None)
        if changed:
            ChangedKeys.objects.create(tree=tree, keys=sorted(changed), seq=version.seq)
        answered(tree, version)
    return status


def _locked_file(tree: Tree, path: str) -> SourceFile:
    """The file's row, locked until the transaction ends.

    Two versions of one path are stored one after the other; files never wait for each other.
    """
    return SourceFile.objects.select_for_update().get(tree=tree, path=path)


def _analyze(version: FileVersion, config: Config) -> tuple[dict | None, str, str, str]:
    """(postings, status, reason, detail). A file that exists but cannot be analyzed posts a
    placeholder, as the batch scan does: its module exists, its contents are unknown."""
    if version.deleted:
        return None, SourceFile.Status.DELETED, "", ""
    if version.reason:
        return placeholder(version.path, config), SourceFile.Status.FAILED, version.reason, version.detail
    assert version.data is not None
    try:
        postings, error = analyze_or_placeholder(version.path, version.data, config)
    except Exception as exc:  # an analyzer bug must not cost the file its recorded state
        log.exception("analyzer failed on %s", version.path)
        return (
            placeholder(version.path, config),
            SourceFile.Status.FAILED,
            "analyzer_error",
            f"{type(exc).__name__}: {exc}",
        )
    if error is not None:
        return postings, SourceFile.Status.FAILED, error.reason, str(error)
    return postings, SourceFile.Status.ANALYZED, "", ""
