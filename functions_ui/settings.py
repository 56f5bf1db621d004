"""Django settings for functions_ui.

Every difference between a laptop and production is an environment variable
with a safe local default.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state (the SQLite file, test screenshots) lives in a hidden, git-ignored folder.
VAR_DIR = Path(os.environ.get("FUNCTIONS_UI_VAR_DIR", BASE_DIR / ".var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# The fallback key is only for local development; production sets SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "functions_ui.workspaces",
    "functions_ui.permissions",
    "functions_ui.audit",
    "functions_ui.devserver",
    "functions_ui.runtime",
    "functions_ui.editor",
    "functions_ui.suites",
    "functions_ui.bench",
    "catalog",
    "versioning",
    "functions_ui.deploys",
    "functions_ui.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Webhooks of deployed sources answer here; the rest serves people.
    "functions_ui.deploys.webhooks.WebhookLane",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A one-time password handed over must be replaced before anything else.
    "functions_ui.permissions.passwords.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Audit: each request acts "through the UI" as its user; refused writes are recorded.
    "functions_ui.audit.middleware.AuditContextMiddleware",
    "functions_ui.permissions.middleware.AccessDeniedAuditMiddleware",
]

ROOT_URLCONF = "functions_ui.urls"
WSGI_APPLICATION = "functions_ui.wsgi.application"
ASGI_APPLICATION = "functions_ui.asgi.application"

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
                "functions_ui.permissions.context_processors.workspace_access",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and Celery workers write to one SQLite file: WAL lets readers carry on
    # while one writes, and IMMEDIATE transactions wait for the lock instead of failing late.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspaces:pick"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
# One cache for every web and worker process (compare pages, rendered diffs), in Redis.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("CACHE_URL", REDIS_URL),
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "KEY_PREFIX": "fnui",
    }
}
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Fernet keys (comma-separated, newest first) for sensitive setting values; generate one with
# `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.
# Local development falls back to a key derived from SECRET_KEY.
SECRETS_ENCRYPTION_KEYS = env_list("SECRETS_ENCRYPTION_KEYS", "")

# The JavaScript runtime (functions_ui/runtime/README.md): Node.js 20 worker processes, each
# serving one workspace: one isolate with the runtime, and each warm function's code compiled
# in it (RUNTIME_WARM_MB of compiled code; a run has RUNTIME_MEMORY_MB). Per Python process:
# this many workers in all, at most RUNTIME_WORKERS_PER_WORKSPACE for one workspace.
RUNTIME_WORKERS = int(os.environ.get("RUNTIME_WORKERS", "128"))
# Workers started ahead for the next workspace that needs one; idle workers close after this.
RUNTIME_SPARE_WORKERS = int(os.environ.get("RUNTIME_SPARE_WORKERS", "1"))
RUNTIME_WORKER_IDLE_SECONDS = float(os.environ.get("RUNTIME_WORKER_IDLE_SECONDS", "300"))
RUNTIME_WORKERS_PER_WORKSPACE = int(
    os.environ.get("RUNTIME_WORKERS_PER_WORKSPACE", min(2, os.cpu_count() or 1))
)
RUNTIME_WARM_MB = int(os.environ.get("RUNTIME_WARM_MB", "16"))
RUNTIME_TIMEOUT_MS = int(os.environ.get("RUNTIME_TIMEOUT_MS", "5000"))
RUNTIME_MEMORY_MB = int(os.environ.get("RUNTIME_MEMORY_MB", "128"))
# Hosts user code may fetch even though they resolve to loopback or private addresses.
RUNTIME_FETCH_ALLOWED_HOSTS = env_list("RUNTIME_FETCH_ALLOWED_HOSTS", "")
RUNTIME_NODE_PATH = os.environ.get("RUNTIME_NODE_PATH", "node")

# The catalog shows this many functions per page.
CATALOG_PAGE_SIZE = int(os.environ.get("CATALOG_PAGE_SIZE", "25"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Deploys, instances and event delivery (functions_ui/deploys).
# Public base of instance webhook URLs, e.g. "https://functions.example.com"; empty: the
# host of the request that shows the URL. Code calling these hosts' /hooks/ cannot deploy.
DEPLOYS_WEBHOOK_BASE_URL = os.environ.get("DEPLOYS_WEBHOOK_BASE_URL", "")
# A deploy queued or running this long without finishing no longer holds later ones back.
DEPLOYS_STALE_SECONDS = int(os.environ.get("DEPLOYS_STALE_SECONDS", "300"))
# Retry-After of a webhook answered 503 because the queue is unreachable.
DEPLOYS_WEBHOOK_RETRY_AFTER = int(os.environ.get("DEPLOYS_WEBHOOK_RETRY_AFTER", "10"))
# onBatch: up to this many events, or whatever arrived within the window.
DELIVERY_BATCH_SIZE = int(os.environ.get("DELIVERY_BATCH_SIZE", "20"))
DELIVERY_BATCH_WINDOW_SECONDS = float(os.environ.get("DELIVERY_BATCH_WINDOW_SECONDS", "10"))
# Webhook runs, their events and deliveries are kept this long (Segment keeps 30 days).
DELIVERY_RETENTION_DAYS = int(os.environ.get("DELIVERY_RETENTION_DAYS", "30"))
# Per-minute metric rollups are kept longer than the raw runs they count.
METRICS_RETENTION_DAYS = int(os.environ.get("METRICS_RETENTION_DAYS", "90"))
# How many webhook requests, and how many deliveries, a paused instance holds for replay.
HEALTH_HOLD_LIMIT = int(os.environ.get("HEALTH_HOLD_LIMIT", "10000"))
# Periodic work runs under Celery beat: `make run` embeds it in its worker; production runs
# one `celery -A functions_ui beat` process beside the workers.
# The event pipeline (functions_ui/deploys): webhook requests and deliveries wait in the
# database; a worker claims this many at a time, holding them for a lease it renews while it
# works (a dead worker's claim runs out, and the sweep hands the work to another).
PIPELINE_SOURCE_BATCH = int(os.environ.get("PIPELINE_SOURCE_BATCH", "50"))
PIPELINE_DELIVERY_BATCH = int(os.environ.get("PIPELINE_DELIVERY_BATCH", "100"))
PIPELINE_COMMIT_EVERY = int(os.environ.get("PIPELINE_COMMIT_EVERY", "25"))
PIPELINE_LEASE_SECONDS = float(os.environ.get("PIPELINE_LEASE_SECONDS", "30"))
PIPELINE_SWEEP_SECONDS = float(os.environ.get("PIPELINE_SWEEP_SECONDS", "2"))
# Workspaces with work wait their turn in a line (in Redis), one line a stage; at most
# PIPELINE_DRAINS drain tasks a stage work through it at once (all of them across machines:
# at least the number of worker processes), each on up to PIPELINE_DRAIN_WORKSPACES
# workspaces at a time, whose batches share the drain's claims and records.
PIPELINE_DRAINS = int(os.environ.get("PIPELINE_DRAINS", "8"))
PIPELINE_DRAIN_WORKSPACES = int(os.environ.get("PIPELINE_DRAIN_WORKSPACES", "64"))
CELERY_BEAT_SCHEDULE = {
    "trim-delivery-records": {"task": "deploys.delivery_records_trim", "schedule": 3600.0},
    "pipeline-sweep": {"task": "pipeline.sweep", "schedule": PIPELINE_SWEEP_SECONDS},
}
# Segment's retry policy: randomized exponential backoff, the first wait 1-3 minutes, at
# most 20 minutes apart; sources try 6 times, destinations keep trying for 4 hours.
DELIVERY_RETRY_FIRST_MIN_SECONDS = float(os.environ.get("DELIVERY_RETRY_FIRST_MIN_SECONDS", "60"))
DELIVERY_RETRY_FIRST_MAX_SECONDS = float(os.environ.get("DELIVERY_RETRY_FIRST_MAX_SECONDS", "180"))
DELIVERY_RETRY_MAX_DELAY_SECONDS = float(os.environ.get("DELIVERY_RETRY_MAX_DELAY_SECONDS", "1200"))
DELIVERY_SOURCE_MAX_ATTEMPTS = int(os.environ.get("DELIVERY_SOURCE_MAX_ATTEMPTS", "6"))
DELIVERY_RETRY_WINDOW_SECONDS = float(os.environ.get("DELIVERY_RETRY_WINDOW_SECONDS", "14400"))
DELIVERY_ERRORS_KEPT = int(os.environ.get("DELIVERY_ERRORS_KEPT", "100"))
# Unacknowledged tasks (acks_late) of a worker that died go back to the queue after this
# long; it must exceed the longest retry countdown (20 minutes).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
}

# The public API (functions_ui/api): requests each token may make per window, counted in
# Redis at REDIS_URL. When Redis cannot be reached the API serves requests uncounted.
API_RATE_LIMIT_REQUESTS = int(os.environ.get("API_RATE_LIMIT_REQUESTS", "600"))
API_RATE_LIMIT_WINDOW_SECONDS = int(os.environ.get("API_RATE_LIMIT_WINDOW_SECONDS", "60"))
API_RATE_LIMIT_ENABLED = env_bool("API_RATE_LIMIT_ENABLED", True)
# Page size of list endpoints when the request names none, and the largest allowed.
API_PAGE_SIZE_DEFAULT = int(os.environ.get("API_PAGE_SIZE_DEFAULT", "200"))
API_PAGE_SIZE_MAX = int(os.environ.get("API_PAGE_SIZE_MAX", "1000"))

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
