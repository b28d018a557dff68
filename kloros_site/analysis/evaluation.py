"""Batched evaluation: the changed keys of many extractions turned into question changes at once.

Extraction (services.record) stores a file's postings and a ChangedKeys row, in parallel on
any worker. Evaluation runs once per tree at a time and drains every ChangedKeys row present:
each key is evaluated once per batch however many files touched it, and the questions and
their outbox rows are written in the same transaction.

When to evaluate: as soon as the tree has settled (no pending or in-flight extraction, i.e.
no PendingFile row), so a scan, a storm or a branch switch is heard on the bus as its settled
result, not as the half-built states in between. A steady trickle of edits never settles, so
once the oldest unevaluated change is older than KLR_EVALUATION_MAX_DELAY and newer changes
keep arriving, the tree is evaluated anyway. A scan queues all its files up front, so it never
counts as a trickle.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from kloros_site.analysis import claims, question_rows, relay
from kloros_site.analysis.known import Known
from kloros_site.analysis.models import ChangedKeys, PendingFile, Transition, Tree
from kloros_site.analysis.posting_memory import Carry, PostingMemory
from kloros_site.analysis.question_rows import Outbound, Written
from kloros_site.analysis.store import ONLY_ROUND, ROUND, DatabaseStore, evaluation_lock, lock_tree
from monitors import Delta, evaluate
from monitors.engine import affected, asks_questions

log = logging.getLogger(__name__)
# fewer ChangedKeys rows (file versions) than this are evaluated in one round, one transaction
# (a branch switch's, an edit's); more in rounds of KEYS_PER_ROUND keys (`_rounds`)
ROWS_PER_ROUND = 1000
# keys evaluated in one transaction: bounds memory (a round's read-sets, questions and delta),
# and a round cut off (time limit, killed worker) loses only its own work. A big evaluation
# loads each kind it asks about once, whatever the rounds: ~10,000 keys is what a round of 1,000
# file versions of a cold scan evaluated
KEYS_PER_ROUND = 10_000
# at most this many file versions to evaluate are evaluated by the extraction task itself
INLINE_ROWS = 8
# a change seen this recently means edits are still arriving (see `due`)
ARRIVING_NS = 1_000_000_000


def due(tree: Tree) -> bool:
    """Whether the tree has changes to evaluate and should evaluate them now."""
    pending = PendingFile.objects.filter(tree=tree)
    changes = ChangedKeys.objects.filter(tree=tree).order_by("id").values("seq")[:1]
    # one round trip for the common answers: nothing to evaluate, or settled
    oldest, unsettled, evaluated_at, holds_until = (
        Tree.objects.filter(pk=tree.pk)
        .values_list(Subquery(changes), Exists(pending.values("id")), "evaluated_at", "watcher_holds_until")
        .get()
    )
    if oldest is None:
        return False
    # the watcher has seen more changes (a checkout still writing files) that are not rows yet
    held = holds_until is not None and holds_until > timezone.now()
    if not unsettled and not held:
        return True
    # a trickle (changes that keep arriving) waits at most the delay, and is evaluated at most
    # once per delay: a long stream of edits must not be evaluated after every file
    delay = settings.KLR_EVALUATION_MAX_DELAY
    if time.time_ns() - oldest < delay * 1e9:
        return False
    if evaluated_at is not None and timezone.now() - evaluated_at < timedelta(seconds=delay):
        return False
    # ... and only while changes are still arriving: a backlog seen all at once (a branch switch,
    # a storm) that takes the workers longer than the delay is drained first, or the bus would
    # hear the half-switched tree's questions open and resolve again
    return held or pending.filter(seq__gt=time.time_ns() - ARRIVING_NS).exists()


def evaluated(trees: QuerySet[Tree] | None = None) -> bool:
    """Every stored change of these trees (default: all) has been turned into questions."""
    trees = Tree.objects.all() if trees is None else trees
    return not (
        ChangedKeys.objects.filter(tree__in=trees).exists()
        or trees.filter(evaluation_requested_at__isnull=False).exists()
    )


def request(tree: Tree, send: Callable[[int], None], if_settled: bool = False) -> bool:
    """Send one evaluation task for the tree unless one is already on its way; True if sent.

    `if_settled`: only if the tree has changes and is settled, due()'s common answer, checked in
    the same statement (False otherwise, without looking further: ask due())."""
    now = timezone.now()
    lost = now - timedelta(seconds=settings.KLR_EVALUATION_LOST_AFTER)
    waiting = Q(evaluation_requested_at__isnull=True) | Q(evaluation_requested_at__lt=lost)
    requested: dict[str, object] = {"evaluation_requested_at": now}
    if isinstance(send, HereOrSend):
        # it may run in this process, unsent: claimed with the request, not in a statement of its
        # own. Sent on after all (too big), the claim is the sending task's until the evaluation
        # task claims it: if this process dies first, the evaluation is requested again, once
        claims.keep_beating()
        requested["evaluation_claimed_by"] = claims.identity()
    rows = Tree.objects.filter(waiting, pk=tree.pk)
    if if_settled:
        rows = rows.filter(
            Exists(ChangedKeys.objects.filter(tree=OuterRef("pk"))),
            ~Exists(PendingFile.objects.filter(tree=OuterRef("pk"))),
            Q(watcher_holds_until__isnull=True) | Q(watcher_holds_until__lte=now),
        )
    if not rows.update(**requested):
        if if_settled:
            return False
        # one is on its way, unless the worker running it is gone (claims): then it is lost
        running = Tree.objects.filter(pk=tree.pk).values_list("evaluation_claimed_by", flat=True).first()
        if not running or not claims.gone({running}):
            return False
        if not Tree.objects.filter(pk=tree.pk, evaluation_claimed_by=running).update(
            evaluation_requested_at=now, evaluation_claimed_by=requested.get("evaluation_claimed_by", "")
        ):
            return False  # another process saw it first
        log.warning("requesting the evaluation of %s again: its worker %s is gone", tree.path, running)
    try:
        send(tree.pk)
    except Exception as exc:  # broker away: the next trigger or sweep asks again
        Tree.objects.filter(pk=tree.pk).update(evaluation_requested_at=None, evaluation_claimed_by="")
        log.warning("could not request an evaluation of %s: %s", tree.path, exc)
        return False
    return True


def request_if_due(tree: Tree, send: Callable[[int], None], changed: bool = False) -> bool:
    """`changed`: the caller has just stored changes (an extraction), so the tree is most likely
    settled with changes to evaluate: that is tried first, in the request's own statement (one
    round trip on an edit's way to its question instead of two; one more when it is not)."""
    if changed and request(tree, send, if_settled=True):
        return True
    return due(tree) and request(tree, send)


class HereOrSend:
    """The evaluation trigger of extraction: a small evaluation (an edit or a few) runs here, in
    the task that stored the last of its files, one broker round trip sooner than a task of its
    own; a big one (a scan's, a storm's) is sent to the evaluation queue as before."""

    def __init__(self, send: Callable[[int], None]) -> None:
        self.send = send

    def __call__(self, tree_id: int) -> None:
        first = _first_rows(tree_id, INLINE_ROWS + 1)  # one query: how many, what, and the tree
        if len(first) > INLINE_ROWS:
            self.send(tree_id)
            return
        _evaluate(tree_id, first, claimed=True)  # claimed by request() with the request
        tree = first[0].tree if first else Tree.objects.get(pk=tree_id)
        request_if_due(tree, self.send)  # what arrived meanwhile


def here_or_send(send: Callable[[int], None]) -> HereOrSend:
    return HereOrSend(send)


def sweep(send: Callable[[int], None]) -> int:
    """Request an evaluation for every tree that is due: covers a trigger lost with its worker."""
    trees = Tree.objects.filter(pk__in=ChangedKeys.objects.values("tree_id"))
    return sum(request_if_due(tree, send) for tree in trees)


def evaluate_tree(tree_id: int) -> int:
    """Evaluate every change of the tree recorded so far; returns how many transitions were written.

    Rows written while this runs wait for the next evaluation (requested at the end if due), so
    a stream of edits cannot keep one task busy forever.
    """
    return _evaluate(tree_id, _first_rows(tree_id, ROWS_PER_ROUND), claimed=False)


def _first_rows(tree_id: int, most: int) -> list[ChangedKeys]:
    """The tree's oldest changes, with the tree: most evaluations (an edit's) are this one round."""
    return list(ChangedKeys.objects.filter(tree_id=tree_id).select_related("tree").order_by("id")[:most])


def _evaluate(tree_id: int, first: list[ChangedKeys], claimed: bool) -> int:
    """`claimed`: this process's claim came with the evaluation's request (HereOrSend)."""
    written = 0
    try:
        if not first:
            return 0
        tree = first[0].tree
        if len(first) < ROWS_PER_ROUND:
            # every row present when `first` was read: one round. A row committed since (or
            # committed late with a lower id: PostgreSQL allocates ids before commit) waits for the
            # next evaluation, which its extraction or the end of this one requests. No round to
            # hand postings to, so no Carry and no lock held between rounds: the round's own
            # transaction takes the evaluation lock (store.lock_tree)
            if not claimed:
                claims.claim_evaluation(tree_id)  # lost with this process if it dies: see request()
            written = _evaluate_rows(tree, [(row.pk, row.keys, row.seq) for row in first])
        else:
            written = _rounds(tree, claimed)
    finally:
        Tree.objects.filter(pk=tree_id).update(
            evaluation_requested_at=None, evaluation_claimed_by="", evaluated_at=timezone.now()
        )
    return written


def _rounds(tree: Tree, claimed: bool) -> int:
    """A big evaluation (a scan's, a branch switch's): every key its file versions affect,
    evaluated once, in rounds of KEYS_PER_ROUND keys; the file versions go with the last round.

    Rounds of file versions would evaluate a key again in each round that changes a key it read
    (a module's importers, in every round that adds one of its names): 110,839 evaluations of
    98,928 keys on the 10,000-file generated tree's cold scan. A round cut off (a killed worker) leaves every file
    version for the next evaluation, to which the rounds committed before are no change."""
    written = 0
    with evaluation_lock(tree) as exclusive:
        if not claimed:
            claims.claim_evaluation(tree.pk)  # lost with this process if it dies: see request()
        # the postings and what is known of read-sets that a round loads serve the next rounds
        # too: a 10,000-file cold scan loads each kind of key once, not once per round
        carry = Carry(tree, exclusive)
        ids, changed, oldest = _batch(tree)
        keys = _affected(tree, changed, carry)
        del changed
        rounds = [keys[i : i + KEYS_PER_ROUND] for i in range(0, len(keys), KEYS_PER_ROUND)] or [[]]
        for n, round_keys in enumerate(rounds):
            evaluated = ids if n == len(rounds) - 1 else []
            written += _round(tree, round_keys, evaluated, oldest, carry)
    return written


def _batch(tree: Tree) -> tuple[list[int], set[str], int]:
    """The tree's file versions to evaluate: their ids, the keys they changed, the oldest's time.
    Rows committed from here on (some with lower ids: PostgreSQL allocates ids before commit)
    wait for the next evaluation."""
    ids: list[int] = []
    changed: set[str] = set()
    oldest = time.time_ns()
    for row_id, keys, seq in (
        ChangedKeys.objects.filter(tree=tree).values_list("id", "keys", "seq").iterator(1000)
    ):
        ids.append(row_id)
        changed.update(keys)
        oldest = min(oldest, seq)
    return ids, changed, oldest


def _affected(tree: Tree, changed: set[str], carry: Carry) -> list[str]:
    """The keys to evaluate, in the order the engine evaluates them; learnt under the tree lock
    (`Known`, carried to the rounds: which keys have read-sets and questions)."""
    with transaction.atomic():
        lock_tree(tree, ROUND)
        memory, known = carry.take()
        keys = affected(DatabaseStore(tree, memory, known, planned=True), changed)
        carry.keep(memory, known, [])
    return sorted(key for key in keys if asks_questions(key))


def _evaluate_rows(tree: Tree, rows: list[tuple[int, list[str], int]]) -> int:
    """An evaluation's only round."""
    changed = {key for _, keys, _ in rows for key in keys}
    evaluated = [row_id for row_id, _, _ in rows]
    oldest = min(seq for _, _, seq in rows)
    return _round(tree, lambda store: affected(store, changed), evaluated, oldest, carry=None)


def _round(
    tree: Tree,
    keys: list[str] | Callable[[DatabaseStore], set[str]],
    evaluated: list[int],
    oldest: int,
    carry: Carry | None,
) -> int:
    """One round, in one transaction: evaluates `keys` (or those it learns from the round's store)
    and deletes the `evaluated` file versions; `carry`: None for an evaluation's only round."""
    latency_ms = (time.time_ns() - oldest) / 1e6
    with transaction.atomic():
        lock_tree(tree, ROUND if carry is not None else ONLY_ROUND)
        memory, known = carry.take() if carry is not None else (PostingMemory(tree), Known())
        store = DatabaseStore(tree, memory, known, planned=True)
        delta = evaluate(store, keys if isinstance(keys, list) else keys(store), tree.analysis_config())
        outbound = record_transitions(tree, delta, latency_ms, store.written)
        if evaluated:
            ChangedKeys.objects.filter(id__in=evaluated)._raw_delete(ChangedKeys.objects.db)
        # the round's read-sets, questions and delta are written: let them go before the commit
        # publishes its transitions (thousands of envelopes), not after
        del store, delta
        if outbound:
            transaction.on_commit(partial(relay.publish_committed, outbound))
    if carry is not None:
        carry.keep(memory, known, evaluated)
    return len(outbound)


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
