"""What one edit costs the database: the statements of its extraction task, from the claim to
the end of the evaluation it runs itself. Every statement is a round trip, and at 10 changes/s
the edit's latency is mostly round trips: the count must not creep back."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from kloros_site.analysis import claims, pending, store
from kloros_site.analysis.models import Question, Tree
from tests.kloros_site.analysis.test_evaluation import ROOT, version

pytestmark = pytest.mark.django_db

# one edit of a file that exists, opening a question: claim, store, evaluate in the same task.
# The engine's reads (read-sets, questions, postings) are a third of it; around them: the claim,
# the tree, the file's row checked then updated (the update checks its seq: no locking read), its
# postings, its ChangedKeys, pending and measurement rows, the request (settled: due()'s answer
# in the same statement; it claims the evaluation too), the rows to evaluate with their tree, one
# statement of locks, the writes, the end of the evaluation and due(). Before stop 17: 39 on PostgreSQL, 38 on SQLite. Not
# counted: COPY (postings, read-sets), the commits, and the publish after the commit
MOST = {"postgresql": 27, "sqlite": 29}


class Statements:
    """The statements sent, less the savepoints (the test's transaction turns each transaction of
    the code into a savepoint: they are counted apart)."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.transactions = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith("SAVEPOINT"):
            self.transactions += 1
        elif not sql.startswith("RELEASE SAVEPOINT"):
            self.sql.append(sql)
        return execute(sql, params, many, context)


def test_one_edit_costs_a_bounded_number_of_statements(monkeypatch):
    from tasks.analysis import extract

    # a worker's heartbeat thread beats, not its tasks (a test has no such thread)
    monkeypatch.setattr(claims, "keep_beating", lambda: None)

    extract([version("c.py", 'ChemSub(topic="curiosity.x")\n')])
    extract([version("p.py", "x = 1\n")])
    edit = version("p.py", 'ChemPub().emit("curiosity.a")\n')
    pending.request(ROOT, ["p.py"], seq=edit.seq)
    statements = Statements()
    with connection.execute_wrapper(statements):
        assert extract([edit]) == ["analyzed"]
    assert Question.objects.open().filter(hypothesis="ORPHANED_QUEUE").exists()
    assert Tree.objects.values_list("evaluation_requested_at", "evaluation_claimed_by").get() == (None, "")
    assert statements.transactions == 2  # the file's, the evaluation's
    listing = "\n".join(sql[:120] for sql in statements.sql)
    assert len(statements.sql) <= MOST[connection.vendor], f"{len(statements.sql)} statements:\n{listing}"
    # one round: no session lock to take and release around it
    assert not [sql for sql in statements.sql if "pg_advisory_lock" in sql or "pg_advisory_unlock" in sql]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer: no lock to take")
def test_the_round_of_a_one_round_evaluation_takes_the_evaluation_lock_with_the_tree_lock():
    """One evaluation per tree at a time: an edit's evaluation skips the session lock, but its
    round's transaction holds the lock a longer evaluation holds across its rounds; a runtime
    check's lock_tree does not take it (it would wait for a whole cold scan)."""
    edited, checked = Tree.objects.create(path=ROOT), Tree.objects.create(path=f"{ROOT}2")
    with transaction.atomic():
        assert not store.evaluation_held(edited)
        store.lock_tree(edited, store.ONLY_ROUND)
        assert store.evaluation_held(edited)
    with transaction.atomic():
        store.lock_tree(checked)
        assert not store.evaluation_held(checked)
