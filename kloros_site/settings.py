"""Django settings, read from the environment (see docs/CONFIGURATION.md for every variable)."""

from __future__ import annotations

import secrets
from pathlib import Path

from kloros_site.env import (
    broker_settings,
    env_bool,
    env_float,
    env_int,
    env_json,
    env_list,
    env_paths,
    env_str,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(env_str("KLR_STATE_DIR", str(BASE_DIR / ".state"))).expanduser().resolve()
STATE_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the state folder."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    path = STATE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # the admin without its autodiscovery at django.setup(): kloros_site.urls registers the lists
    # when a process serves pages, so workers (which import no URLconf) never import the pages,
    # Pygments and the admin's filters (docs/BENCHMARKS.md, "A worker child's imports")
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "kloros_site.analysis",
    "kloros_site.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kloros_site.urls"
WSGI_APPLICATION = "kloros_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": parse_database_url(
        env_str("DATABASE_URL", f"sqlite:///{STATE_DIR / 'db.sqlite3'}"), base_dir=BASE_DIR
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = STATE_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
LOGIN_URL = "admin:login"

# --- HTTPS: KLR_HTTPS=true when the site is served over TLS (usually by a reverse proxy) ---
KLR_HTTPS = env_bool("KLR_HTTPS", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG and KLR_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", KLR_HTTPS)
# probes and Prometheus often speak plain HTTP inside the network
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if KLR_HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", KLR_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# trust X-Forwarded-Proto only when a proxy that always sets it stands in front
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("KLR_BEHIND_PROXY", False) else None
# preloading into browsers' HSTS lists is a separate, hard-to-undo decision: opt in explicitly
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("KLR_LOG_LEVEL", "INFO")},
}

# --- the analyzer --------------------------------------------------------------------------
KLR_WATCH_PATHS = env_paths("KLR_WATCH_PATHS", [Path.cwd()])
KLR_MAX_FILE_BYTES = env_int("KLR_MAX_FILE_BYTES", 1024 * 1024, minimum=1)
KLR_IGNORE = env_list("KLR_IGNORE", [])  # extra gitignore-style patterns

# --- Celery (read by kloros_site.celery with namespace "CELERY") ------------------------------
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = broker_settings(
    env_str("CELERY_BROKER_URL", env_str("KLR_BROKER_URL", "filesystem://")), state_dir=STATE_DIR
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# a child killed mid-task (e.g. by the memory cap) must not get the same poison file forever
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("KLR_WORKER_MAX_MEMORY_KB", 150_000, minimum=10_000)
# Python 3.13's parser keeps every identifier it has seen for the life of the process (interned,
# never freed): a child grows with the vocabulary of the files it parsed, ~0.6 KB a file of new
# names (a generated storm). A fresh child every 250 tasks (at most 4,000 files) bounds it
# (docs/BENCHMARKS.md, "A worker child's imports and growth"); 0: never recycled for this
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("KLR_WORKER_MAX_TASKS_PER_CHILD", 250, minimum=0) or None
CELERY_TASK_SOFT_TIME_LIMIT = env_int("KLR_TASK_SOFT_TIME_LIMIT", 30, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("KLR_TASK_TIME_LIMIT", 60, minimum=2)
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
KLR_ANALYSIS_QUEUE = env_str("KLR_ANALYSIS_QUEUE", "analysis")
# Celery applies this per worker process, not across the cluster (token bucket in each consumer)
KLR_ANALYSIS_RATE_LIMIT = env_str("KLR_ANALYSIS_RATE_LIMIT", "") or None
KLR_WORKER_HARD_MEMORY_MB = env_int("KLR_WORKER_HARD_MEMORY_MB", 1024, minimum=0)  # 0: no hard cap
# the analysis queue never holds more than this; the rest waits, coalesced, as PendingFile rows
# (it counts messages: a backlog is sent several files per message, at most KLR_BATCH_FILES files
# and KLR_BATCH_BYTES of content each, a bigger file alone; a few changes go one per message)
KLR_QUEUE_BOUND = env_int("KLR_QUEUE_BOUND", 1000, minimum=1)
KLR_BATCH_FILES = env_int("KLR_BATCH_FILES", 16, minimum=1)
KLR_BATCH_BYTES = env_int("KLR_BATCH_BYTES", 512 * 1024, minimum=1)
# batched evaluation (kloros_site.analysis.evaluation): a tree is evaluated once its pending work
# has settled, or after this long when a steady trickle of edits never lets it settle
KLR_EVALUATION_MAX_DELAY = env_float("KLR_EVALUATION_MAX_DELAY", 10.0, minimum=0.0)
KLR_EVALUATION_SWEEP_SECONDS = env_float("KLR_EVALUATION_SWEEP_SECONDS", 5.0, minimum=0.5)
KLR_EVALUATION_TIME_LIMIT = env_int("KLR_EVALUATION_TIME_LIMIT", 600, minimum=10)  # soft limit, seconds
# a big evaluation (a scan's, a branch switch's) asks this many other workers to evaluate rounds
# of it at the same time (PostgreSQL only: SQLite has one writer). One too many costs a task that
# finds nothing left to do
KLR_EVALUATION_HELPERS = env_int("KLR_EVALUATION_HELPERS", 3, minimum=0)
# a task sent this long ago, with the queue empty and its row still pending, was lost: send it again
# (the slow rule; kloros_site.analysis.claims finds most lost work within seconds)
KLR_REDISPATCH_AFTER = env_float("KLR_REDISPATCH_AFTER", CELERY_TASK_TIME_LIMIT + 30.0, minimum=1.0)
# each worker process writes a heartbeat this often; a file claimed by a process silent for
# KLR_WORKER_LOST_AFTER (or ended, on the watcher's own host) is sent again
KLR_WORKER_BEAT_SECONDS = env_float("KLR_WORKER_BEAT_SECONDS", 1.0, minimum=0.1)
KLR_WORKER_LOST_AFTER = env_float("KLR_WORKER_LOST_AFTER", 5.0, minimum=0.5)
# a task sent this long ago that no worker started, with the queue empty, was lost: send it again
KLR_UNCLAIMED_AFTER = env_float("KLR_UNCLAIMED_AFTER", 2.0, minimum=0.1)
# an evaluation task not finished after this long was lost with its worker: another may be sent
KLR_EVALUATION_LOST_AFTER = env_float(
    "KLR_EVALUATION_LOST_AFTER", KLR_EVALUATION_TIME_LIMIT + 90.0, minimum=1.0
)

# --- ChemBus (kloros_site.chembus reads these when it runs inside the site) ----------------------
CHEMBUS_URL, _chembus_options = broker_settings(
    env_str("KLR_CHEMBUS_URL", CELERY_BROKER_URL), state_dir=STATE_DIR
)
# extra kombu transport options, over the ones the URL implies (the filesystem folders, confirms)
CHEMBUS_TRANSPORT_OPTIONS = {**_chembus_options, **env_json("KLR_CHEMBUS_TRANSPORT_OPTIONS", {})}
CHEMBUS_EXCHANGE = env_str("KLR_CHEMBUS_EXCHANGE", "chembus")
CHEMBUS_RETRY_SECONDS = env_float("KLR_CHEMBUS_RETRY_SECONDS", 2.0, minimum=0.1)
# the ZeroMQ XSUB endpoint `manage.py chembus bridge` publishes to
CHEMBUS_XSUB = env_str("KLR_CHEM_XSUB", "tcp://127.0.0.1:5558")

# --- Operator surfaces (see docs/OPERATOR.md) ---------------------------------------------------
KLR_METRICS_TOKEN = env_str("KLR_METRICS_TOKEN")  # bearer token for /metrics; empty: open
KLR_API_TOKEN = env_str("KLR_API_TOKEN")  # bearer token for /api/transitions; empty: staff login only
KLR_ALERT_WORKER_MEMORY_MB = env_int("KLR_ALERT_WORKER_MEMORY_MB", 100, minimum=1)
KLR_ALERT_QUEUE_DEPTH = env_int("KLR_ALERT_QUEUE_DEPTH", 800, minimum=1)
KLR_ALERT_HEARTBEAT_SECONDS = env_int("KLR_ALERT_HEARTBEAT_SECONDS", 60, minimum=1)
KLR_ALERT_ERRORS_PER_MINUTE = env_int("KLR_ALERT_ERRORS_PER_MINUTE", 10, minimum=1)
# percentiles of the dashboard's latency chart come from at most this many transitions
KLR_DASHBOARD_LATENCY_SAMPLE = env_int("KLR_DASHBOARD_LATENCY_SAMPLE", 20_000, minimum=1)
# every worker broadcast waits this long for the answers, so it is cached per web process
KLR_INSPECT_TIMEOUT = env_float("KLR_INSPECT_TIMEOUT", 1.0, minimum=0.01)
KLR_WORKER_CACHE_SECONDS = env_float("KLR_WORKER_CACHE_SECONDS", 10.0, minimum=0.0)
KLR_BROKER_CHECK_TIMEOUT = env_float("KLR_BROKER_CHECK_TIMEOUT", 2.0, minimum=0.01)
KLR_METRICS_LATENCY_WINDOW_SECONDS = env_int("KLR_METRICS_LATENCY_WINDOW_SECONDS", 3600, minimum=1)
# /api/transitions holds back rows younger than this (ids are taken at insert, commits land later)
KLR_TRANSITIONS_SETTLE_SECONDS = env_float("KLR_TRANSITIONS_SETTLE_SECONDS", 2.0, minimum=0.0)

# --- Work pages: question, file and channel pages, the channel map (see docs/OPERATOR.md) ------
# a link out per evidence line, e.g. vscode://file/{root}/{path}:{line} or
# https://git.example.com/repo/blob/main/{path}#L{line}; empty: no link
KLR_SOURCE_URL = env_str("KLR_SOURCE_URL")
KLR_GRAPHVIZ_DOT = env_str("KLR_GRAPHVIZ_DOT", "dot")  # the Graphviz program that lays out the map
KLR_MAP_TIMEOUT_SECONDS = env_float("KLR_MAP_TIMEOUT_SECONDS", 30.0, minimum=1.0)
# how often the dashboard asks for new figures (it updates in place; 0 stops it)
KLR_DASHBOARD_REFRESH_SECONDS = env_float("KLR_DASHBOARD_REFRESH_SECONDS", 5.0, minimum=0.0)
# a worker that answered a broadcast this recently counts as busy, not offline, when it misses one
KLR_WORKER_BUSY_GRACE_SECONDS = env_float("KLR_WORKER_BUSY_GRACE_SECONDS", 60.0, minimum=0.0)
# gunicorn's access log under `manage.py up` / ./run.sh: one line per request, off by default
KLR_ACCESS_LOG = env_bool("KLR_ACCESS_LOG", False)

# --- Runtime questions about the pipeline itself (kloros_site.analysis.runtime) ------------------
KLR_RUNTIME_CHECK_SECONDS = env_float("KLR_RUNTIME_CHECK_SECONDS", 60.0, minimum=0.5)  # beat period
KLR_RUNTIME_QUEUE = env_str("KLR_RUNTIME_QUEUE", "celery")  # where the periodic check task goes
# MEMORY_PRESSURE_OPTIMIZATION: more than this many memory recycles of pool processes per window
KLR_RUNTIME_RECYCLES = env_int("KLR_RUNTIME_RECYCLES", 6, minimum=0)
KLR_RUNTIME_RECYCLE_WINDOW = env_float("KLR_RUNTIME_RECYCLE_WINDOW", 3600.0, minimum=1.0)
# QUEUE_BACKLOG: pending rows growing by at least this many per minute over the window,
# with the analysis queue never empty (every worker busy, or none there)
KLR_RUNTIME_BACKLOG_GROWTH = env_float("KLR_RUNTIME_BACKLOG_GROWTH", 10.0, minimum=0.0)
KLR_RUNTIME_BACKLOG_WINDOW = env_float("KLR_RUNTIME_BACKLOG_WINDOW", 300.0, minimum=1.0)
# HOT_FILE: a file analyzed at least this many times within the window
KLR_RUNTIME_HOT_ANALYSES = env_int("KLR_RUNTIME_HOT_ANALYSES", 10, minimum=2)
KLR_RUNTIME_HOT_WINDOW = env_float("KLR_RUNTIME_HOT_WINDOW", 60.0, minimum=1.0)
# SLOW_ANALYSIS: a file whose last analysis took this many times the tree's median, and at least
# KLR_RUNTIME_SLOW_MIN_MS, in a tree with at least KLR_RUNTIME_SLOW_MIN_FILES analyzed files
KLR_RUNTIME_SLOW_FACTOR = env_float("KLR_RUNTIME_SLOW_FACTOR", 20.0, minimum=1.0)
KLR_RUNTIME_SLOW_MIN_MS = env_float("KLR_RUNTIME_SLOW_MIN_MS", 500.0, minimum=0.0)
KLR_RUNTIME_SLOW_MIN_FILES = env_int("KLR_RUNTIME_SLOW_MIN_FILES", 10, minimum=2)
