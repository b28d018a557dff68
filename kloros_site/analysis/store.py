"""The engine's Store protocol over the database, for one tree, inside one locked transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kloros_site.analysis.models import KeyRead, Posting, Question, SourceFile, Tree
from monitors import Question as EngineQuestion


def lock_tree(tree: Tree) -> None:
    """Serialize index updates of one tree across workers, until the transaction ends.

    Parsing runs in parallel; only the short apply step is serialized, which is what keeps
    cross-file questions consistent when two workers touch the same key at once.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7402, tree.pk])
    else:
        # SQLite: transaction_mode=IMMEDIATE already holds the database write lock
        Tree.objects.select_for_update().filter(pk=tree.pk).exists()


def as_engine_question(row: Question) -> EngineQuestion:
    return EngineQuestion(
        id=row.qid,
        monitor=row.monitor,
        hypothesis=row.hypothesis,
        question=row.question,
        evidence=tuple(row.evidence),
        severity=row.severity,
        capability_key=row.capability_key,
        key=row.key,
    )


class DatabaseStore:
    def __init__(self, tree: Tree) -> None:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("DatabaseStore must be used inside transaction.atomic() with lock_tree()")
        self.tree = tree
        self._postings: dict[str, dict[str, Any]] = {}

    def replace_postings(self, path: str, postings: Mapping[str, Any] | None) -> set[str]:
        file = SourceFile.objects.filter(tree=self.tree, path=path).first()
        if file is None:
            if postings:
                raise RuntimeError(f"record the SourceFile row of {path} before its postings")
            return set()
        old = {p.key: p for p in Posting.objects.filter(file=file)}
        new = dict(postings or {})
        changed = {
            k for k in old.keys() | new.keys() if k not in old or k not in new or old[k].payload != new[k]
        }
        Posting.objects.filter(pk__in=[old[k].pk for k in changed if k in old]).delete()
        Posting.objects.bulk_create(
            [Posting(tree=self.tree, file=file, key=k, payload=new[k]) for k in sorted(changed) if k in new]
        )
        for key in changed:
            self._postings.pop(key, None)
        return changed

    def postings(self, key: str) -> dict[str, Any]:
        if key not in self._postings:
            rows = Posting.objects.filter(tree=self.tree, key=key).values_list("file__path", "payload")
            self._postings[key] = dict(rows)
        return dict(self._postings[key])

    def readers(self, keys: set[str]) -> set[str]:
        found: set[str] = set()
        keys_list = sorted(keys)
        for i in range(0, len(keys_list), 500):  # stay under SQLite's bound-parameter limit
            chunk = keys_list[i : i + 500]
            found.update(KeyRead.objects.filter(tree=self.tree, read__in=chunk).values_list("key", flat=True))
        return found

    def set_reads(self, key: str, reads: set[str]) -> None:
        old = set(KeyRead.objects.filter(tree=self.tree, key=key).values_list("read", flat=True))
        if old - reads:
            KeyRead.objects.filter(tree=self.tree, key=key, read__in=old - reads).delete()
        KeyRead.objects.bulk_create([KeyRead(tree=self.tree, key=key, read=r) for r in sorted(reads - old)])

    def questions(self, key: str) -> dict[str, EngineQuestion]:
        rows = Question.objects.open().filter(tree=self.tree, key=key)
        return {row.qid: as_engine_question(row) for row in rows}

    def set_questions(self, key: str, questions: dict[str, EngineQuestion]) -> None:
        now = timezone.now()
        Question.objects.open().filter(tree=self.tree, key=key).exclude(qid__in=questions).update(
            status=Question.Status.RESOLVED, resolved_at=now, updated_at=now
        )
        for q in questions.values():
            Question.objects.update_or_create(
                tree=self.tree,
                qid=q.id,
                defaults={
                    "key": key,
                    "monitor": q.monitor,
                    "hypothesis": q.hypothesis,
                    "question": q.question,
                    "evidence": list(q.evidence),
                    "severity": q.severity,
                    "capability_key": q.capability_key,
                    "status": Question.Status.OPEN,
                    "resolved_at": None,
                },
            )

    def keys(self) -> set[str]:
        return set(Posting.objects.filter(tree=self.tree).values_list("key", flat=True).distinct())
