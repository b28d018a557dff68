"""Evaluation rounds: a tree's changed keys turned into question changes, a transaction each.

An edit's evaluation is one round (`only_round`), a branch switch's too. A big one (a cold scan's:
`evaluate_big`) first learns every key its file versions affect, then evaluates each of them
once, in rounds of keys that several workers evaluate at the same time: it writes the rounds as
EvaluationRound rows, asks other workers to help (`help_evaluate`), and claims rounds itself
until none is left. A key's evaluation depends on the postings, which no round writes, and on
its own read-set and questions, which only its own round writes: rounds of different keys need
no order. What keeps them correct:
- the evaluation holds the tree's evaluation lock throughout, so no other evaluation runs; its
  rounds share the tree lock with each other only (store.lock_tree);
- a round is claimed with its row (FOR UPDATE SKIP LOCKED) in the transaction that evaluates it
  and deletes the row: it is evaluated once, or, if its worker dies, not at all and claimed
  again. The evaluation waits for the rounds its helpers hold, evaluates those they left, and
  then deletes the file versions it evaluated;
- rows left by an evaluation that died are deleted by the next one before it writes its own
  (that waits for a helper still evaluating one); a helper carries postings from one round to
  the next only while the evaluation that wrote them still holds its lock (posting_memory.Carry).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from functools import partial

from django.conf import settings
from django.db import connection, transaction

from kloros_site.analysis import claims, question_rows, relay
from kloros_site.analysis.known import Known
from kloros_site.analysis.models import ChangedKeys, EvaluationRound, PendingFile, Transition, Tree
from kloros_site.analysis.posting_memory import Carry, PostingMemory
from kloros_site.analysis.postings import CHUNK
from kloros_site.analysis.question_rows import Outbound, Written
from kloros_site.analysis.store import (
    ONLY_ROUND,
    ROUND,
    DatabaseStore,
    evaluation_held,
    evaluation_lock,
    lock_tree,
)
from monitors import Delta, evaluate
from monitors.engine import affected, asks_questions

log = logging.getLogger(__name__)
# keys evaluated in one transaction: bounds memory (a round's read-sets, questions and delta),
# and a round cut off (time limit, killed worker) loses only its own work. A process loads each
# kind it asks about once, whatever its rounds: ~10,000 keys is what a round of 1,000 file
# versions of a cold scan evaluated
KEYS_PER_ROUND = 10_000
# with helpers, a big evaluation is cut into at least one round per process that may take one,
# but no smaller than this (a round's fixed cost: claiming it, the ChangedKeys ids it reads)
MIN_KEYS_PER_ROUND = 500


def only_round(tree: Tree, rows: list[tuple[int, list[str], int]]) -> int:
    """An evaluation of one round: these (id, keys, seq) file versions, deleted with it."""
    changed = {key for _, keys, _ in rows for key in keys}
    # the transitions' latency: from the oldest change being read to the round's start
    latency_ms = (time.time_ns() - min(seq for _, _, seq in rows)) / 1e6
    with transaction.atomic():
        lock_tree(tree, ONLY_ROUND)
        store = DatabaseStore(tree, PostingMemory(tree), Known(), planned=True)
        outbound = _evaluate(store, affected(store, changed), latency_ms)
        del store  # before the commit publishes the transitions (thousands of envelopes), not after
        ChangedKeys.objects.filter(id__in=[row_id for row_id, _, _ in rows])._raw_delete(
            ChangedKeys.objects.db
        )
        if outbound:
            transaction.on_commit(partial(relay.publish_committed, outbound))
    return len(outbound)


def evaluate_big(tree: Tree, claimed: bool, ask_help: Callable[[int], None] | None) -> int:
    """Every key the tree's file versions affect, evaluated once, in rounds; `ask_help` sends a
    task that evaluates rounds (help_evaluate) to another worker. Rounds of file versions
    instead would evaluate a key again in each round that changes a key it read: 110,839
    evaluations of 98,928 keys on the 10,000-file generated tree's cold scan."""
    written = 0
    with evaluation_lock(tree) as exclusive:
        if not claimed:
            claims.claim_evaluation(tree.pk)  # lost with this process if it dies: see evaluation.request
        # the postings a round loads serve the next rounds too: a 10,000-file cold scan loads each
        # kind of key once per process, not once per round
        carry = Carry(tree, exclusive)
        ids, changed, oldest = _batch(tree)
        keys = _affected(tree, changed, carry)
        del changed
        helpers = _helpers(tree) if ask_help is not None else 0
        rounds = _write_rounds(tree, keys, oldest, helpers)
        del keys
        if ask_help is not None:
            _ask(tree, ask_help, min(helpers, rounds - 1))
        while (n := _next_round(tree, lambda holder: carry, finish=ids)) is not None:
            written += n
    return written


def help_evaluate(tree_id: int) -> int:
    """Evaluate rounds of the tree's big evaluation until none is left to claim."""
    tree = Tree.objects.filter(pk=tree_id).first()
    return 0 if tree is None else _help(tree)


def _help(tree: Tree) -> int:
    carries: dict[int, Carry] = {}

    def carry_for(holder: int) -> Carry:
        # a helper's postings are good for the next round while the evaluation that wrote the
        # rounds holds the evaluation lock: no other evaluation runs meanwhile (Carry)
        if holder not in carries:
            carries.clear()
            carries[holder] = Carry(tree, partial(evaluation_held, tree, holder))
        return carries[holder]

    written = 0
    while (n := _next_round(tree, carry_for, finish=None)) is not None:
        written += n
    return written


def _ask(tree: Tree, ask_help: Callable[[int], None], helpers: int) -> None:
    for _ in range(helpers):
        try:
            ask_help(tree.pk)
        except Exception as exc:  # broker away: the evaluation evaluates every round itself
            log.warning("could not ask for help evaluating %s: %s", tree.path, exc)
            return


def _helpers(tree: Tree) -> int:
    """How many workers to ask: none on SQLite (one writer), nor while files of the tree wait for
    extraction (a steady stream of edits evaluated after the delay): then the other workers are
    busier extracting, and taking them too would leave the stream with no one."""
    if connection.vendor != "postgresql" or PendingFile.objects.filter(tree=tree).exists():
        return 0
    return settings.KLR_EVALUATION_HELPERS


def _batch(tree: Tree) -> tuple[list[int], set[str], int]:
    """The tree's file versions to evaluate: their ids, the keys they changed, the oldest's time.
    Rows committed from here on (some with lower ids: PostgreSQL allocates ids before commit)
    wait for the next evaluation."""
    ids: list[int] = []
    changed: set[str] = set()
    oldest = time.time_ns()
    rows = ChangedKeys.objects.filter(tree=tree).values_list("id", "keys", "seq")
    for row_id, keys, seq in rows.iterator(1000):
        ids.append(row_id)
        changed.update(keys)
        oldest = min(oldest, seq)
    return ids, changed, oldest


def _affected(tree: Tree, changed: set[str], carry: Carry) -> list[str]:
    """The keys to evaluate, in the order the engine evaluates them; learnt under the tree lock
    (what it learns of read-sets and questions, `Known`, is carried to the rounds)."""
    with transaction.atomic():
        lock_tree(tree, ROUND)
        memory, known = carry.take()
        keys = affected(DatabaseStore(tree, memory, known, planned=True), changed)
        carry.keep(memory, known)
    return sorted(key for key in keys if asks_questions(key))


def _write_rounds(tree: Tree, keys: list[str], oldest: int, helpers: int) -> int:
    """The evaluation's rounds as rows; returns how many."""
    size = KEYS_PER_ROUND
    if helpers:
        size = max(MIN_KEYS_PER_ROUND, min(size, math.ceil(len(keys) / (helpers + 1))))
    holder = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            holder = cursor.fetchone()[0]
    # rounds an evaluation that died left (deleting waits for those a helper is evaluating)
    EvaluationRound.objects.filter(tree=tree).delete()
    rounds = [
        EvaluationRound(tree=tree, keys=keys[i : i + size], oldest=oldest, holder=holder)
        for i in range(0, len(keys), size)
    ]
    EvaluationRound.objects.bulk_create(rounds)
    return len(rounds)


def _next_round(tree: Tree, carry_for: Callable[[int], Carry], finish: list[int] | None) -> int | None:
    """Claim and evaluate one round, in one transaction; the transitions it wrote, None when no
    round is left to claim. `finish`: the evaluation's own file versions, for the evaluation
    itself: it waits for the rounds its helpers hold, and once none is left deletes these."""
    started = time.time_ns()
    with transaction.atomic():
        lock_tree(tree, ROUND)
        rounds = (
            EvaluationRound.objects.filter(tree=tree)
            .order_by("id")
            .values_list("id", "keys", "oldest", "holder")
        )
        claimed = rounds.select_for_update(skip_locked=True).first()
        if claimed is None and finish is not None:
            claimed = rounds.select_for_update().first()  # a round whose helper died is left
            if claimed is None:
                for i in range(0, len(finish), CHUNK):
                    rows = ChangedKeys.objects.filter(id__in=finish[i : i + CHUNK])
                    rows._raw_delete(rows.db)
        if claimed is None:
            return None
        round_id, keys, oldest, holder = claimed
        carry = carry_for(holder)
        memory, known = carry.take()
        store = DatabaseStore(tree, memory, known, planned=True)
        outbound = _evaluate(store, keys, (started - oldest) / 1e6)
        del store, keys
        EvaluationRound.objects.filter(id=round_id)._raw_delete(EvaluationRound.objects.db)
        if outbound:
            # other processes commit this evaluation's other rounds meanwhile
            transaction.on_commit(partial(relay.publish_committed, outbound, alongside=True))
    carry.keep(memory, known)
    return len(outbound)


def _evaluate(store: DatabaseStore, keys: Iterable[str], latency_ms: float) -> list[Outbound]:
    delta = evaluate(store, keys, store.tree.analysis_config())
    return record_transitions(store.tree, delta, latency_ms, store.written)


def record_transitions(
    tree: Tree, delta: Delta, latency_ms: float | None = None, written: dict[str, Written] | None = None
) -> list[Outbound]:
    """Write one outbox row per opened, changed or resolved question of `delta`, except suppressed
    ones; `written`: the question rows as this transaction wrote them (others are read)."""
    changes = [
        *((Transition.Kind.OPENED, q) for q in delta.opened),
        *((Transition.Kind.CHANGED, q) for q in delta.changed),
        *((Transition.Kind.RESOLVED, q) for q in delta.resolved),
    ]
    return question_rows.transitions(tree, changes, written or {}, latency_ms)
