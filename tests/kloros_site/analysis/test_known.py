"""A big evaluation learns once which keys have read-sets and questions, and evaluates each key once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kloros_site.analysis import evaluation, rounds, store
from kloros_site.analysis.models import KeyRead, Question, Tree
from kloros_site.analysis.store import as_engine_question
from monitors.engine import asks_questions
from tests.kloros_site.analysis.test_evaluation import ROOT, extract
from tests.monitors.monitor_helpers import batch

pytestmark = pytest.mark.django_db

SOURCES = {
    "pkg/__init__.py": "",
    "pkg/a.py": "def f():\n    pass\n\ndef unused():\n    pass\n",
    "pkg/b.py": "from pkg.a import f\n\nf()\n",
    "pkg/c.py": "from pkg.a import g\n\ng()\n",
    "pkg/d.py": 'ChemPub().emit("ch.a")\n',
}


def statements_on(table: str, queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]


def test_a_big_evaluations_rounds_read_the_trees_read_sets_once(monkeypatch):
    monkeypatch.setattr(evaluation, "BIG_ROWS", 1)  # a round per file version
    monkeypatch.setattr(store, "BIG_BATCH", 0)  # as a cold scan's rounds are
    for path, source in SOURCES.items():
        extract(path, source)
    with CaptureQueriesContext(connection) as queries:
        evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk)
    assert KeyRead.objects.exists()  # the later rounds had read-sets to know
    # one whole-tree read in the first round; the other rounds know what it and they wrote
    assert len(statements_on(KeyRead._meta.db_table, queries)) == 1
    # questions are read only for keys known to have some: not in every round
    question_reads = [sql for sql in statements_on(Question._meta.db_table, queries) if '"key" IN (' in sql]
    assert len(question_reads) < len(SOURCES)
    stored = {row.qid: as_engine_question(row) for row in Question.objects.open()}
    assert stored == batch(SOURCES, dedent=False).all_questions()


def test_a_big_evaluation_evaluates_each_key_once(monkeypatch):
    monkeypatch.setattr(evaluation, "BIG_ROWS", 1)  # the big evaluation's path
    monkeypatch.setattr(rounds, "KEYS_PER_ROUND", 2)  # in several rounds
    monkeypatch.setattr(store, "BIG_BATCH", 0)
    evaluated: list[str] = []
    evaluate = rounds.evaluate

    def counted(store, keys, config):  # type: ignore[no-untyped-def]
        keys = list(keys)
        evaluated.extend(key for key in keys if asks_questions(key))
        return evaluate(store, keys, config)

    monkeypatch.setattr(rounds, "evaluate", counted)
    for path, source in SOURCES.items():
        extract(path, source)
    evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk)
    assert len(evaluated) > 2  # several rounds
    # pkg/a.py's names are read by the keys of b.py and c.py: rounds of file versions evaluate
    # them again in the rounds of b.py and c.py
    assert sorted(evaluated) == sorted(set(evaluated))
    stored = {row.qid: as_engine_question(row) for row in Question.objects.open()}
    assert stored == batch(SOURCES, dedent=False).all_questions()


def test_a_small_evaluation_reads_only_the_keys_it_evaluates():
    for path, source in SOURCES.items():
        extract(path, source)
    evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk)
    with CaptureQueriesContext(connection) as queries:
        extract("pkg/b.py", "x = 1\n")  # an edit
        evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk)
    reads = statements_on(KeyRead._meta.db_table, queries)
    assert reads and all("IN (" in sql for sql in reads)  # named keys, never the whole table


def test_one_round_that_learns_the_whole_tree_reads_the_read_sets_once(monkeypatch):
    for path, source in SOURCES.items():
        extract(path, source)
    evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk)
    monkeypatch.setattr(store, "BIG_BATCH", 0)  # as a branch switch's one round
    with CaptureQueriesContext(connection) as queries:
        extract("pkg/a.py", "def f():\n    pass\n\ndef g():\n    pass\n")  # an edit
        evaluation.evaluate_tree(Tree.objects.get(path=ROOT).pk)
    # the pass that finds the readers keeps what it read: no key's read-set is asked for again
    reads = [sql for sql in statements_on(KeyRead._meta.db_table, queries) if not sql.startswith("DELETE")]
    assert len(reads) == 1 and "IN (" not in reads[0]
