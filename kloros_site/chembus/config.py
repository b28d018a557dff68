"""Where the bus is: explicit arguments, else the site's Django settings (only if configured).

The environment is read once, by kloros_site/settings.py (KLR_CHEMBUS_URL, KLR_CHEMBUS_EXCHANGE,
KLR_CHEMBUS_TRANSPORT_OPTIONS); a process without those settings passes url=... itself.
"""

from __future__ import annotations

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
        # the site's settings always define the CHEMBUS_* names (kloros_site/settings.py)
        return getattr(settings, name)
    except ImproperlyConfigured:
        return None


def resolve_url(url: str | None = None) -> str:
    url = url or _django_setting("CHEMBUS_URL")
    if not url:
        raise ChemBusError(
            "no ChemBus URL: pass url=..., or run with the site's settings (KLR_CHEMBUS_URL, default the "
            "task broker) (e.g. redis://127.0.0.1:6379/0, amqp://guest:guest@127.0.0.1:5672//, filesystem://)"
        )
    return url


def resolve_transport_options(options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    if options is not None:
        return dict(options)
    return dict(_django_setting("CHEMBUS_TRANSPORT_OPTIONS") or {})


def resolve_exchange(name: str | None = None) -> str:
    return name or _django_setting("CHEMBUS_EXCHANGE") or DEFAULT_EXCHANGE
