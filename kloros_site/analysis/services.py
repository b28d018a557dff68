"""Plain functions that move one file's analysis from the engine into the database.

Tasks and commands call these; nothing here knows about Celery. Extraction (`record`, or
`record_batch` for several files of a backlog in one transaction) runs on any worker in parallel
and locks only the files' own rows; what it changed is evaluated in batches by
kloros_site.analysis.evaluation.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from kloros_site.analysis import evaluation, measurements, source
from kloros_site.analysis.messages import FileVersion
from kloros_site.analysis.models import ChangedKeys, PendingFile, SourceFile, Tree
from kloros_site.analysis.postings import write_many_postings
from monitors import ENGINE_VERSION
from monitors.config import DEFAULT, Config
from monitors.engine import analyze_or_placeholder, placeholder

log = logging.getLogger(__name__)
# the database is away (a restart): a batch waits it out whole instead of failing file by file
DATABASE_AWAY = (OperationalError, InterfaceError)
# what the database (or its driver) refuses of one file's values; anything else (a time limit)
# ends the batch as it would end a single file's task
REFUSED = (DatabaseError, ValueError, OverflowError)


def analysis_version(config: Config) -> str:
    """What produced a stored analysis: the analysis code and the tree's configuration."""
    if config == DEFAULT:
        return ENGINE_VERSION
    return hashlib.sha256(f"{ENGINE_VERSION}|{config.digest()}".encode()).hexdigest()[:16]


def evaluate_now(tree_id: int) -> None:
    """The default for callers without workers (tests, one-off tools): evaluate in this process."""
    evaluation.evaluate_tree(tree_id)


def record(version: FileVersion, request_evaluation: Callable[[int], None] = evaluate_now) -> str:
    """Analyze and store one file version; returns what happened (a short outcome word)."""
    return record_batch([version], request_evaluation)[0]


def record_batch(
    versions: list[FileVersion],
    request_evaluation: Callable[[int], None] = evaluate_now,
    failed: Callable[[FileVersion, Exception], None] | None = None,
) -> list[str]:
    """Analyze and store several file versions, each as `record` would; their outcomes in order.

    They are stored in one transaction per tree (a few statements for the whole batch). Each
    version stays what it is alone: stored unless a newer version of its path is, its pending
    row done with whatever the outcome. If one of them makes the batch fail for another reason
    than the database being away, each is stored in a transaction of its own, and a version that
    still fails goes to `failed` (outcome "failed:<error>") instead of costing the others theirs.
    Then, if that leaves the tree settled (or a trickle has waited long enough), its evaluation
    is requested.
    """
    outcomes: dict[int, str] = {}
    by_root: dict[str, list[int]] = {}
    for i, version in enumerate(versions):
        by_root.setdefault(version.root, []).append(i)
    for root, indexes in by_root.items():
        tree, _ = Tree.objects.get_or_create(path=root)
        group = [versions[i] for i in indexes]
        if len(group) == 1 or failed is None:
            stored = _store_retrying(tree, group)
        else:
            stored = _store_isolating(tree, group, failed)
        outcomes.update(zip(indexes, (outcome for outcome, _ in stored), strict=True))
        # the versions stored in a transaction were measured in it; the others now
        unnoted = [(v.path, outcome) for v, (outcome, noted) in zip(group, stored, strict=True) if not noted]
        measurements.note_analyses(tree, unnoted)
        changed = any(noted for _, noted in stored)  # a transaction stored some: changes, likely
        evaluation.request_if_due(tree, request_evaluation, changed)
    return [outcomes[i] for i in range(len(versions))]


# each version's outcome, and whether its measurement row was written with it (services._write)
Stored = list[tuple[str, bool]]


def _store_retrying(tree: Tree, versions: list[FileVersion]) -> Stored:
    try:
        return _store(tree, versions)
    except IntegrityError:  # another worker created the same new file's row first: now it exists
        return _store(tree, versions)


def _store_isolating(
    tree: Tree, versions: list[FileVersion], failed: Callable[[FileVersion, Exception], None]
) -> Stored:
    try:
        return _store_retrying(tree, versions)
    except DATABASE_AWAY:
        raise  # the whole batch is retried: every version is idempotent and stale-aware
    except REFUSED:
        log.exception("storing %d files at once failed; storing them one by one", len(versions))
    outcomes: Stored = []
    for version in versions:
        try:
            outcomes += _store_retrying(tree, [version])
        except DATABASE_AWAY:
            raise
        except REFUSED as exc:
            log.exception("could not store %s", version.path)
            failed(version, exc)
            outcomes.append((f"failed:{type(exc).__name__}", False))
    return outcomes


def answered(tree: Tree, versions: list[FileVersion]) -> None:
    """The pending rows these versions answer are done with (a newer change keeps its row)."""
    if not versions:
        return
    answers = Q()
    for version in versions:
        answers |= Q(path=version.path, seq__lte=version.seq)
    done = PendingFile.objects.filter(answers, tree=tree)
    done._raw_delete(done.db)


def _store(tree: Tree, versions: list[FileVersion]) -> Stored:
    """Store the versions of one tree in one transaction; their outcomes in order, and whether
    that transaction measured them (one was fresh: there was a transaction)."""
    config = tree.analysis_config()
    engine_version = analysis_version(config)
    paths = {version.path for version in versions}
    current = {f.path: f for f in SourceFile.objects.filter(tree=tree, path__in=paths).only(*CHECKED)}
    newest: dict[str, FileVersion] = {}
    for version in versions:  # two versions of one path in a batch: the older one is stale
        if version.path not in newest or newest[version.path].seq < version.seq:
            newest[version.path] = version
    outcomes: dict[int, str] = {}
    done: list[FileVersion] = []  # stale or unchanged: only their pending rows change
    fresh: list[FileVersion] = []
    for i, version in enumerate(versions):
        file = current.get(version.path)
        if newest[version.path] is not version or (file and file.seq >= version.seq):
            outcomes[i] = "stale"
        elif file and _unchanged(file, version, engine_version):
            SourceFile.objects.filter(pk=file.pk, seq__lt=version.seq).update(
                seq=version.seq, mtime_ns=version.mtime_ns
            )
            outcomes[i] = "unchanged"
        else:
            fresh.append(version)
            continue
        done.append(version)
    answered(tree, done)
    if not fresh:
        return [(outcomes[i], False) for i in range(len(versions))]
    measured = [(versions[i].path, outcome) for i, outcome in outcomes.items()]
    stored = _write(tree, fresh, current, config, engine_version, measured)
    index = {id(version): i for i, version in enumerate(versions)}
    outcomes.update((index[id(version)], outcome) for version, outcome in stored)
    return [(outcomes[i], True) for i in range(len(versions))]


# the fields `_store` decides by before analyzing
CHECKED = ["tree_id", "path", "seq", "status", "sha256", "engine_version"]
# what a stored version sets on its file's row
WRITTEN = [
    "latency_ms", "status", "sha256", "size", "mtime_ns", "seq", "engine_version",
    "analyzed_at", "duration_ms", "reason", "detail", "source",
]  # fmt: skip


def _unchanged(file: SourceFile, version: FileVersion, engine_version: str) -> bool:
    return (
        not version.deleted
        and not version.force
        and file.status == SourceFile.Status.ANALYZED
        and bool(version.sha256)
        and file.sha256 == version.sha256
        and file.engine_version == engine_version
    )


def _write(
    tree: Tree,
    versions: list[FileVersion],
    known: dict[str, SourceFile],
    config: Config,
    engine_version: str,
    measured: list[tuple[str, str]],
) -> list[tuple[FileVersion, str]]:
    """Analyze the versions, then store them, their postings, their changed keys and the
    measurement rows of every version of the batch in one transaction. `known`: the rows there
    were when checked (CHECKED fields); `measured`: (path, outcome) of the batch's versions
    decided before."""
    analyses = []
    for version in versions:
        started = time.perf_counter()
        postings, status, reason, detail = _analyze(version, config)
        analyses.append((version, postings, status, reason, detail, (time.perf_counter() - started) * 1000))
    # one file's edit: its row is locked by the update that stores it, which checks its seq too
    alone = len(analyses) == 1 and versions[0].path in known
    with transaction.atomic():
        # locked until the transaction ends: two versions of one path are stored one after the
        # other; files never wait for each other
        if alone:
            locked = dict(known)
        else:
            rows = SourceFile.objects.select_for_update().filter(tree=tree, path__in=sorted(known))
            locked = {file.path: file for file in rows}
        results: list[tuple[FileVersion, str]] = []
        written: list[tuple[SourceFile, dict | None, bool]] = []
        for version, postings, status, reason, detail, duration_ms in analyses:
            file = locked.get(version.path) or SourceFile(tree=tree, path=version.path)
            if file.seq >= version.seq:  # a newer version was stored while we parsed
                results.append((version, "stale"))
                continue
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
            written.append((file, postings, file.pk is None))
            results.append((version, status))
        if alone and written:
            file = written[0][0]
            stored = {name: getattr(file, name) for name in WRITTEN}
            if not SourceFile.objects.filter(pk=file.pk, seq__lt=file.seq).update(**stored):
                written, results = [], [(results[0][0], "stale")]  # a newer version was stored meanwhile
        # new rows: one INSERT; a race with another worker for the same new path is an IntegrityError
        SourceFile.objects.bulk_create([file for file, _, new in written if new])
        SourceFile.objects.bulk_update([file for file, _, new in written if not new and not alone], WRITTEN)
        changed = write_many_postings(written)
        ChangedKeys.objects.bulk_create(
            ChangedKeys(tree=tree, keys=sorted(changed[file.pk]), seq=file.seq)
            for file, _, _ in written
            if changed[file.pk]
        )
        answered(tree, [version for version, _ in results])
        # in this transaction: one round trip and one commit fewer per task than after it
        measurements.write_analyses(
            tree, measured + [(version.path, outcome) for version, outcome in results]
        )
    return results


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
