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

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from kloros_site.analysis import claims, rounds
from kloros_site.analysis.models import ChangedKeys, PendingFile, Tree

log = logging.getLogger(__name__)
# this many ChangedKeys rows (file versions) or more make a big evaluation, in rounds that several
# workers evaluate (kloros_site.analysis.rounds: a cold scan's); fewer are one round. At 200,
# rounds on two workers were no faster on a Django cold scan (877 files: 9.7 s against 9.2 s, one
# run each) and slower at the end of 100 edits/s (3.3 s against 2.6 s): a helper loads the
# postings again
BIG_ROWS = 1000
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


def evaluate_tree(tree_id: int, ask_help: Callable[[int], None] | None = None) -> int:
    """Evaluate every change of the tree recorded so far; returns how many transitions were written.
    `ask_help`: sends a task that evaluates rounds of a big evaluation (rounds.help_evaluate).

    Rows written while this runs wait for the next evaluation (requested at the end if due), so
    a stream of edits cannot keep one task busy forever.
    """
    return _evaluate(tree_id, _first_rows(tree_id, BIG_ROWS), claimed=False, ask_help=ask_help)


def _first_rows(tree_id: int, most: int) -> list[ChangedKeys]:
    """The tree's oldest changes, with the tree: most evaluations (an edit's) are this one round."""
    return list(ChangedKeys.objects.filter(tree_id=tree_id).select_related("tree").order_by("id")[:most])


def _evaluate(
    tree_id: int, first: list[ChangedKeys], claimed: bool, ask_help: Callable[[int], None] | None = None
) -> int:
    """`claimed`: this process's claim came with the evaluation's request (HereOrSend)."""
    written = 0
    try:
        if not first:
            return 0
        tree = first[0].tree
        if len(first) < BIG_ROWS:
            # every row present when `first` was read: one round. A row committed since (or
            # committed late with a lower id: PostgreSQL allocates ids before commit) waits for the
            # next evaluation, which its extraction or the end of this one requests. No round to
            # hand postings to, so no Carry and no lock held between rounds: the round's own
            # transaction takes the evaluation lock (store.lock_tree)
            if not claimed:
                claims.claim_evaluation(tree_id)  # lost with this process if it dies: see request()
            written = rounds.only_round(tree, [(row.pk, row.keys, row.seq) for row in first])
        else:
            written = rounds.evaluate_big(tree, claimed, ask_help)
    finally:
        Tree.objects.filter(pk=tree_id).update(
            evaluation_requested_at=None, evaluation_claimed_by="", evaluated_at=timezone.now()
        )
    return written
