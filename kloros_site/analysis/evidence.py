"""Evidence: the "path:LINE" strings of a question, and the questions that cite a file.

A monitor builds a question's evidence from the postings under the question's own key, so
every file a question cites posts under that key (tests/kloros_site/analysis/test_evidence.py
checks it on real trees). The questions of a file are then an indexed join from the file's
postings to the questions of those keys, not a scan of every question's evidence text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.db.models import Q, QuerySet

from kloros_site.analysis.models import SEVERITY_RANK, Posting, Question, SourceFile
from kloros_site.analysis.runtime import evidence_files
from monitors import MONITORS
from monitors.engine import asks_questions


@dataclass(frozen=True, order=True)
class Location:
    path: str
    line: int  # 0 when the evidence names no line

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


def parse(item: str) -> Location:
    """`pkg/mod.py:12` -> (pkg/mod.py, 12); a path may itself contain colons, the line never does."""
    path, sep, line = item.rpartition(":")
    return Location(path, int(line)) if sep and line.isdigit() else Location(item, 0)


def evidence_path(item: str) -> str:
    return parse(item).path


def locations(evidence: Iterable[object] | None) -> list[Location]:
    """Distinct locations in path order, lines in numeric order (text order puts 103 before 28)."""
    return sorted({parse(item) for item in evidence or () if isinstance(item, str)})


def safe_relative(path: str) -> str | None:
    """A path that stays inside its root: evidence is data, and `..` must not read outside."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts:
        return None
    return pure.as_posix()


def evidence_mentions(path: str) -> Q:
    """Questions whose evidence names `path`, matched on the stored JSON text.

    Evidence is a JSON list of "path:LINE" strings; a quote before the path and a colon after
    it match whole paths only. Both escapings are tried because SQLite keeps the JSON text as
    Django wrote it (non-ASCII escaped) while PostgreSQL's jsonb prints it unescaped.
    """
    needles = {json.dumps(path, ensure_ascii=flag)[:-1] + ":" for flag in (True, False)}
    query = Q()
    for needle in needles:
        query |= Q(evidence__icontains=needle)
    return query


def citing_path(path: str, tree_id: int | None = None) -> Q:
    """Questions citing `path`: the keys its file posts under narrow the text match to a few rows."""
    postings = Posting.objects.filter(file__path=path)
    if tree_id is not None:
        postings = postings.filter(tree_id=tree_id)
    return Q(key__in=postings.values("key")) & evidence_mentions(path)


def open_questions_by_file(files: list[SourceFile], *, suppressed: bool = False) -> dict[int, list[Question]]:
    """{file id: open questions citing it}, for a page of files, in one query.

    Suppressed questions are left out unless asked for; each list is ordered by severity, then
    newest. One query for the keys the files post under, one per KEYS_PER_QUERY of them.
    """
    found: dict[int, list[Question]] = {f.pk: [] for f in files}
    if not files:
        return found
    by_path = {(f.tree_id, f.path): f.pk for f in files}
    # the keys as a list, not a subquery: PostgreSQL then probes the (tree, key, status) index
    # once per key instead of hashing every open question of the table
    posted = Posting.objects.filter(file_id__in=list(found)).values_list("key", flat=True)
    keys = sorted({key for key in posted if can_ask(key)})
    seen: set[int] = set()
    for i in range(0, len(keys), KEYS_PER_QUERY):
        candidates = Question.objects.open().filter(
            tree_id__in={f.tree_id for f in files}, key__in=keys[i : i + KEYS_PER_QUERY]
        )
        if not suppressed:
            candidates = candidates.filter(suppressed=False)
        for question in candidates:
            if question.pk in seen:
                continue
            seen.add(question.pk)
            for path in {loc.path for loc in locations(question.evidence)}:
                file_id = by_path.get((question.tree_id, path))
                if file_id is not None:
                    found[file_id].append(question)
    for questions in found.values():
        questions.sort(key=lambda q: (-severity_rank(q.severity), -q.pk))
    return found


# keys per query: with a few hundred PostgreSQL probes the (tree, key, status) index; with
# thousands it reads the whole table instead
KEYS_PER_QUERY = 250


def can_ask(key: str) -> bool:
    """Whether a question can live under this key: the monitors' own declaration of their question
    kinds (most of a file's postings, every name it uses, are facts other keys read). A key of a
    monitor this code does not know is kept: nothing says it cannot hold a question."""
    return key.partition(":")[0] not in MONITORS or asks_questions(key)


def severity_rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity, 0)


def cited_files(questions: QuerySet[Question] | list[Question]) -> list[tuple[str, str]]:
    """(tree root, path) of every file the questions cite, each once."""
    rows = (
        questions.values_list("tree__path", "key", "evidence")
        if isinstance(questions, QuerySet)
        else [(q.tree.path, q.key, q.evidence) for q in questions]
    )
    # a runtime question's evidence starts with measured figures, not paths
    return sorted(
        {
            (root, loc.path)
            for root, key, evidence in rows
            for loc in locations(evidence_files(key, evidence or []))
        }
    )
