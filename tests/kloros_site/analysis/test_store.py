"""The database store behaves like the in-memory one: after any edit sequence, the stored open
questions equal a batch scan (the same property tests/monitors checks for MemoryStore)."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from kloros_site.analysis.models import Question, SourceFile, Tree
from kloros_site.analysis.store import DatabaseStore, as_engine_question
from monitors import apply
from tests.monitors.monitor_helpers import batch, postings
from tests.monitors.tree_strategies import operations

pytestmark = pytest.mark.django_db


def apply_to_database(tree: Tree, path: str, source: str | None) -> None:
    """What services.record does around the engine, minus the outbox."""
    if source is None:
        SourceFile.objects.filter(tree=tree, path=path).update(status=SourceFile.Status.DELETED)
    else:
        SourceFile.objects.update_or_create(
            tree=tree, path=path, defaults={"status": SourceFile.Status.ANALYZED}
        )
    apply(DatabaseStore(tree), path, None if source is None else postings(path, source))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=operations)
def test_database_store_equals_batch(ops):
    with transaction.atomic():
        tree = Tree.objects.create(path="/tree")
        files: dict[str, str] = {}
        for op, path, arg in ops:
            if op == "write":
                files[path] = arg
                apply_to_database(tree, path, arg)
            elif op == "delete" and path in files:
                del files[path]
                apply_to_database(tree, path, None)
            elif op == "move" and path in files and arg != path:
                files[arg] = files.pop(path)
                apply_to_database(tree, path, None)
                apply_to_database(tree, arg, files[arg])
        stored = {row.qid: as_engine_question(row) for row in Question.objects.open().filter(tree=tree)}
        assert stored == batch(files, dedent=False).all_questions()
        transaction.set_rollback(True)


def test_a_question_that_comes_back_reopens_its_row_and_keeps_its_suppression():
    tree = Tree.objects.create(path="/tree")
    with transaction.atomic():
        apply_to_database(tree, "p.py", 'ChemPub().emit("ch.one")\n')
    Question.objects.update(suppressed=True, suppressed_reason="known")
    with transaction.atomic():
        apply_to_database(tree, "c.py", 'ChemSub("ch.one")\n')
    assert Question.objects.get(hypothesis="ORPHANED_QUEUE").status == "resolved"
    with transaction.atomic():
        apply_to_database(tree, "c.py", None)
    row = Question.objects.get(hypothesis="ORPHANED_QUEUE")
    assert (row.status, row.suppressed, row.resolved_at) == ("open", True, None)
