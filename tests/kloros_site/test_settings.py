"""Every documented variable, set in a child process's environment, changes its setting.

The tests of the surfaces set `settings.X` directly, so a variable that settings.py never read
would go unnoticed there; this test starts real processes the way a deployment does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "docs" / "CONFIGURATION.md", REPO / "docs" / "OPERATOR.md"]
# named in the docs but not ours to read: Flower's own switch, the kernel limit a setting sets,
# and hypothesis ids
NOT_SETTINGS = {"FLOWER_UNAUTHENTICATED_API", "RLIMIT_DATA"} | {
    "STALE_KNOWLEDGE",
    "UNUSED_SUPPRESSION",
    "MEMORY_PRESSURE_OPTIMIZATION",
    "QUEUE_BACKLOG",
    "HOT_FILE",
    "SLOW_ANALYSIS",
}


def documented() -> set[str]:
    """The ALL_CAPS names in inline code of the docs (fenced examples left out)."""
    names = set()
    for doc in DOCS:
        prose = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
        for code in re.findall(r"`([^`]+)`", prose):
            names.update(re.findall(r"\b(?:[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]|DEBUG)\b", code))
    return names - NOT_SETTINGS


def read_in_settings() -> set[str]:
    source = (REPO / "kloros_site" / "settings.py").read_text()
    return set(re.findall(r"\benv_[a-z]+\(\s*\"([A-Z0-9_]+)\"", source))


def cases(tmp: Path) -> dict[str, tuple[str, str, Any]]:
    """variable -> (value to set, expression over `settings`, the value it must then have)."""
    watched = [tmp / "watch-a", tmp / "watch-b"]
    for folder in watched:
        folder.mkdir(exist_ok=True)
    return {
        "KLR_STATE_DIR": (str(tmp / "state"), "str(settings.STATE_DIR)", str(tmp / "state")),
        "DATABASE_URL": (
            f"sqlite:///{tmp}/other.sqlite3",
            "settings.DATABASES['default']['NAME']",
            f"{tmp}/other.sqlite3",
        ),
        "CELERY_BROKER_URL": (
            "redis://127.0.0.1:6379/7",
            "settings.CELERY_BROKER_URL",
            "redis://127.0.0.1:6379/7",
        ),
        "KLR_CHEMBUS_URL": ("redis://127.0.0.1:6379/6", "settings.CHEMBUS_URL", "redis://127.0.0.1:6379/6"),
        "KLR_CHEMBUS_EXCHANGE": ("bus-x", "settings.CHEMBUS_EXCHANGE", "bus-x"),
        "KLR_CHEMBUS_RETRY_SECONDS": ("0.5", "settings.CHEMBUS_RETRY_SECONDS", 0.5),
        "KLR_CHEMBUS_TRANSPORT_OPTIONS": (
            '{"polling_interval": 0.3}',
            "settings.CHEMBUS_TRANSPORT_OPTIONS",
            {"visibility_timeout": 3600, "polling_interval": 0.3},
        ),
        "KLR_CHEM_XSUB": ("tcp://127.0.0.1:6000", "settings.CHEMBUS_XSUB", "tcp://127.0.0.1:6000"),
        "SECRET_KEY": ("k" * 50, "settings.SECRET_KEY", "k" * 50),
        "DEBUG": ("true", "settings.DEBUG", True),
        "ALLOWED_HOSTS": ("a.example, b.example", "settings.ALLOWED_HOSTS", ["a.example", "b.example"]),
        "CSRF_TRUSTED_ORIGINS": ("https://a.example", "settings.CSRF_TRUSTED_ORIGINS", ["https://a.example"]),
        "KLR_LOG_LEVEL": ("WARNING", "settings.LOGGING['root']['level']", "WARNING"),
        "KLR_WATCH_PATHS": (
            os.pathsep.join(map(str, watched)),
            "[str(p) for p in settings.KLR_WATCH_PATHS]",
            [str(p) for p in watched],
        ),
        "KLR_IGNORE": ("*.gen.py,build/", "settings.KLR_IGNORE", ["*.gen.py", "build/"]),
        "KLR_MAX_FILE_BYTES": ("2048", "settings.KLR_MAX_FILE_BYTES", 2048),
        "KLR_ANALYSIS_QUEUE": ("analysis-x", "settings.KLR_ANALYSIS_QUEUE", "analysis-x"),
        "KLR_QUEUE_BOUND": ("12", "settings.KLR_QUEUE_BOUND", 12),
        "KLR_BATCH_FILES": ("4", "settings.KLR_BATCH_FILES", 4),
        "KLR_BATCH_BYTES": ("4096", "settings.KLR_BATCH_BYTES", 4096),
        "KLR_ANALYSIS_RATE_LIMIT": ("10/s", "settings.KLR_ANALYSIS_RATE_LIMIT", "10/s"),
        "KLR_REDISPATCH_AFTER": ("45", "settings.KLR_REDISPATCH_AFTER", 45.0),
        "KLR_WORKER_BEAT_SECONDS": ("0.5", "settings.KLR_WORKER_BEAT_SECONDS", 0.5),
        "KLR_WORKER_LOST_AFTER": ("7.5", "settings.KLR_WORKER_LOST_AFTER", 7.5),
        "KLR_UNCLAIMED_AFTER": ("3.5", "settings.KLR_UNCLAIMED_AFTER", 3.5),
        "KLR_EVALUATION_MAX_DELAY": ("0.5", "settings.KLR_EVALUATION_MAX_DELAY", 0.5),
        "KLR_EVALUATION_SWEEP_SECONDS": ("2", "settings.KLR_EVALUATION_SWEEP_SECONDS", 2.0),
        "KLR_EVALUATION_TIME_LIMIT": ("90", "settings.KLR_EVALUATION_TIME_LIMIT", 90),
        "KLR_EVALUATION_HELPERS": ("1", "settings.KLR_EVALUATION_HELPERS", 1),
        "KLR_EVALUATION_LOST_AFTER": ("120", "settings.KLR_EVALUATION_LOST_AFTER", 120.0),
        "KLR_WORKER_MAX_MEMORY_KB": ("20000", "settings.CELERY_WORKER_MAX_MEMORY_PER_CHILD", 20000),
        "KLR_WORKER_HARD_MEMORY_MB": ("512", "settings.KLR_WORKER_HARD_MEMORY_MB", 512),
        "KLR_WORKER_MAX_TASKS_PER_CHILD": ("7", "settings.CELERY_WORKER_MAX_TASKS_PER_CHILD", 7),
        "KLR_TASK_SOFT_TIME_LIMIT": ("11", "settings.CELERY_TASK_SOFT_TIME_LIMIT", 11),
        "KLR_TASK_TIME_LIMIT": ("22", "settings.CELERY_TASK_TIME_LIMIT", 22),
        "KLR_BEHIND_PROXY": ("true", "settings.SECURE_PROXY_SSL_HEADER", ["HTTP_X_FORWARDED_PROTO", "https"]),
        "SECURE_HSTS_SECONDS": ("60", "settings.SECURE_HSTS_SECONDS", 60),
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": ("true", "settings.SECURE_HSTS_INCLUDE_SUBDOMAINS", True),
        "SECURE_HSTS_PRELOAD": (
            "true",
            "[settings.SECURE_HSTS_PRELOAD, settings.SILENCED_SYSTEM_CHECKS]",
            [True, []],
        ),
        "SECURE_SSL_REDIRECT": ("true", "settings.SECURE_SSL_REDIRECT", True),
        "SESSION_COOKIE_SECURE": (
            "true",
            "[settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE]",
            [True, True],
        ),
        "KLR_METRICS_TOKEN": ("m-token", "settings.KLR_METRICS_TOKEN", "m-token"),
        "KLR_API_TOKEN": ("a-token", "settings.KLR_API_TOKEN", "a-token"),
        "KLR_ALERT_WORKER_MEMORY_MB": ("101", "settings.KLR_ALERT_WORKER_MEMORY_MB", 101),
        "KLR_ALERT_QUEUE_DEPTH": ("801", "settings.KLR_ALERT_QUEUE_DEPTH", 801),
        "KLR_ALERT_HEARTBEAT_SECONDS": ("61", "settings.KLR_ALERT_HEARTBEAT_SECONDS", 61),
        "KLR_ALERT_ERRORS_PER_MINUTE": ("11", "settings.KLR_ALERT_ERRORS_PER_MINUTE", 11),
        "KLR_DASHBOARD_REFRESH_SECONDS": ("9", "settings.KLR_DASHBOARD_REFRESH_SECONDS", 9),
        "KLR_DASHBOARD_LATENCY_SAMPLE": ("500", "settings.KLR_DASHBOARD_LATENCY_SAMPLE", 500),
        "KLR_INSPECT_TIMEOUT": ("0.25", "settings.KLR_INSPECT_TIMEOUT", 0.25),
        "KLR_WORKER_CACHE_SECONDS": ("3", "settings.KLR_WORKER_CACHE_SECONDS", 3.0),
        "KLR_BROKER_CHECK_TIMEOUT": ("0.5", "settings.KLR_BROKER_CHECK_TIMEOUT", 0.5),
        "KLR_METRICS_LATENCY_WINDOW_SECONDS": ("600", "settings.KLR_METRICS_LATENCY_WINDOW_SECONDS", 600),
        "KLR_TRANSITIONS_SETTLE_SECONDS": ("0.5", "settings.KLR_TRANSITIONS_SETTLE_SECONDS", 0.5),
        "KLR_SOURCE_URL": (
            "vscode://file/{root}/{path}:{line}",
            "settings.KLR_SOURCE_URL",
            "vscode://file/{root}/{path}:{line}",
        ),
        "KLR_GRAPHVIZ_DOT": ("/opt/graphviz/bin/dot", "settings.KLR_GRAPHVIZ_DOT", "/opt/graphviz/bin/dot"),
        "KLR_MAP_TIMEOUT_SECONDS": ("12", "settings.KLR_MAP_TIMEOUT_SECONDS", 12.0),
        "KLR_WORKER_BUSY_GRACE_SECONDS": ("30", "settings.KLR_WORKER_BUSY_GRACE_SECONDS", 30.0),
        "KLR_ACCESS_LOG": ("true", "settings.KLR_ACCESS_LOG", True),
        "KLR_RUNTIME_CHECK_SECONDS": ("7", "settings.KLR_RUNTIME_CHECK_SECONDS", 7.0),
        "KLR_RUNTIME_QUEUE": ("runtime-x", "settings.KLR_RUNTIME_QUEUE", "runtime-x"),
        "KLR_RUNTIME_RECYCLES": ("3", "settings.KLR_RUNTIME_RECYCLES", 3),
        "KLR_RUNTIME_RECYCLE_WINDOW": ("600", "settings.KLR_RUNTIME_RECYCLE_WINDOW", 600.0),
        "KLR_RUNTIME_BACKLOG_GROWTH": ("4", "settings.KLR_RUNTIME_BACKLOG_GROWTH", 4.0),
        "KLR_RUNTIME_BACKLOG_WINDOW": ("120", "settings.KLR_RUNTIME_BACKLOG_WINDOW", 120.0),
        "KLR_RUNTIME_HOT_ANALYSES": ("5", "settings.KLR_RUNTIME_HOT_ANALYSES", 5),
        "KLR_RUNTIME_HOT_WINDOW": ("30", "settings.KLR_RUNTIME_HOT_WINDOW", 30.0),
        "KLR_RUNTIME_SLOW_FACTOR": ("8", "settings.KLR_RUNTIME_SLOW_FACTOR", 8.0),
        "KLR_RUNTIME_SLOW_MIN_MS": ("250", "settings.KLR_RUNTIME_SLOW_MIN_MS", 250.0),
        "KLR_RUNTIME_SLOW_MIN_FILES": ("4", "settings.KLR_RUNTIME_SLOW_MIN_FILES", 4),
    }


def apart(tmp: Path) -> dict[str, tuple[str, str, Any]]:
    """Variables whose effect the others would hide: each has its own process."""
    return {
        # the older name of the broker URL, seen only while CELERY_BROKER_URL is unset
        "KLR_BROKER_URL": (
            "redis://127.0.0.1:6379/8",
            "settings.CELERY_BROKER_URL",
            "redis://127.0.0.1:6379/8",
        ),
        # the HTTPS switch, seen only while the settings it drives are not set one by one
        "KLR_HTTPS": (
            "true",
            "[settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS]",
            [True, True, 31_536_000],
        ),
    }


SCRIPT = (
    "import json, sys; from django.conf import settings; "
    "print(json.dumps({e: eval(e) for e in json.loads(sys.argv[1])}))"
)


def settings_in_children(runs: list[tuple[dict[str, str], list[str]]]) -> list[dict[str, Any]]:
    """For each (env, expressions), a Python process started with `env` loads the settings as every
    process does and prints the values; the processes run side by side."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, json.dumps(expressions)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for env, expressions in runs
    ]
    seen = []
    for child in children:
        out, err = child.communicate()
        assert child.returncode == 0, err
        seen.append(json.loads(out.splitlines()[-1]))
    return seen


def settings_in_child(env: dict[str, str], expressions: list[str]) -> dict[str, Any]:
    return settings_in_children([(env, expressions)])[0]


@pytest.fixture
def clean_env(tmp_path) -> dict[str, str]:
    """This process's environment without any documented variable, and a state folder of its own."""
    env = {k: v for k, v in os.environ.items() if k not in documented() | {"KLR_BROKER_URL"}}
    return {**env, "DJANGO_SETTINGS_MODULE": "kloros_site.settings", "KLR_STATE_DIR": str(tmp_path / "own")}


def test_every_documented_variable_has_a_case_and_every_read_variable_is_documented(tmp_path):
    covered = set(cases(tmp_path)) | set(apart(tmp_path))
    assert documented() == covered
    assert read_in_settings() <= documented(), read_in_settings() - documented()


def test_every_documented_variable_takes_effect(tmp_path, clean_env):
    together = cases(tmp_path)
    env = {**clean_env, **{name: value for name, (value, _, _) in together.items()}}
    alone = apart(tmp_path)
    seen, *seen_alone = settings_in_children(
        [(env, [expr for _, expr, _ in together.values()])]
        + [({**clean_env, name: value}, [expr]) for name, (value, expr, _) in alone.items()]
    )
    wrong = {name: seen[expr] for name, (_, expr, want) in together.items() if seen[expr] != want}
    assert not wrong, wrong

    for (name, (_, expr, want)), values in zip(alone.items(), seen_alone, strict=True):
        assert values == {expr: want}, name


def test_the_defaults_differ_from_the_values_set(tmp_path, clean_env):
    # the test above proves something only if no value it sets is already the default
    together = {**cases(tmp_path), **apart(tmp_path)}
    env = {**clean_env, "KLR_STATE_DIR": str(tmp_path / "defaults")}
    seen = settings_in_child(env, sorted({expr for _, expr, _ in together.values()}))
    same = [name for name, (_, expr, want) in together.items() if seen[expr] == want]
    assert not same, same
