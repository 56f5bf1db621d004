"""The periodic sweep: take back work whose worker died, and ring for all due work.

Run every PIPELINE_SWEEP_SECONDS by Celery beat. It is what makes a lost wake-up (a broker
restart, a worker killed mid-batch, a deploy committed while the broker was down) cost only a
few seconds: the database says what is due, and the sweep rings for it. It also runs the
instances' health check (health.py) and ends the canaries that must end (canaries.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from functions_ui.deploys import canaries, doorbell, health
from functions_ui.deploys.models import Delivery, Deploy, DeployStatus, RunStatus, WebhookRequest

log = logging.getLogger(__name__)

# A queued deploy whose task has not started after this long is sent again.
DEPLOY_RESEND_AFTER_S = 5


def pipeline_sweep(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    # A dead drain left its workspace's flag set, which would hold back the rings below until
    # it expires: those workspaces are rung regardless.
    lapsed_requests = WebhookRequest.objects.filter(lease_until__lt=now).exclude(claim="")
    lapsed_deliveries = Delivery.objects.filter(status=RunStatus.RUNNING, lease_until__lt=now)
    orphaned = {
        "sources": set(lapsed_requests.values_list("workspace_id", flat=True)),
        "deliveries": set(lapsed_deliveries.values_list("workspace_id", flat=True)),
    }
    lapsed = {
        "requests": lapsed_requests.update(claim="", lease_until=None),
        "deliveries": Delivery.objects.filter(
            status=RunStatus.RUNNING, lease_until__lt=now, attempts=0
        ).update(status=RunStatus.QUEUED, claim="", lease_until=None)
        + Delivery.objects.filter(
            status=RunStatus.RUNNING, lease_until__lt=now, attempts__gt=0
        ).update(status=RunStatus.RETRYING, claim="", lease_until=None),
    }
    if any(lapsed.values()):
        log.warning("took back work of dead workers: %s", lapsed)
    rung = 0
    for stage, workspace_ids in orphaned.items():
        for workspace_id in workspace_ids:
            rung += doorbell.ring(stage, workspace_id, force=True)
    for workspace_id in (
        WebhookRequest.objects.filter(claim="", available_at__lte=now)
        .values_list("workspace_id", flat=True)
        .distinct()
    ):
        rung += doorbell.ring("sources", workspace_id)
    for workspace_id in (
        Delivery.objects.filter(
            status__in=[RunStatus.QUEUED, RunStatus.RETRYING], claim="", available_at__lte=now
        )
        .values_list("workspace_id", flat=True)
        .distinct()
    ):
        rung += doorbell.ring("deliveries", workspace_id)
    resent = _deploys_resend(now)
    # After the rings: work held just now waits for a person, not for the next sweep.
    judged = health.health_evaluate(now=now)
    ended = canaries.canaries_judge(now=now)
    return {**lapsed, "rung": rung, "deploys": resent, **judged, **ended}


def _deploys_resend(now: datetime) -> int:
    """Send again the tasks of deploys that are still queued: theirs may never have reached the
    broker (it was down when the deploy was committed)."""
    # Imported here: tasks import this module.
    from functions_ui.deploys.tasks import deploy_enqueue

    waiting = Deploy.objects.filter(
        status=DeployStatus.QUEUED,
        created_at__lt=now - timedelta(seconds=DEPLOY_RESEND_AFTER_S),
    ).values_list("pk", flat=True)
    return sum(deploy_enqueue(pk, once_within_s=30) for pk in waiting)
