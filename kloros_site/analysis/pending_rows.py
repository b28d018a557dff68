"""The feeder's two bulk statements on PendingFile, written as SQL.

A rescan records thousands of rows and then marks them sent message by message. Through the
ORM, building 10,000 PendingFile objects for one upsert and an OR of (pk, seq) pairs with a
CASE per message cost the rescan process more CPU than reading and hashing the files: it then
competes with the two workers for the machine's cores. The same statements as SQL text cost a
few microseconds per row. Both are plain SQL that PostgreSQL and SQLite (3.33+, for
UPDATE ... FROM) accept alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from kloros_site.analysis.models import PendingFile

TABLE = PendingFile._meta.db_table
ROWS_PER_STATEMENT = 1000  # 4 parameters a row: far under SQLite's 32,766


def upsert_waiting(tree_id: int, paths: Sequence[str], seq: int, now: datetime) -> None:
    """One waiting row per path, or the path's row made waiting again with the newer `seq`
    (never sent, no claim): the rows `pending.request` records."""
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        for start in range(0, len(paths), ROWS_PER_STATEMENT):
            part = paths[start : start + ROWS_PER_STATEMENT]
            values = ", ".join(["(%s, %s, %s, %s, NULL, 0, 0, '', NULL)"] * len(part))
            params = [value for path in part for value in (tree_id, path, seq, at)]
            cursor.execute(
                f'INSERT INTO "{TABLE}" (tree_id, path, seq, created_at, dispatched_at, dispatched_seq,'
                f" attempts, claimed_by, claimed_at) VALUES {values}"
                " ON CONFLICT (tree_id, path) DO UPDATE SET seq = excluded.seq,"
                " dispatched_at = NULL, claimed_by = '', claimed_at = NULL",
                params,
            )


def mark_sent(sent: Sequence[tuple[int, int, int]], now: datetime) -> None:
    """Rows of one message, as (pk, seq when read, the version's seq), marked sent and unclaimed
    in one statement; a row whose seq moved since (a newer change seen) keeps waiting."""
    values = ", ".join(["(%s, %s, %s)"] * len(sent))
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{TABLE}" SET dispatched_at = %s, dispatched_seq = v.column3,'
            f" attempts = attempts + 1, claimed_by = '', claimed_at = NULL"
            f' FROM (VALUES {values}) AS v WHERE "{TABLE}".id = v.column1 AND "{TABLE}".seq = v.column2',
            [connection.ops.adapt_datetimefield_value(now), *(value for row in sent for value in row)],
        )
