"""Small views: /health, /metrics and the transitions API (the dashboard is in live.py)."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kloros_site.analysis.models import Transition
from kloros_site.dashboard import metrics, stats


def bearer_ok(request: HttpRequest, token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def index(request: HttpRequest) -> HttpResponse:
    return redirect("dashboard")


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and uptime checks: 200 when the pipeline can work, else 503.

    Failures are named, never explained: exception texts can carry hosts, users and paths.
    """
    snap = stats.snapshot()
    status = "ok" if snap.healthy else "unhealthy"
    if snap.healthy and snap.alerts:
        status = "degraded"
    workers = snap.workers
    body = {
        "status": status,
        "uptime": round(stats.uptime(), 1),
        "worker_uptime": max((w.uptime or 0 for w in workers), default=None),
        "cache_size": snap.cache_size,
        "queue_size": snap.queue_depth,
        "pending": snap.pending,
        "issues_detected": snap.open_questions,
        "errors_last_minute": snap.errors_last_minute,
        "dead_letters": snap.dead_letters,
        "checks": {
            "database": {"ok": snap.database},
            "broker": {"ok": snap.broker},
            "workers": {"ok": bool(workers), "online": len(workers)},
        },
        "alerts": [{"name": a.name, "message": a.message} for a in snap.alerts],
    }
    return JsonResponse(body, status=200 if snap.healthy else 503)


@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.KLR_METRICS_TOKEN
    if token and not bearer_ok(request, token):
        response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics.render(request.headers.get("Accept", ""))
    return HttpResponse(body, content_type=content_type)


def _int_param(request: HttpRequest, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise ValueError(f"{name} must be a non-negative integer, got {raw[:40]!r}")
    value = int(raw)
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return value


@require_GET
@never_cache
def transitions(request: HttpRequest) -> JsonResponse:
    """ChemBus transitions after a cursor, oldest first, for a consumer that starts late.

    Only rows older than a short settle time are listed: ids are taken at insert, and a
    transaction that commits late can make a smaller id visible after a larger one; a cursor
    that had moved past it would skip it. Deduplicate on envelope.incident_id when switching
    to the live bus.
    """
    user = request.user
    if not (user.is_authenticated and user.is_staff) and not bearer_ok(request, settings.KLR_API_TOKEN):
        response = JsonResponse(
            {"error": "log in as staff or send Authorization: Bearer <token>"}, status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    try:
        after = _int_param(request, "after", 0, 0, None)
        limit = _int_param(request, "limit", 100, 1, 1000)
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    settle = timedelta(seconds=settings.KLR_TRANSITIONS_SETTLE_SECONDS)
    rows = list(
        Transition.objects.filter(id__gt=after, created_at__lte=timezone.now() - settle)
        .order_by("id")
        .values("id", "signal", "kind", "created_at", "published_at", "envelope")[:limit]
    )
    items = [
        {
            "id": row["id"],
            "signal": row["signal"],
            "kind": row["kind"],
            "created_at": row["created_at"].isoformat(),
            "published": row["published_at"] is not None,
            "envelope": row["envelope"],
        }
        for row in rows
    ]
    return JsonResponse({"transitions": items, "next": rows[-1]["id"] if rows else after})
