"""The Celery application: deploys and event delivery run in its workers."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "functions_ui.settings")

app = Celery("functions_ui")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fixup closes the database connection before and after every task unless this
# is set, so every pipeline wake-up opened a new connection (PostgreSQL forks a process for
# each): 8 ms of CPU and a fifth of a lightly loaded event's latency. The worker keeps its
# connection as a web process does instead (below).
app.conf.CELERY_DB_REUSE_MAX = 1_000_000
app.autodiscover_tasks()


@signals.task_prerun.connect
def _database_connections_as_for_a_request(sender: Any = None, **kwargs: Any) -> None:
    """Before each task, as Django does before each request: close a connection that failed or
    is older than CONN_MAX_AGE, so the task opens a fresh one (not for a task run in place,
    which shares its caller's connection and transaction)."""
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()


@app.task(name="functions_ui.ping")
def ping() -> str:
    """Answer 'pong': lets `make run` and the tests prove a worker is connected."""
    return "pong"
