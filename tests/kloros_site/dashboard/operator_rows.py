"""Rows and fixtures shared by the operator-surface tests (dashboard, admin, browser)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from kloros_site.analysis.models import Question, SourceFile, Transition, Tree
from kloros_site.dashboard import probes
from kloros_site.dashboard.probes import Worker

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def plain_static_storage(settings) -> None:
    # the manifest storage needs collectstatic; the pages under test need only the URLs
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # WhiteNoise warns on every test when the collectstatic folder is missing
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


class StubProbe:
    """Stands in for the worker broadcast, which waits its whole timeout (1 s) on every request."""

    def __init__(self) -> None:
        self.workers: list[Worker] = []

    def __call__(self) -> list[Worker]:
        return list(self.workers)


@pytest.fixture(autouse=True)
def worker_probe() -> Iterator[StubProbe]:
    """Workers are found by the stub (none unless a test adds some); `live_workers` for the real ones."""
    stub = StubProbe()
    probes.use_worker_probe(stub)
    yield stub
    probes.use_worker_probe(None)


@pytest.fixture
def live_workers(worker, worker_probe):
    """The real broadcast, answered by the session's worker process."""
    probes.use_worker_probe(None)
    return worker


def tree(path: str = "/srv/src") -> Tree:
    return Tree.objects.get_or_create(path=path)[0]


def question(
    root: Tree | None = None,
    *,
    monitor: str = "integration",
    hypothesis: str = "ORPHANED_QUEUE",
    severity: str = "medium",
    status: str = Question.Status.OPEN,
    evidence: list[str] | None = None,
    text: str = "",
    **fields,
) -> Question:
    n = next(_ids)
    return Question.objects.create(
        tree=root or tree(),
        qid=f"q{n}",
        key=f"key{n}",
        monitor=monitor,
        hypothesis=hypothesis,
        question=text or f"question {n}",
        evidence=evidence if evidence is not None else [f"mod{n}.py:1"],
        severity=severity,
        status=status,
        **fields,
    )


def transition(
    q: Question,
    kind: str = "opened",
    *,
    ago: timedelta = timedelta(minutes=5),
    latency_ms=None,
    published=True,
):
    t = Transition.objects.create(
        question=q,
        kind=kind,
        signal="curiosity.integration_question",
        envelope={"signal": "curiosity.integration_question", "facts": {"question_id": q.qid}},
        latency_ms=latency_ms,
        published_at=timezone.now() if published else None,
    )
    # created_at is auto_now_add: move it afterwards
    Transition.objects.filter(pk=t.pk).update(created_at=timezone.now() - ago)
    t.refresh_from_db()
    return t


def source_file(
    root: Tree | None = None, path: str | None = None, status: str = "analyzed", **fields
) -> SourceFile:
    n = next(_ids)
    fields.setdefault("seq", n)
    return SourceFile.objects.create(tree=root or tree(), path=path or f"file{n}.py", status=status, **fields)
