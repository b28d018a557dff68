"""The dashboard, updating in place: one page, and a small JSON endpoint it polls.

Figures come from kloros_site.dashboard.stats (public functions only) plus what a day's work
needs on top: questions that still want attention (suppressed and acknowledged ones apart),
scan progress with an estimate, recent questions, the files with most questions, failed files,
and workers that are busy rather than gone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.db import connection
from django.db.models import Case, Count, Value, When
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kloros_site.analysis.models import SEVERITY_RANK, PendingFile, Question, SourceFile, Transition
from kloros_site.dashboard import charts, stats

WINDOWS = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(hours=24)}
PANELS = ("alerts", "progress", "tiles", "charts", "breakdowns", "recent", "files", "worker-list")
LISTED = 8  # rows in each list panel
RATE_WINDOW = 30.0  # seconds of analyses the scan estimate is based on
FAVICON = Path(__file__).resolve().parents[1] / "analysis" / "static" / "analysis" / "favicon.svg"


@dataclass
class WorkerRow:
    name: str
    state: str  # "online" (answered now) or "busy" (answered recently, not this time)
    memory_mb: float | None
    processes: int


_seen: dict[str, tuple[float, stats.Worker]] = {}


def worker_rows(found: list[stats.Worker], now: float | None = None) -> list[WorkerRow]:
    """Workers that answered, and those that answered within the grace period but not now: a
    worker whose pool is busy can miss a one-second broadcast; it is busy, not offline."""
    now = time.time() if now is None else now
    for worker in found:
        _seen[worker.name] = (now, worker)
    names = {w.name for w in found}
    rows = [WorkerRow(w.name, "online", w.memory_mb, w.processes) for w in found]
    grace = settings.KLR_WORKER_BUSY_GRACE_SECONDS
    for name, (seen, worker) in sorted(_seen.items()):
        if name not in names and now - seen <= grace:
            rows.append(WorkerRow(name, "busy", worker.memory_mb, worker.processes))
    return rows


@dataclass
class Progress:
    pending: int
    done: int
    rate: float  # files per second over the last RATE_WINDOW seconds
    eta_seconds: float | None

    @property
    def percent(self) -> int:
        total = self.done + self.pending
        return int(100 * self.done / total) if total else 100


def progress(pending: int | None) -> Progress | None:
    """Work in flight (None when there is none): files done since the oldest pending change, the
    recent rate, and the time left at that rate."""
    if not pending:
        return None
    now = timezone.now()
    since = PendingFile.objects.order_by("created_at").values_list("created_at", flat=True).first() or now
    done = SourceFile.objects.filter(analyzed_at__gte=since).count()
    recent = SourceFile.objects.filter(analyzed_at__gte=now - timedelta(seconds=RATE_WINDOW)).count()
    rate = recent / RATE_WINDOW
    return Progress(pending, done, rate, pending / rate if rate else None)


def open_question_groups() -> list[dict]:
    """Open questions grouped by monitor, hypothesis, severity, suppression and acknowledgement:
    one scan that the tiles, the breakdowns and the worst-files cache key all read."""
    handled = Case(When(acknowledged_at__isnull=True, then=Value(False)), default=Value(True))
    rows = Question.objects.open().annotate(handled=handled)
    fields = ("monitor", "hypothesis", "severity", "suppressed", "handled")
    return list(rows.values(*fields).annotate(n=Count("id")).order_by())


def attention_counts(groups: list[dict]) -> dict[str, int]:
    """Open questions split by how an operator handled them."""
    counts = {"unhandled": 0, "acknowledged": 0, "suppressed": 0}
    for row in groups:
        name = "suppressed" if row["suppressed"] else ("acknowledged" if row["handled"] else "unhandled")
        counts[name] += row["n"]
    return counts


def breakdowns(groups: list[dict]) -> list[tuple[str, list]]:
    """Active (open, not suppressed) questions by monitor, hypothesis and severity (in rank order)."""
    found = []
    for name in ("monitor", "hypothesis", "severity"):
        totals: dict[str, int] = {}
        for row in groups:
            if not row["suppressed"]:
                totals[row[name]] = totals.get(row[name], 0) + row["n"]
        pairs = sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))
        if name == "severity":
            pairs.sort(key=lambda pair: -SEVERITY_RANK.get(pair[0], 0))
        total = sum(totals.values())
        found.append((name, [(value, n, charts.meter(n, total)) for value, n in pairs]))
    return found


def worst_files(active: int, limit: int = LISTED) -> list[dict]:
    """Files cited by the most active questions; cached until a question next changes (a new
    transition, or a different number of active ones after a suppression)."""
    last = Transition.objects.order_by("-id").values_list("id", flat=True).first()
    key = f"kloros:worst:{last}:{active}:{limit}"
    found = cache.get(key)
    if found is None:
        found = _worst_files(limit)
        cache.set(key, found, 300)
    return found


def _worst_files(limit: int) -> list[dict]:
    table = Question._meta.db_table
    if connection.vendor == "postgresql":
        sql = f"""SELECT q.tree_id, regexp_replace(e.value, ':[0-9]+$', '') AS path, COUNT(DISTINCT q.id) AS n
            FROM {table} q CROSS JOIN LATERAL jsonb_array_elements_text(q.evidence) AS e(value)
            WHERE q.status = 'open' AND NOT q.suppressed GROUP BY 1, 2 ORDER BY n DESC, path LIMIT %s"""
    else:  # SQLite: strip the trailing ":LINE" (digits, then one colon)
        sql = f"""SELECT q.tree_id, CASE WHEN e.value GLOB '*:[0-9]*' THEN rtrim(rtrim(e.value, '0123456789'), ':')
            ELSE e.value END AS path, COUNT(DISTINCT q.id) AS n
            FROM {table} q, json_each(q.evidence) e
            WHERE q.status = 'open' AND NOT q.suppressed GROUP BY 1, 2 ORDER BY n DESC, path LIMIT %s"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [{"tree_id": t, "path": p, "questions": n} for t, p, n in cursor.fetchall()]


def figures(window_name: str) -> dict:
    """Everything the dashboard shows, as a template context."""
    window = WINDOWS.get(window_name, WINDOWS["1h"])
    snap = stats.snapshot()
    buckets = stats.series(window) if snap.database else []
    labels = [timezone.localtime(b.start).strftime("%H:%M") for b in buckets]
    context = {
        "snap": snap,
        "window_name": window_name if window_name in WINDOWS else "1h",
        "windows": list(WINDOWS),
        "bucket_minutes": window.total_seconds() / 60 / max(1, len(buckets)),
        "now": timezone.now(),
        "questions_chart": charts.bar_chart(
            "Questions opened and resolved",
            labels,
            [
                charts.Series("opened", [b.opened for b in buckets], "#ba2121"),
                charts.Series("resolved", [b.resolved for b in buckets], "#3f8a3f"),
            ],
        ),
        "latency_chart": charts.line_chart(
            "Event-to-question latency",
            labels,
            [
                charts.Series("p50", [b.p50_ms for b in buckets], "#417690"),
                charts.Series("p99", [b.p99_ms for b in buckets], "#e08a00"),
            ],
            unit=" ms",
        ),
        "workers": worker_rows(snap.workers),
    }
    if snap.database:
        groups = open_question_groups()
        context.update(
            attention=attention_counts(groups),
            breakdowns=breakdowns(groups),
            progress=progress(snap.pending),
            recent=list(Question.objects.active().select_related("tree").order_by("-id")[:LISTED]),
            worst=worst_files(sum(row["n"] for row in groups if not row["suppressed"])),
            failed=list(
                SourceFile.objects.filter(status=SourceFile.Status.FAILED)
                .order_by("-analyzed_at")
                .values("id", "path", "reason", "analyzed_at")[:LISTED]
            ),
        )
    return context


def _refresh(request: HttpRequest) -> float:
    return 0.0 if request.GET.get("refresh") == "0" else settings.KLR_DASHBOARD_REFRESH_SECONDS


@require_GET
@never_cache
@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    context = figures(request.GET.get("window", "1h"))
    context["refresh"] = _refresh(request)
    context["panels"] = PANELS
    return render(request, "dashboard/index.html", context)


@require_GET
@never_cache
@staff_member_required
def live(request: HttpRequest) -> JsonResponse:
    """The dashboard's panels, rendered, and its headline figures as numbers."""
    context = figures(request.GET.get("window", "1h"))
    snap = context["snap"]
    panels = {name: render_to_string(f"dashboard/_{name}.html", context, request) for name in PANELS}
    progress_now = context.get("progress")
    body = {
        "figures": {
            "open_questions": (context.get("attention") or {}).get("unhandled"),
            "acknowledged": (context.get("attention") or {}).get("acknowledged"),
            "suppressed": (context.get("attention") or {}).get("suppressed"),
            "queue_depth": snap.queue_depth,
            "pending": snap.pending,
            "workers_online": sum(w.state == "online" for w in context["workers"]),
            "workers_busy": sum(w.state == "busy" for w in context["workers"]),
            "complete": progress_now is None,
            "eta_seconds": progress_now.eta_seconds if progress_now else None,
            "alerts": [a.name for a in snap.alerts],
        },
        "panels": panels,
        "updated": context["now"].isoformat(),
    }
    return JsonResponse(body)


@require_GET
def favicon(request: HttpRequest) -> FileResponse:
    response = FileResponse(FAVICON.open("rb"), content_type="image/svg+xml")
    response["Cache-Control"] = "max-age=86400"
    return response
