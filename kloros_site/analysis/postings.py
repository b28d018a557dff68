"""Many rows written at once, and one file's postings replaced: extraction's half of the store.

Extraction runs on any worker, in parallel, locking only the files' own rows: files never share
posting rows. COPY on PostgreSQL, bulk INSERTs elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import JSONField, Model

from kloros_site.analysis.models import Posting, SourceFile

CHUNK = 500  # keys per IN (...) list: well under SQLite's bound-parameter limit


def chunks(items: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    items = sorted(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def write_postings(file: SourceFile, postings: Mapping[str, Any] | None, new: bool = False) -> set[str]:
    """Replace one file's postings (None: the file is gone); return the keys whose postings changed.

    Call inside the transaction that updates the file's row, after locking that row (`new`: the
    row was inserted by this transaction, so it has no postings to compare with).
    """
    return write_many_postings([(file, postings, new)])[file.pk]


def write_many_postings(
    files: Sequence[tuple[SourceFile, Mapping[str, Any] | None, bool]],
) -> dict[int, set[str]]:
    """`write_postings` for several files in a few statements: {file pk: keys changed}.

    One query reads the old postings of every file that had some, one COPY writes the new rows.
    """
    known = [file.pk for file, _, new in files if not new]
    old: dict[int, dict[str, Any]] = {pk: {} for pk in known}
    if known:
        # a batch's files only (at most KLR_BATCH_FILES): a plain fetch, not a server-side cursor
        # (DECLARE, FETCH, CLOSE: three round trips for the edit of one file)
        for file_id, key, payload in Posting.objects.filter(file_id__in=known).values_list(
            "file_id", "key", "payload"
        ):
            old[file_id][key] = payload
    changed_by_file: dict[int, set[str]] = {}
    rows: list[tuple[Any, ...]] = []
    for file, postings, _ in files:
        pk, tree_id = file.pk, file.tree_id  # once per file: ~160 rows each on a cold scan
        fresh = dict(postings or {})
        before = old.get(pk)
        if not before:  # a new file (a cold scan): every key it posts changed, nothing to delete
            changed = set(fresh)
        else:
            changed = {
                k for k in before.keys() | fresh.keys() if before.get(k, _ABSENT) != fresh.get(k, _ABSENT)
            }
            for chunk in chunks(k for k in changed if k in before):
                Posting.objects.filter(file=file, key__in=chunk)._raw_delete(Posting.objects.db)
        rows += [(tree_id, pk, k, fresh[k]) for k in sorted(changed) if k in fresh]
        changed_by_file[pk] = changed
    copy_rows(Posting, POSTING_COLUMNS, rows)
    return changed_by_file


_ABSENT = object()  # a key missing on one side differs from any payload, None included


POSTING_COLUMNS = ["tree_id", "file_id", "key", "payload"]


def as_json(value: Any) -> str:
    """The JSON of a payload; the common scalars without the encoder (most of a cold scan's
    ~160 rows per file are `True` markers and ints)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    return json.dumps(value)


def copy_rows(model: type[Model], columns: list[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert many rows at once: COPY on PostgreSQL, else bulk INSERTs (JSON fields as Python values)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        json_columns = [isinstance(model._meta.get_field(c.removesuffix("_id")), JSONField) for c in columns]
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([as_json(v) if j else v for v, j in zip(row, json_columns, strict=True)])
        return
    model._default_manager.bulk_create(
        [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=CHUNK
    )
