"""Typed readers for settings from the environment: a bad value stops start-up with a clear message."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of: true, false, 1, 0, yes, no")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}")
    return value


def env_list(name: str, default: list[str], *, separator: str = ",") -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(separator) if item.strip()]


def env_json(name: str, default: dict[str, Any]) -> dict[str, Any]:
    """A JSON object, e.g. extra kombu transport options."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return dict(default)
    try:
        value = json.loads(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not valid JSON") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a JSON object")
    return value


def env_paths(name: str, default: list[Path]) -> list[Path]:
    """Existing directories, absolute; separated by os.pathsep like PATH."""
    raw = os.environ.get(name)
    if raw is None:
        return [p.resolve() for p in default]
    paths = [Path(item).expanduser().resolve() for item in raw.split(os.pathsep) if item.strip()]
    if not paths:
        raise ImproperlyConfigured(f"{name} is set but names no directory")
    for path in paths:
        if not path.is_dir():
            raise ImproperlyConfigured(f"{name}: {path} is not a directory")
    return paths


def parse_database_url(url: str, *, base_dir: Path) -> dict:
    """sqlite:///relative.db, sqlite:////abs.db, postgres://user:pass@host:port/name?opt=val."""
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    if parts.scheme == "sqlite":
        raw = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not raw:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no file")
        path = Path(raw) if raw.startswith("/") else base_dir / raw
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            # WAL lets the web UI read while a worker writes; IMMEDIATE takes the write lock at
            # BEGIN so two writers queue on the busy timeout instead of failing to upgrade a lock.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": str(path.with_name("test_" + path.name))},
        }
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no database")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parts.scheme!r} is not supported; use sqlite:///path or postgres://..."
    )


def broker_settings(url: str, *, state_dir: Path) -> tuple[str, dict]:
    """The broker URL and its transport options; the filesystem transport gets absolute folders."""
    scheme = urlsplit(url).scheme
    if scheme == "filesystem":
        root = state_dir / "broker"
        folders = {"data_folder_in": root / "data", "data_folder_out": root / "data"}
        folders["control_folder"] = root / "control"
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        options: dict[str, str | float] = {k: str(v) for k, v in folders.items()}
        # the transport polls its folder; 0.1 s keeps a save-to-question path well under a second
        options["polling_interval"] = 0.1
        # kombu warns on every connection to a URL without a host; the host means nothing here
        return (url if urlsplit(url).netloc else "filesystem://localhost/"), options
    if scheme in ("redis", "rediss"):
        # redelivery of unacked tasks must wait longer than any task can run
        return url, {"visibility_timeout": 3600}
    if scheme in ("amqp", "pyamqp", "amqps"):
        return url, {"confirm_publish": True}
    raise ImproperlyConfigured(
        f"broker URL scheme {scheme!r} is not supported; use filesystem://, redis:// or amqp://"
    )
