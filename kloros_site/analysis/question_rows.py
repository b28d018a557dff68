"""An evaluation's writes: question rows upserted or resolved, and their outbox rows.

A cold scan's evaluation writes tens of thousands of each. Building a model per row and letting
the ORM render a statement of thousands of parameters cost more than the evaluation itself, so on
PostgreSQL each chunk is one statement over arrays (`unnest`) that returns what the next step
needs: a question row's id and whether it is suppressed, a transition's id. Elsewhere (SQLite,
the embedded stack) the ORM's bulk statements do the same work.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from django.utils import timezone

from kloros_site.analysis import bus_facts
from kloros_site.analysis.models import Question, Transition, Tree
from kloros_site.analysis.postings import chunks
from monitors import Question as EngineQuestion

ROWS_PER_STATEMENT = 2000
QUESTION_FIELDS = ["key", "monitor", "hypothesis", "question", "evidence", "severity", "capability_key"]
# what an upsert changes in a row that exists: not its id, opened_at, acknowledgement or suppression
UPDATED = [*QUESTION_FIELDS, "status", "resolved_at", "updated_at"]


class Written(NamedTuple):
    """What the outbox needs of a question row just written."""

    pk: int
    suppressed: bool


class Outbound(NamedTuple):
    """One committed outbox row, as the relay publishes it."""

    pk: int
    signal: str
    envelope: dict[str, Any]


def upsert(tree: Tree, questions: Sequence[EngineQuestion], now: datetime) -> dict[str, Written]:
    """Open (or reopen, keeping id, history and suppression) one row per question; {qid: row}."""
    written: dict[str, Written] = {}
    for i in range(0, len(questions), ROWS_PER_STATEMENT):
        part = questions[i : i + ROWS_PER_STATEMENT]
        if connection.vendor == "postgresql":
            written.update(_upsert_returning(tree, part, now))
            continue
        Question.objects.bulk_create(
            [_model(tree, q, now) for q in part],
            update_conflicts=True,
            unique_fields=["tree", "qid"],
            update_fields=UPDATED,
        )
        written.update(_read_back(tree, [q.id for q in part]))
    return written


def resolve(tree: Tree, qids: Iterable[str], now: datetime) -> dict[str, Written]:
    """Mark these open questions resolved; {qid: row} of those that were open."""
    written: dict[str, Written] = {}
    for chunk in chunks(qids):
        rows = Question.objects.open().filter(tree=tree, qid__in=chunk)
        if connection.vendor == "postgresql":
            sql, params = rows.values_list("pk").query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Question._meta.db_table} SET status = %s, resolved_at = %s, updated_at = %s"
                    f" WHERE id IN ({sql}) RETURNING qid, id, suppressed",
                    [Question.Status.RESOLVED, now, now, *params],
                )
                written.update((qid, Written(pk, suppressed)) for qid, pk, suppressed in cursor.fetchall())
            continue
        found = _read_back(tree, chunk, rows)
        rows.update(status=Question.Status.RESOLVED, resolved_at=now, updated_at=now)
        written.update(found)
    return written


def transitions(
    tree: Tree,
    changes: Sequence[tuple[str, EngineQuestion]],
    written: dict[str, Written],
    latency_ms: float | None = None,
) -> list[Outbound]:
    """One outbox row per (kind, question) change, but for suppressed questions, in order.

    `written`: the rows of these questions as this transaction wrote them; the others are read.
    """
    missing = [q.id for _, q in changes if q.id not in written]
    if missing:
        written = {**written, **_read_back(tree, missing)}
    now = timezone.now()
    outbound: list[Outbound] = []
    for i in range(0, len(changes), ROWS_PER_STATEMENT):
        rows: list[tuple[int, str, uuid.UUID, str, dict[str, Any]]] = []
        for kind, q in changes[i : i + ROWS_PER_STATEMENT]:
            row = written[q.id]
            if row.suppressed:
                continue
            incident = uuid.uuid4()
            signal, envelope = bus_facts.envelope_for(q, kind, incident)
            rows.append((row.pk, kind, incident, signal, envelope))
        outbound += _insert_transitions(rows, now, latency_ms)
    return outbound


def _insert_transitions(
    rows: list[tuple[int, str, uuid.UUID, str, dict[str, Any]]], now: datetime, latency_ms: float | None
) -> list[Outbound]:
    if not rows:
        return []
    if connection.vendor != "postgresql":
        made = Transition.objects.bulk_create(
            Transition(
                question_id=pk,
                kind=kind,
                incident_id=incident,
                signal=signal,
                envelope=envelope,
                latency_ms=latency_ms,
            )
            for pk, kind, incident, signal, envelope in rows
        )
        return [Outbound(t.pk, t.signal, t.envelope) for t in made]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Transition._meta.db_table}"
            " (question_id, kind, incident_id, signal, envelope, created_at, attempts, last_error, latency_ms)"
            " SELECT q, k, i, s, e::jsonb, %s, 0, '', %s"
            " FROM unnest(%s::bigint[], %s::text[], %s::uuid[], %s::text[], %s::text[]) AS r (q, k, i, s, e)"
            " RETURNING incident_id, id",
            [
                now,
                latency_ms,
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] for r in rows],
                [r[3] for r in rows],
                [json.dumps(r[4]) for r in rows],
            ],
        )
        ids = dict(cursor.fetchall())
    # RETURNING's order is not promised: match by the incident id each row was given
    return [Outbound(ids[incident], signal, envelope) for _, _, incident, signal, envelope in rows]


def _upsert_returning(tree: Tree, part: Sequence[EngineQuestion], now: datetime) -> dict[str, Written]:
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in UPDATED)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Question._meta.db_table} (tree_id, qid, {', '.join(QUESTION_FIELDS)}, status,"
            " opened_at, updated_at, resolved_at, acknowledged_at, acknowledged_by, suppressed,"
            " suppressed_reason, suppressed_at)"
            " SELECT %s, qid, key, monitor, hypothesis, question, evidence::jsonb, severity, capability_key,"
            " %s, %s, %s, NULL, NULL, '', false, '', NULL"
            " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
            " %s::text[]) AS r (qid, key, monitor, hypothesis, question, evidence, severity, capability_key)"
            f" ON CONFLICT (tree_id, qid) DO UPDATE SET {updates}"
            " RETURNING qid, id, suppressed",
            [
                tree.pk,
                Question.Status.OPEN,
                now,
                now,
                [q.id for q in part],
                [q.key for q in part],
                [q.monitor for q in part],
                [q.hypothesis for q in part],
                [q.question for q in part],
                [json.dumps(list(q.evidence)) for q in part],
                [q.severity for q in part],
                [q.capability_key for q in part],
            ],
        )
        return {qid: Written(pk, suppressed) for qid, pk, suppressed in cursor.fetchall()}


def _read_back(tree: Tree, qids: list[str], rows: Any = None) -> dict[str, Written]:
    rows = Question.objects.filter(tree=tree, qid__in=qids) if rows is None else rows
    return {
        qid: Written(pk, suppressed) for qid, pk, suppressed in rows.values_list("qid", "pk", "suppressed")
    }


def _model(tree: Tree, q: EngineQuestion, now: datetime) -> Question:
    return Question(
        tree=tree,
        qid=q.id,
        key=q.key,
        monitor=q.monitor,
        hypothesis=q.hypothesis,
        question=q.question,
        evidence=list(q.evidence),
        severity=q.severity,
        capability_key=q.capability_key,
        status=Question.Status.OPEN,
        resolved_at=None,
        updated_at=now,
    )
