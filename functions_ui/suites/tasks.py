"""Celery tasks of test suites: a version id in, one service call."""

from __future__ import annotations

import logging

import redis
from celery import shared_task
from kombu.exceptions import KombuError

from functions_ui.deploys import doorbell
from functions_ui.suites import services
from versioning.models import Version

log = logging.getLogger(__name__)


@shared_task(name="suites.suite_run", acks_late=True, ignore_result=True)
def suite_run(version_id: str) -> str | None:
    """Run the function's test suite on a saved version (idempotent: the result is replaced)."""
    version = Version.objects.select_related("function").filter(pk=version_id).first()
    if version is None:
        return None
    run = services.suite_run(version=version)
    return run.status if run else None


def suite_enqueue(version_id: str) -> bool:
    """Send a version's suite run; False when the broker cannot take it (the editor's Run tests
    and the version's badge then run it on demand)."""
    try:
        # Fail fast when the broker is down, as deploys do: kombu would wait seconds.
        doorbell.broker_redis().ping()
        suite_run.apply_async(args=(version_id,), retry=False)
    except (redis.RedisError, KombuError, OSError) as error:
        log.warning("suite run of %s could not be queued: %s", version_id, error)
        return False
    return True
