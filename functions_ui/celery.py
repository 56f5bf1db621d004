"""The Celery application: deploys and event delivery run in its workers."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "functions_ui.settings")

app = Celery("functions_ui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="functions_ui.ping")
def ping() -> str:
    """Answer 'pong': lets `make run` and the tests prove a worker is connected."""
    return "pong"
