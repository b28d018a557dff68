"""The engine's Store protocol over the database, in two halves that run in different places.

Extraction (`write_postings`, kloros_site.analysis.postings) stores one file's postings and returns the keys they changed. It
runs on any worker, in parallel, locking only that file's row: files never share posting rows.

Evaluation (`DatabaseStore`, one per tree at a time under `lock_tree`) turns changed keys into
questions. The engine evaluates keys one at a time; a store that asked the database for each of
them would make hundreds of round trips per batch. This one loads what a batch of keys needs in
a few queries (`prefetch`), answers from that, buffers its writes and makes them in bulk at the
end (`flush`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from kloros_site.analysis.models import KeyRead, Posting, Question, SourceFile, Tree
from kloros_site.analysis.postings import CHUNK, chunks, copy_rows, write_postings
from monitors import Question as EngineQuestion

# a key more files than this post under is a hub (a common name, a big package): its postings
# are loaded only if a monitor asks for them, not merely whether it has any
HUB = 64
# past this many keys (a cold scan, a branch switch) a batch is evaluated against the whole tree:
# every read-set, and the postings of a kind once one of its keys is asked for (whether it has any
# too) are loaded in one query each, instead of a few queries per chunk of keys and one per key missed
BIG_BATCH = 4 * CHUNK
QUESTION_FIELDS = ["key", "monitor", "hypothesis", "question", "evidence", "severity", "capability_key"]


def lock_tree(tree: Tree) -> None:
    """One evaluation of a tree at a time, until the transaction ends.

    Extraction never takes it; evaluations of different trees run in parallel.
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
        self._exists: dict[str, bool] = {}
        # key -> what it read, sorted: a tuple of one str per key name (a round's read-sets name the
        # same few thousand keys tens of thousands of times, each a new str as the engine builds
        # it; an empty tuple costs nothing, an empty set 216 bytes)
        self._reads: dict[str, tuple[str, ...]] = {}
        self._names: dict[str, str] = {}
        self._questions: dict[str, dict[str, EngineQuestion]] = {}
        self._dirty_reads: dict[str, tuple[str, ...]] = {}  # key -> reads as of its last evaluation
        # a big batch: postings are loaded a kind at a time, and a key of a loaded kind that has
        # none has none (no whole-tree list of keys to hold beside them)
        self._whole_tree = False
        # a big batch's kinds, one str per key: the JSON of its postings, decoded when asked for.
        # Decoded, a kind of a 10,000-file tree is several times bigger, and most keys of a kind
        # are never asked for
        self._kind_postings: dict[str, str] = {}
        self._kinds_loaded: set[str] = set()
        self._dirty_questions: dict[str, dict[str, EngineQuestion]] = {}

    # --- postings ---------------------------------------------------------------------------
    def replace_postings(self, path: str, postings: Mapping[str, Any] | None) -> set[str]:
        """Extraction and evaluation in one place, for the engine's `apply` (tests, one-off tools)."""
        file = SourceFile.objects.filter(tree=self.tree, path=path).first()
        if file is None:
            if postings:
                raise RuntimeError(f"record the SourceFile row of {path} before its postings")
            return set()
        changed = write_postings(file, postings)
        self._whole_tree = False  # whole-tree loads are redone by the next big prefetch
        self._kinds_loaded.clear()
        self._kind_postings.clear()
        for key in changed:
            self._postings.pop(key, None)
            self._exists.pop(key, None)
        return changed

    def postings(self, key: str) -> dict[str, Any]:
        if key not in self._postings and self._whole_tree and self._load_kind(key):
            text = self._kind_postings.get(key)
            return {} if text is None else json.loads(text)
        if key not in self._postings:
            self._load_postings([key])
        return dict(self._postings[key])

    def exists(self, key: str) -> bool:
        if key in self._postings:
            return bool(self._postings[key])
        if self._whole_tree and self._load_kind(key):
            return key in self._kind_postings
        if key not in self._exists:
            self._exists[key] = Posting.objects.filter(tree=self.tree, key=key).exists()
        return self._exists[key]

    def _load_postings(self, keys: list[str]) -> None:
        for chunk in chunks(keys):
            found: dict[str, dict[str, Any]] = {key: {} for key in chunk}
            rows = Posting.objects.filter(tree=self.tree, key__in=chunk).values_list(
                "key", "file__path", "payload"
            )
            for key, path, payload in rows:
                found[key][path] = payload
            self._postings.update(found)

    def keys(self) -> set[str]:
        return set(Posting.objects.filter(tree=self.tree).values_list("key", flat=True).distinct())

    # --- reads ------------------------------------------------------------------------------
    def readers(self, keys: set[str]) -> set[str]:
        found: set[str] = set()
        if len(keys) > BIG_BATCH:
            reads = KeyRead.objects.filter(tree=self.tree).values_list("key", "read")
            return {key for key, read in reads.iterator(chunk_size=5000) if read in keys}
        for chunk in chunks(keys):
            found.update(KeyRead.objects.filter(tree=self.tree, read__in=chunk).values_list("key", flat=True))
        return found

    def _load_reads(self, keys: list[str]) -> None:
        for chunk in chunks(keys):
            found: dict[str, list[str]] = {key: [] for key in chunk}
            for key, read in KeyRead.objects.filter(tree=self.tree, key__in=chunk).values_list("key", "read"):
                found[key].append(read)
            self._reads.update((key, self._interned(reads)) for key, reads in found.items())

    def _interned(self, names: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(self._names.setdefault(name, name) for name in set(names)))

    def set_reads(self, key: str, reads: set[str]) -> None:
        if key not in self._reads:
            self._load_reads([key])
        if set(self._reads[key]) != reads:
            self._dirty_reads.setdefault(key, self._reads[key])
            self._reads[key] = self._interned(reads)

    # --- questions --------------------------------------------------------------------------
    def _load_questions(self, keys: list[str]) -> None:
        for chunk in chunks(keys):
            found: dict[str, dict[str, EngineQuestion]] = {key: {} for key in chunk}
            for row in Question.objects.open().filter(tree=self.tree, key__in=chunk):
                found[row.key][row.qid] = as_engine_question(row)
            self._questions.update(found)

    def questions(self, key: str) -> dict[str, EngineQuestion]:
        if key not in self._questions:
            self._load_questions([key])
        return dict(self._questions[key])

    def set_questions(self, key: str, questions: dict[str, EngineQuestion]) -> None:
        if key not in self._questions:
            self._load_questions([key])
        self._dirty_questions.setdefault(key, dict(self._questions[key]))
        self._questions[key] = dict(questions)

    # --- batching ---------------------------------------------------------------------------
    def _load_kind(self, key: str) -> bool:
        """Big batch: a key of this kind ("integration:class:") was asked for; more will be.

        False if the key is of no kind (it is loaded alone)."""
        monitor, kind, *rest = key.split(":", 2)
        if not rest:
            return False
        prefix = f"{monitor}:{kind}:"
        if prefix in self._kinds_loaded:
            return True
        self._kinds_loaded.add(prefix)
        rows = (
            Posting.objects.filter(tree=self.tree, key__startswith=prefix)
            .order_by("key", "file__path")
            .values_list("key", "file__path", "payload")
        )
        # a whole kind is up to a few hundred thousand rows: read past the ORM's per-row converters
        # (the payload comes as its JSON text), a key's rows joined into the JSON of its postings
        sql, params = rows.query.sql_with_params()
        current, parts = "", list[str]()
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(5000):
                for k, path, payload in batch:
                    if k != current:
                        self._keep_kind_key(current, parts)
                        current, parts = k, []
                    parts.append(f"{json.dumps(path)}:{payload}")
        self._keep_kind_key(current, parts)
        return True

    def _keep_kind_key(self, key: str, parts: list[str]) -> None:
        if parts and key not in self._postings:  # a key loaded before keeps its decoded postings
            self._kind_postings[key] = "{" + ",".join(parts) + "}"

    def prefetch(self, keys: list[str]) -> None:
        if len(keys) > BIG_BATCH:
            self._whole_tree = True
        self._load_reads([k for k in keys if k not in self._reads])
        self._load_questions([k for k in keys if k not in self._questions])
        # what these keys read last time they are likely to read again: learn it all at once
        read_before = set().union(*(self._reads[k] for k in keys))
        self._load_small_postings(set(keys) | read_before)

    def _load_small_postings(self, keys: set[str]) -> None:
        """Whether each key has postings, and the postings themselves unless the key is a hub."""
        if self._whole_tree:
            return  # loaded a kind at a time, when asked for
        unknown = [k for k in keys if k not in self._postings]
        counts: dict[str, int] = {}
        for chunk in chunks(unknown):
            rows = Posting.objects.filter(tree=self.tree, key__in=chunk).values("key").annotate(n=Count("id"))
            counts.update((row["key"], row["n"]) for row in rows)
        for key in unknown:
            self._exists[key] = key in counts
            if key not in counts:
                self._postings[key] = {}
        self._load_postings([k for k, n in counts.items() if n <= HUB])

    def flush(self) -> None:
        self._flush_reads()
        self._flush_questions()

    def _flush_reads(self) -> None:
        inserts: list[tuple[int, str, str]] = []
        for key, was in self._dirty_reads.items():
            before, now = set(was), set(self._reads[key])
            if before - now:
                KeyRead.objects.filter(tree=self.tree, key=key, read__in=sorted(before - now)).delete()
            inserts += [(self.tree.pk, key, read) for read in sorted(now - before)]
        copy_rows(KeyRead, ["tree_id", "key", "read"], inserts)
        self._dirty_reads.clear()

    def _flush_questions(self) -> None:
        now = timezone.now()
        resolved: set[str] = set()
        # one row per question id, even if two keys produced it in one flush (the later key wins,
        # as in MemoryStore.all_questions): PostgreSQL refuses to upsert a row twice in one statement
        upserts: dict[str, tuple[str, EngineQuestion]] = {}
        for key, before in self._dirty_questions.items():
            after = self._questions[key]
            resolved.update(qid for qid in before if qid not in after)
            upserts.update((qid, (key, q)) for qid, q in after.items() if before.get(qid) != q)
        for chunk in chunks(resolved - upserts.keys()):
            Question.objects.open().filter(tree=self.tree, qid__in=chunk).update(
                status=Question.Status.RESOLVED, resolved_at=now, updated_at=now
            )
        # a question that comes back reopens its row, keeping its id, history and suppression;
        # the rows are built a statement's worth at a time (a cold scan's are thousands of models)
        pending = list(upserts.items())
        for i in range(0, len(pending), CHUNK):
            Question.objects.bulk_create(
                [self._question_row(qid, key, q, now) for qid, (key, q) in pending[i : i + CHUNK]],
                update_conflicts=True,
                unique_fields=["tree", "qid"],
                update_fields=[*QUESTION_FIELDS, "status", "resolved_at", "updated_at"],
            )
        self._dirty_questions.clear()

    def _question_row(self, qid: str, key: str, q: EngineQuestion, now: datetime) -> Question:
        same = {name: getattr(q, name) for name in QUESTION_FIELDS if name not in ("key", "evidence")}
        return Question(
            tree=self.tree,
            qid=qid,
            key=key,
            evidence=list(q.evidence),
            **same,
            status=Question.Status.OPEN,
            resolved_at=None,
            updated_at=now,
        )
