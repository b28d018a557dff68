"""The engine's Store protocol over the database, in two halves that run in different places.

Extraction (`write_postings`, kloros_site.analysis.postings) stores one file's postings and returns the keys they changed. It
runs on any worker, in parallel, locking only that file's row: files never share posting rows.

Evaluation (`DatabaseStore`, one per tree at a time under `lock_tree`) turns changed keys into
questions. The engine evaluates keys one at a time; a store that asked the database for each of
them would make hundreds of round trips per batch. This one loads what a batch of keys needs in
a few queries (`prefetch`), answers from that, buffers its writes and makes them in bulk at the
end (`flush`). Its postings (kloros_site.analysis.posting_memory) outlive the round: the next
round of the same evaluation starts from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from typing import Any

from django.db import Error, connection, transaction
from django.utils import timezone

from kloros_site.analysis import question_rows
from kloros_site.analysis.known import Known
from kloros_site.analysis.models import KeyRead, Posting, Question, SourceFile, Tree
from kloros_site.analysis.posting_memory import PostingMemory
from kloros_site.analysis.postings import CHUNK, chunks, copy_rows, write_postings
from monitors import Question as EngineQuestion

# past this many keys (a cold scan, a branch switch) a batch is evaluated against the whole tree:
# every read-set, and the postings of a kind once one of its keys is asked for (whether it has any
# too) are loaded in one query each, instead of a few queries per chunk of keys and one per key missed
BIG_BATCH = 4 * CHUNK
TREE_LOCK = 7402  # the feeder's is 7403
EVALUATION_LOCK = 7404
HELD = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = {pid}"
    " AND classid = %s AND objid = %s AND objsubid = 2 AND granted)"
)
# what an evaluation's round asks of `lock_tree` besides the tree lock
# one round of several: the evaluation holds `evaluation_lock` across them, and its rounds run in
# several processes at once (kloros_site.analysis.rounds), so they share the tree lock
ROUND = "round"
ONLY_ROUND = "only round"  # the evaluation's only round (an edit's): it takes the evaluation lock too


def lock_tree(tree: Tree, evaluation: str | None = None) -> None:
    """One evaluation of a tree at a time, until the transaction ends.

    Extraction never takes it; evaluations of different trees run in parallel. A round of an
    evaluation (`evaluation`: ROUND or ONLY_ROUND) also plans its reads and, if it is the
    evaluation's only round, takes the evaluation lock too: all in this one statement. The
    rounds of one big evaluation (ROUND) share it with each other, not with anyone else.
    """
    if connection.vendor == "postgresql":
        take = "pg_advisory_xact_lock_shared" if evaluation == ROUND else "pg_advisory_xact_lock"
        calls, params = [f"{take}(%s, %s)"], [TREE_LOCK, tree.pk]
        if evaluation == ONLY_ROUND:
            # first: a round waits for a longer evaluation holding it without holding the tree
            # lock that evaluation's next round needs (PostgreSQL calls these left to right)
            calls.insert(0, "pg_advisory_xact_lock(%s, %s)")
            params[:0] = [EVALUATION_LOCK, tree.pk]
        if evaluation is not None:
            # this round reads through server-side cursors (bounded memory): plan them for every
            # row, not for the first 10% as PostgreSQL plans a cursor by default (on Django's
            # branch switch that plan made the kinds' reads 2x slower). For this transaction only:
            # the runtime checks also take lock_tree and read no kinds
            calls.append("set_config('cursor_tuple_fraction', '1.0', true)")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(calls)}", params)
    else:
        # SQLite: transaction_mode=IMMEDIATE already holds the database write lock
        Tree.objects.select_for_update().filter(pk=tree.pk).exists()


@contextmanager
def evaluation_lock(tree: Tree) -> Iterator[Callable[[], bool]]:
    """One evaluation of a tree at a time across all its rounds (`lock_tree` holds for one round,
    and runtime checks take it between rounds); yields whether it is still held.

    What it buys: no other evaluation deletes ChangedKeys rows between two rounds, which lets a
    round keep the postings the last one loaded (posting_memory.Carry). An evaluation of one
    round (an edit's) has no between and does not take it: its round's transaction takes the
    lock with the tree's (`lock_tree(tree, ONLY_ROUND)`), so it still waits for a longer
    evaluation to end, and costs no round trips of its own.
    """
    if connection.vendor != "postgresql":
        # SQLite has one writer at a time, so row ids follow commit order: an evaluation between
        # two rounds would delete the lowest rows present, rows the last round saw and left, and
        # Carry sees those gone. PostgreSQL allocates ids before commit: it needs the lock
        yield lambda: True
        return
    with _held(tree) as held:
        yield held


@contextmanager
def _held(tree: Tree) -> Iterator[Callable[[], bool]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [EVALUATION_LOCK, tree.pk])

    def held() -> bool:  # a lost connection took the lock with it
        return evaluation_held(tree)

    try:
        yield held
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [EVALUATION_LOCK, tree.pk])
        except Error:  # gone with the connection (InterfaceError too), and the lock with it
            pass


def evaluation_held(tree: Tree, backend: int | None = None) -> bool:
    """Whether PostgreSQL's backend `backend` (default: this connection's) holds the tree's
    evaluation lock."""
    pid, params = ("pg_backend_pid()", []) if backend is None else ("%s", [backend])
    with connection.cursor() as cursor:
        cursor.execute(HELD.format(pid=pid), [*params, EVALUATION_LOCK, tree.pk])
        return bool(cursor.fetchone()[0])


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
    def __init__(
        self,
        tree: Tree,
        postings: PostingMemory | None = None,
        known: Known | None = None,
        planned: bool = False,
    ) -> None:
        """`postings`, `known`: what earlier rounds of the same evaluation knew, postings refreshed
        since; `planned`: the round's `lock_tree` planned its reads."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("DatabaseStore must be used inside transaction.atomic() with lock_tree()")
        if connection.vendor == "postgresql" and not planned:
            # outside an evaluation (a tool, a test): the plan its round's lock_tree sets
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        self.tree = tree
        self.memory = postings if postings is not None else PostingMemory(tree)
        self.known = known if known is not None else Known()
        self._reads = self.known.reads
        self._questions: dict[str, dict[str, EngineQuestion]] = {}
        self._dirty_reads: dict[str, tuple[str, ...]] = {}  # key -> reads as of its last evaluation
        self._dirty_questions: dict[str, dict[str, EngineQuestion]] = {}
        # the question rows the flushes wrote: what the outbox rows of this round point at
        self.written: dict[str, question_rows.Written] = {}

    # --- postings ---------------------------------------------------------------------------
    def replace_postings(self, path: str, postings: Mapping[str, Any] | None) -> set[str]:
        """Extraction and evaluation in one place, for the engine's `apply` (tests, one-off tools)."""
        file = SourceFile.objects.filter(tree=self.tree, path=path).first()
        if file is None:
            if postings:
                raise RuntimeError(f"record the SourceFile row of {path} before its postings")
            return set()
        changed = write_postings(file, postings)
        self.memory = PostingMemory(self.tree)  # whole-tree loads are redone by the next big prefetch
        return changed

    def postings(self, key: str) -> dict[str, Any]:
        return self.memory.postings(key)

    def exists(self, key: str) -> bool:
        return self.memory.exists(key)

    def keys(self) -> set[str]:
        return set(Posting.objects.filter(tree=self.tree).values_list("key", flat=True).distinct())

    # --- reads ------------------------------------------------------------------------------
    def readers(self, keys: set[str]) -> set[str]:
        if len(keys) > BIG_BATCH:
            return self._learn(keys)
        found: set[str] = set()
        for chunk in chunks(keys):
            found.update(KeyRead.objects.filter(tree=self.tree, read__in=chunk).values_list("key", flat=True))
        return found

    def _learn(self, changed: AbstractSet[str] = frozenset()) -> set[str]:
        """A big batch: which keys have read-sets (and which of them read `changed`), in one pass
        over the tree's read-sets, and which keys have open questions, in one query; it would ask
        for most of them a chunk of keys at a time. Returns the readers of `changed`."""
        found: set[str] = set()
        if self.known.complete and not changed:
            return found
        reading: set[str] = set()
        kept: dict[str, list[str]] = {}  # one round's: its keys are read again right after
        for key, read in KeyRead.objects.filter(tree=self.tree).values_list("key", "read").iterator(5000):
            reading.add(key)
            if not self.known.per_round:
                kept.setdefault(key, []).append(read)
            if read in changed:
                found.add(key)
        name, interned = self.known.name, self.known.interned
        self._reads.update(
            (name(key), interned(reads)) for key, reads in kept.items() if key not in self._reads
        )
        del kept
        if not self.known.complete:
            asking = Question.objects.open().filter(tree=self.tree).values_list("key", flat=True).distinct()
            self.known.reading, self.known.asking = reading, set(asking.iterator(5000))
            self.known.complete = True
        return found

    def _load_reads(self, keys: list[str]) -> None:
        if self.known.complete:
            self._reads.update((self.known.name(key), ()) for key in keys if key not in self.known.reading)
            keys = [key for key in keys if key in self.known.reading]
        for chunk in chunks(keys):
            found: dict[str, list[str]] = {key: [] for key in chunk}
            for key, read in KeyRead.objects.filter(tree=self.tree, key__in=chunk).values_list("key", "read"):
                found[key].append(read)
            self._reads.update(
                (self.known.name(key), self.known.interned(reads)) for key, reads in found.items()
            )

    def set_reads(self, key: str, reads: set[str]) -> None:
        if key not in self._reads:
            self._load_reads([key])
        if set(self._reads[key]) != reads:
            self._dirty_reads.setdefault(key, self._reads[key])
            self._reads[key] = self.known.interned(reads)
            if self.known.complete:  # as the flush will leave the rows
                (self.known.reading.add if reads else self.known.reading.discard)(key)

    # --- questions --------------------------------------------------------------------------
    def _load_questions(self, keys: list[str]) -> None:
        if self.known.complete:
            self._questions.update((key, {}) for key in keys if key not in self.known.asking)
            keys = [key for key in keys if key in self.known.asking]
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
        if self.known.complete:  # as the flush will leave the rows
            (self.known.asking.add if questions else self.known.asking.discard)(key)

    # --- batching ---------------------------------------------------------------------------
    def prefetch(self, keys: list[str]) -> None:
        if len(keys) > BIG_BATCH:
            self.memory.whole_tree = True
            self._learn()
        self._load_reads([k for k in keys if k not in self._reads])
        self._load_questions([k for k in keys if k not in self._questions])
        # what these keys read last time they are likely to read again: learn it all at once
        read_before = set().union(*(self._reads[k] for k in keys))
        self.memory.load_small(set(keys) | read_before)

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
        upserts: dict[str, EngineQuestion] = {}
        for key, before in self._dirty_questions.items():
            after = self._questions[key]
            resolved.update(qid for qid in before if qid not in after)
            upserts.update((qid, q) for qid, q in after.items() if before.get(qid) != q)  # q.key is key
        self.written.update(question_rows.resolve(self.tree, resolved - upserts.keys(), now))
        self.written.update(question_rows.upsert(self.tree, list(upserts.values()), now))
        self._dirty_questions.clear()
