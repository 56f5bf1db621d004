"""The health check of deployed instances: degraded, then paused, when too many runs fail.

Run by the pipeline's periodic sweep. It reads the per-minute metric rollups the pipeline
already writes (never the raw runs) for each workspace's window, and compares each source and
destination instance's error rate (failed, rejected and retried attempts over all attempts)
with the workspace's thresholds. A destination's count includes its insert function's runs.

A paused instance's work is held, not run and not dropped: webhook requests and deliveries wait
in the database under the HELD claim, which no worker takes, up to HEALTH_HOLD_LIMIT of them.
Past the limit a webhook is answered 503 (its sender tries again later) and a delivery is
recorded as failed with the reason. Resuming, which only a person does, releases everything
held and the pipeline replays it. Every change of health is in the audit trail.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
from functions_ui.deploys import doorbell
from functions_ui.deploys.models import (
    HELD,
    OUTCOMES,
    Delivery,
    DestinationInstance,
    Health,
    InstanceBase,
    MetricBucket,
    RunStatus,
    SourceInstance,
    WebhookRequest,
)
from functions_ui.workspaces.models import Workspace

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ERROR_OUTCOMES = ("failed", "rejected", "retrying")
WATCHED: tuple[type[SourceInstance] | type[DestinationInstance], ...] = (
    SourceInstance,
    DestinationInstance,
)


@dataclass(frozen=True)
class Window:
    """What an instance's runs in its workspace's window came to."""

    runs: int
    errors: int

    @property
    def error_percent(self) -> float:
        return 100 * self.errors / self.runs if self.runs else 0.0


def judge(window: Window, workspace: Workspace) -> str:
    """The health these runs deserve under the workspace's thresholds."""
    if window.runs < max(workspace.health_min_runs, 1):
        return Health.HEALTHY
    rate = window.error_percent
    if workspace.health_pause_percent and rate >= workspace.health_pause_percent:
        return Health.PAUSED
    if workspace.health_degraded_percent and rate >= workspace.health_degraded_percent:
        return Health.DEGRADED
    return Health.HEALTHY


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _windows(now: datetime) -> dict[str, dict[datetime, Window]]:
    """Each active instance's runs per minute in its workspace's window (the minute now is in
    included): one query per distinct window length, summed in the database."""
    found: dict[str, dict[datetime, Window]] = defaultdict(dict)
    lengths = Workspace.objects.values_list("health_window_minutes", flat=True).distinct()
    for length in lengths:
        start = _minute(now) - timedelta(minutes=max(length, 1) - 1)
        rows = (
            MetricBucket.objects.filter(
                span="m",
                minute__gte=start,
                minute__lte=now,
                function__workspace__health_window_minutes=length,
            )
            .values("instance_id", "minute")
            .annotate(**{c: Sum(c) for c in OUTCOMES})
        )
        for row in rows:
            found[row["instance_id"]][row["minute"]] = Window(
                runs=sum(row[c] for c in OUTCOMES),
                errors=sum(row[c] for c in ERROR_OUTCOMES),
            )
    return found


def _counted(minutes: dict[datetime, Window], since: datetime | None) -> Window:
    """The runs of the minutes that count: after the one the instance was resumed in."""
    kept = [w for at, w in minutes.items() if since is None or at > _minute(since)]
    return Window(sum(w.runs for w in kept), sum(w.errors for w in kept))


def health_evaluate(*, now: datetime | None = None) -> dict[str, int]:
    """Judge every instance that ran in its window or is degraded; returns the changes made."""
    now = now or timezone.now()
    windows = _windows(now)
    # Runs without an error leave a healthy instance healthy under any thresholds: only the
    # others, and those degraded now, are loaded and judged.
    erring = [pk for pk, minutes in windows.items() if any(w.errors for w in minutes.values())]
    changed = dict.fromkeys(Health.values, 0)
    for model in WATCHED:
        watched = model.objects.filter(Q(public_id__in=erring) | Q(health=Health.DEGRADED)).exclude(
            health=Health.PAUSED
        )
        for instance in watched.select_related("function__workspace").defer(
            "function__code", "setting_values", "secret_values"
        ):
            window = _counted(windows.get(instance.public_id, {}), instance.health_counted_from)
            workspace = instance.function.workspace
            health = judge(window, workspace)
            if health != instance.health:
                _change(instance, health, _reason(health, window, workspace, now), now, window)
                changed[health] += 1
    held = hold_paused()
    return changed | {"held": held}


def _reason(health: str, window: Window, workspace: Workspace, now: datetime) -> str:
    if health == Health.HEALTHY:
        return ""
    threshold = (
        workspace.health_pause_percent
        if health == Health.PAUSED
        else workspace.health_degraded_percent
    )
    verb = "pauses" if health == Health.PAUSED else "marks instances degraded"
    return (
        f"{window.error_percent:.0f}% of {window.runs} runs failed in the "
        f"{workspace.health_window_minutes} minutes to {now:%H:%M} UTC "
        f"(the workspace {verb} at {threshold}%)."
    )


@transaction.atomic
def _change(
    instance: InstanceBase,
    health: str,
    reason: str,
    now: datetime,
    window: Window | None = None,
    user: User | None = None,
) -> None:
    before = instance.health
    instance.health = health
    instance.health_reason = reason
    instance.health_changed_at = now
    fields = ["health", "health_reason", "health_changed_at"]
    if before == Health.PAUSED:
        instance.health_counted_from = now
        fields.append("health_counted_from")
    instance.save(update_fields=fields)
    details: dict[str, object] = {
        "function": instance.function.public_id,
        "from": before,
        "to": health,
    }
    if window is not None:
        details.update(runs=window.runs, error_percent=round(window.error_percent, 1))
    if reason:
        details["reason"] = reason
    audit_record(
        workspace=instance.function.workspace,
        action=AuditAction.INSTANCE_HEALTH,
        user=user,
        target=("instance", instance.public_id, instance.name),
        details=details,
    )
    if health == Health.PAUSED:
        _hold(instance)


def _held_work(instance: InstanceBase) -> QuerySet[Any]:
    if isinstance(instance, SourceInstance):
        return WebhookRequest.objects.filter(instance_id=instance.pk)
    return Delivery.objects.filter(
        destination_id=instance.pk, status__in=[RunStatus.QUEUED, RunStatus.RETRYING]
    )


def _hold(instance: InstanceBase) -> int:
    """Hold the instance's waiting work (what a worker holds already finishes its run)."""
    return _held_work(instance).filter(claim="").update(claim=HELD)


def hold_paused() -> int:
    """Hold what reached paused instances since: a retry scheduled before the pause, a
    delivery a worker was running. Idempotent; the sweep calls it every time."""
    sources = SourceInstance.objects.filter(health=Health.PAUSED)
    destinations = DestinationInstance.objects.filter(health=Health.PAUSED)
    return WebhookRequest.objects.filter(instance__in=sources, claim="").update(
        claim=HELD
    ) + Delivery.objects.filter(
        destination__in=destinations,
        status__in=[RunStatus.QUEUED, RunStatus.RETRYING],
        claim="",
    ).update(claim=HELD)


def held_count(*, instance: InstanceBase) -> int:
    return _held_work(instance).filter(claim=HELD).count()


def hold_room(*, instance_ids: list[int], model: type[InstanceBase]) -> dict[int, int]:
    """How many more items each paused instance may hold before HEALTH_HOLD_LIMIT (below zero:
    it holds more than it may)."""
    limit = settings.HEALTH_HOLD_LIMIT
    counts: QuerySet[Any]
    if model is SourceInstance:
        key = "instance_id"
        counts = WebhookRequest.objects.filter(instance_id__in=instance_ids, claim=HELD)
    else:
        key = "destination_id"
        counts = Delivery.objects.filter(destination_id__in=instance_ids, claim=HELD)
    held = dict(counts.values(key).annotate(n=Count("id")).values_list(key, "n"))
    return {pk: limit - (held.get(pk) or 0) for pk in instance_ids}


def instance_resume(*, instance: InstanceBase, user: User | None) -> int:
    """A person resumes a paused instance: what was held is released, and the pipeline runs it.

    Runs before now no longer count against it. Returns how many held items were released.
    """
    now = timezone.now()
    with transaction.atomic():
        instance = type(instance).objects.select_for_update().get(pk=instance.pk)
        if instance.health != Health.PAUSED:
            return 0
        _change(instance, Health.HEALTHY, "", now, user=user)
        released = _held_work(instance).filter(claim=HELD).update(claim="")
    stage = "sources" if isinstance(instance, SourceInstance) else "deliveries"
    doorbell.ring(stage, instance.function.workspace_id)
    return released
