"""Where the bus is: explicit arguments, then environment, then Django settings (only if configured)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

DEFAULT_EXCHANGE = "chembus"


class ChemBusError(Exception):
    """Misconfiguration or misuse of the bus."""


def _django_setting(name: str) -> Any:
    # Django is optional: this library must import and run in plain processes and tests.
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return None
    if not (settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE")):
        return None
    try:
        return getattr(settings, name, None)
    except ImproperlyConfigured:
        return None


def resolve_url(url: str | None = None) -> str:
    url = url or os.environ.get("KLR_CHEMBUS_URL") or _django_setting("CHEMBUS_URL")
    if not url:
        raise ChemBusError(
            "no ChemBus URL: pass url=..., set KLR_CHEMBUS_URL, or set CHEMBUS_URL in Django settings "
            "(e.g. redis://127.0.0.1:6379/0, amqp://guest:guest@127.0.0.1:5672//, filesystem://)"
        )
    return url


def resolve_transport_options(options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    if options is not None:
        return dict(options)
    raw = os.environ.get("KLR_CHEMBUS_TRANSPORT_OPTIONS")
    if raw:
        try:
            return dict(json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise ChemBusError(f"KLR_CHEMBUS_TRANSPORT_OPTIONS is not a JSON object: {exc}") from exc
    return dict(_django_setting("CHEMBUS_TRANSPORT_OPTIONS") or {})


def resolve_exchange(name: str | None = None) -> str:
    return (
        name
        or os.environ.get("KLR_CHEMBUS_EXCHANGE")
        or _django_setting("CHEMBUS_EXCHANGE")
        or DEFAULT_EXCHANGE
    )
