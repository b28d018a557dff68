"""Page times with 100,000 questions in the database: the question, file and channel pages, the
lists and the dashboard, rendered in this process by Django's test client (no HTTP server), with
the number of SQL statements each one sends.

The tree is this repository's snapshot, put through `services.record` file by file as a worker
would; 100,000 more questions (and an outbox row each) are bulk-inserted around it, most citing
other files, some citing the measured file.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from bench.results import percentile
from bench.stack import Stack

QUESTIONS = 100_000
RUNS = 15
HYPOTHESES = [
    ("DEAD_CODE", "low"),
    ("ORPHANED_QUEUE", "medium"),
    ("MISSING_WIRING", "high"),
    ("OPEN_TODO", "low"),
]


def ingest(root) -> int:
    from kloros_site.analysis.messages import FileVersion, sha256
    from kloros_site.analysis.services import record
    from monitors.scan import iter_source_files

    count = 0
    for rel, path in iter_source_files(root):
        data = path.read_bytes()
        record(
            FileVersion(
                root=str(root), path=rel, seq=time.time_ns(), sha256=sha256(data), size=len(data), data=data
            )
        )
        count += 1
    return count


def fill(tree, cited_path: str, total: int) -> None:
    """`total` questions, open or not, most citing 5,000 other files; 50 cite `cited_path`."""
    from django.utils import timezone

    from kloros_site.analysis.models import Question, Transition

    rng = random.Random(3)
    now = timezone.now()
    made = 0
    for start in range(0, total, 5000):
        rows = []
        for i in range(start, min(total, start + 5000)):
            hypothesis, severity = HYPOTHESES[i % len(HYPOTHESES)]
            path = cited_path if i % 2000 == 0 else f"filler/mod{i % 5000:04d}.py"
            rows.append(
                Question(
                    tree=tree,
                    qid=f"filler_{i}",
                    key=f"integration:name:filler_{i}",
                    monitor="integration",
                    hypothesis=hypothesis,
                    question=f"Function 'filler_{i}' is defined but referenced nowhere in the tree - is it dead?",
                    evidence=[f"{path}:{rng.randint(1, 400)}"],
                    severity=severity,
                    status="open" if i % 5 else "resolved",
                    suppressed=i % 50 == 0,
                    acknowledged_at=now if i % 7 == 0 else None,
                )
            )
        created = Question.objects.bulk_create(rows)
        Transition.objects.bulk_create(
            [
                Transition(
                    question=q,
                    kind="opened",
                    signal="curiosity.integration_question",
                    envelope={"facts": {"question_id": q.qid}},
                    latency_ms=rng.uniform(20, 120),
                    published_at=now,
                )
                for q in created
            ]
        )
        made += len(created)
    # spread the outbox over the last day, as a day of work would
    ids = list(Transition.objects.order_by("id").values_list("id", flat=True))
    for i in range(0, len(ids), 5000):
        minutes = (i // 5000 * 37) % 1440
        Transition.objects.filter(id__in=ids[i : i + 5000]).update(
            created_at=now - timedelta(minutes=minutes)
        )
    # a database that grew to this size over days has been analyzed by autovacuum by then; one
    # filled in seconds has not, and the planner would take 100,000 rows for 69
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"[bench] pages: {made} filler questions", flush=True)


def measure(get: Callable[[], Any]) -> dict[str, float | None]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        get()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = get()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as captured:
        get()
    return {"median_ms": statistics.median(times), "p90_ms": percentile(times, 90), "queries": len(captured)}


def run(stack: Stack) -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from kloros_site.analysis.models import Question, SourceFile, Tree

    call_command("collectstatic", interactive=False, verbosity=0)  # pages served as in production
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.KLR_WORKER_CACHE_SECONDS = 3600  # one worker broadcast, not one per request
    root = stack.work / "src"
    files = ingest(root)
    tree = Tree.objects.get(path=str(root))
    question = Question.objects.open().filter(tree=tree, hypothesis="ORPHANED_QUEUE").order_by(
        "id"
    ).first() or (Question.objects.open().filter(tree=tree).order_by("id").first())
    assert question is not None, "the wired tree asks no question"
    cited = question.evidence[0].rpartition(":")[0]
    fill(tree, cited, QUESTIONS)
    file = SourceFile.objects.get(tree=tree, path=cited)
    from kloros_site.analysis.channels import channel_map

    wired = channel_map(tree, questions=False).sorted()
    channel = next((c.name for c in wired if not c.wildcard), wired[0].name if wired else None)
    user = get_user_model().objects.create_superuser("bench", password="bench-only")
    client = Client()
    client.force_login(user)
    pages = {
        "question": reverse("admin:analysis_question_change", args=[question.pk]),
        "file": reverse("admin:analysis_sourcefile_change", args=[file.pk]),
        "channels": reverse("channels") + f"?tree={tree.pk}",
        "questions list": reverse("admin:analysis_question_changelist"),
        "questions list, one hypothesis": reverse("admin:analysis_question_changelist")
        + "?hypothesis=OPEN_TODO",
        "files list": reverse("admin:analysis_sourcefile_changelist"),
        "dashboard": reverse("dashboard") + "?refresh=0",
        "dashboard live": reverse("dashboard-live"),
        "map": reverse("channel-map") + f"?tree={tree.pk}&tests=1",
    }
    if channel:
        pages["channel"] = reverse("channel", args=[tree.pk, channel])
    results = {}
    for name, url in pages.items():
        results[name] = measure(partial(client.get, url))
        print(f"[bench] pages: {name:32} {results[name]}", flush=True)
    return {
        "questions": Question.objects.count(),
        "open_questions": Question.objects.open().count(),
        "files": files,
        "measured": {"question": question.qid, "file": cited, "channel": channel},
        "runs": RUNS,
        "pages": results,
    }
