"""Celery tasks of deploys and the event pipeline: ids in, one service call.

The pipeline's tasks carry no data: a drain task takes workspaces from its stage's line (see
doorbell.py) and works through their queues in the database. Every task is idempotent and
acknowledged late, so a task whose worker died runs again and finds what was recorded.
"""

from __future__ import annotations

import logging

import redis
from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.db import OperationalError
from kombu.exceptions import KombuError

# Tasks call the pipeline and deploy services; those send tasks by importing this module
# inside the function that sends (the one cycle that forces a function-level import).
from functions_ui.deploys import deliveries, doorbell, retention, services, sources, sweep
from functions_ui.deploys.models import ACTIVE_DEPLOY_STATUSES, Deploy

log = logging.getLogger(__name__)

# A deploy waiting for an earlier one of its function asks again this often, for as long as the
# earlier one may take (DEPLOYS_STALE_SECONDS marks it abandoned after that).
DEPLOY_WAIT_S = 0.2


class DeployTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        log.error("deploy %s failed: %r", args[0], exc)
        services.deploy_fail(
            deploy_id=args[0], message="The deploy could not finish; see the server log."
        )


@shared_task(
    name="deploys.deploy_execute",
    base=DeployTask,
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=5,
)
def deploy_execute(self, deploy_id: int) -> str | None:
    """Check the deploy's version and switch its instances to it."""
    try:
        deploy = services.deploy_execute(deploy_id=deploy_id)
    except services.DeployWaiting as exc:
        # Deploys of one function go one after the other. (Celery reads max_retries=None in
        # retry() as "the task's default", so the bound is explicit.)
        waits = int(settings.DEPLOYS_STALE_SECONDS / DEPLOY_WAIT_S) + 10
        raise self.retry(exc=exc, countdown=DEPLOY_WAIT_S, max_retries=waits) from exc
    except (services.TransientDeployError, OperationalError) as exc:
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 30)) from exc
    return deploy.status if deploy else None


def deploy_enqueue(deploy_id: int, *, once_within_s: int = 0) -> bool:
    """Send a deploy's task; False when the broker cannot take it (the sweep sends it later).

    With once_within_s, a deploy is sent at most once in that many seconds (for the sweep).
    """
    if not Deploy.objects.filter(pk=deploy_id, status__in=ACTIVE_DEPLOY_STATUSES).exists():
        return True  # finished already (say, run in place by the demo data): nothing to send
    try:
        client = doorbell.broker_redis()
        if once_within_s:
            if not client.set(f"fnui:deploy:{deploy_id}", "1", nx=True, ex=once_within_s):
                return False
        else:
            # Fail fast (1 s at most) when the broker is down: kombu's own connection would
            # keep the request waiting about 6 s before giving up, even with retry=False.
            client.ping()
        deploy_execute.apply_async(args=(deploy_id,), retry=False)
    except (redis.RedisError, KombuError, OSError) as error:
        log.warning("deploy %s could not be queued yet: %s", deploy_id, error)
        return False
    return True


@shared_task(
    name="pipeline.sources_drain",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def sources_drain(token: str) -> int:
    """Run the webhook requests of workspaces in the sources line through their source
    functions, batch by batch (the token is this drain's place among the stage's drains)."""
    return doorbell.drain(
        "sources",
        token,
        lambda ids: sources.sources_drain_many(workspace_ids=ids),
        settings.PIPELINE_SOURCE_BATCH,
    )


@shared_task(
    name="pipeline.deliveries_drain",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def deliveries_drain(token: str) -> int:
    """Deliver the due events of workspaces in the deliveries line, batch by batch."""
    return doorbell.drain(
        "deliveries",
        token,
        lambda ids: deliveries.deliveries_drain_many(workspace_ids=ids),
        settings.PIPELINE_DELIVERY_BATCH,
    )


DRAIN_TASKS = {"sources": sources_drain, "deliveries": deliveries_drain}


@shared_task(name="pipeline.sweep", ignore_result=True)
def pipeline_sweep() -> dict[str, int]:
    """Take back the work of dead workers and ring for all due work (run by Celery beat)."""
    return sweep.pipeline_sweep()


@shared_task(name="deploys.delivery_records_trim", ignore_result=True)
def delivery_records_trim() -> None:
    """Drop event logs and deliveries past the retention period (run by Celery beat)."""
    retention.delivery_records_trim()
