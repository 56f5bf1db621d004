"""Celery tasks of deploys and event delivery: ids in, one service call, retries declared.

Every task is idempotent, so they all acknowledge late: a task whose worker died is run
again by another worker and finds whatever its first run already recorded.
"""

from __future__ import annotations

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import OperationalError


class DeployTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        from functions_ui.deploys.services import deploy_fail

        deploy_fail(deploy_id=args[0], message=f"The deploy could not finish: {exc}")


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
    from functions_ui.deploys import services

    try:
        deploy = services.deploy_execute(deploy_id=deploy_id)
    except services.DeployWaiting as exc:
        # Deploys of one function go one after the other; check again shortly.
        raise self.retry(exc=exc, countdown=0.2, max_retries=None) from exc
    except (services.TransientDeployError, OperationalError) as exc:
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 30)) from exc
    return deploy.status if deploy else None


@shared_task(
    name="deploys.source_request_run",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def source_request_run(
    instance_id: int,
    request_id: str,
    body: str,
    headers: dict[str, str],
    query: str,
    attempt: int = 1,
) -> None:
    """Run a webhook request through its source instance's deployed `onRequest`."""
    from functions_ui.deploys.delivery import source_request_process

    source_request_process(
        instance_id=instance_id,
        request_id=request_id,
        body=body,
        headers=headers,
        query=query,
        attempt=attempt,
    )


@shared_task(
    name="deploys.delivery_run",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def delivery_run(delivery_id: int, attempt: int = 1) -> None:
    """Deliver one event to one destination instance (through its insert function)."""
    from functions_ui.deploys.delivery import delivery_process

    delivery_process(delivery_id=delivery_id, attempt=attempt)


@shared_task(
    name="deploys.delivery_batch_flush",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def delivery_batch_flush(destination_id: int) -> None:
    """Send a destination's waiting events to its `onBatch`."""
    from functions_ui.deploys.delivery import delivery_batch_process

    delivery_batch_process(destination_id=destination_id)


@shared_task(name="deploys.delivery_records_trim", ignore_result=True)
def delivery_records_trim() -> None:
    """Drop event logs and deliveries past the retention period (run by Celery beat)."""
    from functions_ui.deploys.delivery import delivery_records_trim as trim

    trim()
