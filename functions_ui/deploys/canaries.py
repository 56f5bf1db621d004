"""Canary deploys: a version tried on a share of one instance's events, then promoted or
rolled back.

The pipeline asks `pick` which version runs each event (a hash of its messageId, or of the
webhook request's id, so a retried event keeps its side) and adds both sides' outcomes to the
canary with `count`, once per recorded batch. The sweep calls `canaries_judge`: a canary whose
error rate passes the stable version's by more than its margin (once it has run `min_runs`
times) is rolled back at once; one whose time is up is promoted by a real deploy of its version
to the instance. Every step is in the audit trail.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
from functions_ui.deploys import services
from functions_ui.deploys.models import Canary, CanaryStatus, InstanceBase, RunStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from versioning.models import Version

ERROR_STATUSES = frozenset({RunStatus.FAILED, RunStatus.REJECTED, RunStatus.RETRYING})
MAX_MINUTES = 24 * 60
AnyInstance = TypeVar("AnyInstance", bound=InstanceBase)


def flag_running(queryset: QuerySet[AnyInstance]) -> QuerySet[AnyInstance]:
    """Instances marked `has_running_canary`, so that a batch asks for canaries only when one
    runs (most batches have none, and the question then costs no statement of its own)."""
    running = Canary.objects.filter(status=CanaryStatus.RUNNING, instance_id=OuterRef("public_id"))
    return queryset.annotate(has_running_canary=Exists(running))


def running_for(instances: Iterable[InstanceBase]) -> dict[str, Canary]:
    """The running canaries of these instances, by public id: at most one query per batch.

    An instance not loaded through `flag_running` is looked up, to be safe."""
    ids = [i.public_id for i in instances if getattr(i, "has_running_canary", True)]
    if not ids:
        return {}
    canaries = Canary.objects.filter(status=CanaryStatus.RUNNING, instance_id__in=ids)
    return {c.instance_id: c for c in canaries.select_related("canary_version")}


def on_canary(canary: Canary | None, key: str) -> bool:
    """Whether this event (by its key) runs the canary version."""
    return canary is not None and zlib.crc32(key.encode()) % 100 < canary.percent


def version_for(canary: Canary | None, key: str) -> Version | None:
    """The canary's version when this event (by its key) is on the canary's side, else None:
    the instance's own version runs it."""
    return canary.canary_version if canary is not None and on_canary(canary, key) else None


def count(ran: Iterable[tuple[Canary, bool, str, float]]) -> None:
    """Add runs (canary, ran the canary?, status, duration) to their canaries: an UPDATE each."""
    sums: dict[int, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for canary, canary_side, status, duration_ms in ran:
        side = "canary" if canary_side else "stable"
        sums[canary.pk][f"{side}_runs"] += 1
        sums[canary.pk][f"{side}_errors"] += status in ERROR_STATUSES
        sums[canary.pk][f"{side}_ms"] += duration_ms
    for pk, added in sorted(sums.items()):  # one order for every drain: no deadlock
        Canary.objects.filter(pk=pk, status=CanaryStatus.RUNNING).update(
            **{name: F(name) + value for name, value in added.items()}
        )


def _audit(canary: Canary, action: str, user: User | None, **details: Any) -> None:
    audit_record(
        workspace=canary.function.workspace,
        action=action,
        user=user if user is not None and user.is_authenticated else None,
        target=("instance", canary.instance_id, canary.instance_name),
        details={
            "function": canary.function.public_id,
            "stable": f"v{canary.stable_version.number}",
            "canary": f"v{canary.canary_version.number}",
            "percent": canary.percent,
            **details,
        },
    )


def canary_start(
    *,
    instance: InstanceBase,
    version: Version,
    percent: int,
    minutes: int,
    margin_percent: int = 5,
    min_runs: int = 20,
    user: User | None,
    now: datetime | None = None,
) -> Canary:
    """Run `version` on `percent` % of the instance's events for `minutes`."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if not 1 <= percent <= 99:
        errors["percent"] = "Choose a share from 1 to 99 %."
    if not 1 <= minutes <= MAX_MINUTES:
        errors["minutes"] = f"Choose a length from 1 to {MAX_MINUTES} minutes."
    if not 0 <= margin_percent <= 100:
        errors["margin_percent"] = "Choose a margin from 0 to 100 percentage points."
    if instance.version_id == version.pk:
        errors["version"] = f"The instance runs v{version.number} already."
    if version.function_id != instance.function_id:
        errors["version"] = "The version is another function's."
    if errors:
        raise ValidationError(errors)
    assert instance.version is not None  # an instance runs a version from its creation on
    try:
        with transaction.atomic():
            canary = Canary.objects.create(
                function=instance.function,
                instance_id=instance.public_id,
                instance_name=instance.name,
                stable_version=instance.version,
                canary_version=version,
                percent=percent,
                margin_percent=margin_percent,
                min_runs=min_runs,
                started_by_name=user.get_username() if user is not None else "",
                started_at=now,
                ends_at=now + timedelta(minutes=minutes),
            )
            _audit(canary, AuditAction.CANARY_START, user, minutes=minutes)
    except IntegrityError as error:
        raise ValidationError({"version": "A canary runs on this instance already."}) from error
    return canary


def canary_finish(
    *,
    canary: Canary,
    promote: bool,
    reason: str,
    user: User | None = None,
    now: datetime | None = None,
) -> Canary:
    """End a running canary: promote it (deploy its version to the instance) or roll it back
    (the instance keeps its stable version). Idempotent: an ended canary is left as it is."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Canary.objects.select_for_update().filter(pk=canary.pk).first()
        if locked is None or not locked.is_running:
            return locked or canary
        locked.status = CanaryStatus.PROMOTED if promote else CanaryStatus.ROLLED_BACK
        locked.reason = reason
        locked.finished_at = now
        locked.save(update_fields=["status", "reason", "finished_at"])
        figures = {
            "stable_runs": locked.stable_runs,
            "stable_errors": locked.stable_errors,
            "canary_runs": locked.canary_runs,
            "canary_errors": locked.canary_errors,
            "reason": reason,
        }
        if promote:
            _audit(locked, AuditAction.CANARY_PROMOTE, user, **figures)
            services.deploy_start(
                function=locked.function,
                version=locked.canary_version,
                user=user,
                instance_ids=[locked.instance_id],
                message=f"Canary promoted: {reason}",
            )
        else:
            _audit(locked, AuditAction.CANARY_ROLLBACK, user, **figures)
    return locked


def verdict(canary: Canary, now: datetime) -> tuple[bool, str] | None:
    """(promote?, why) when the canary should end now, else None."""
    stable, tried = canary.stable_error_percent, canary.canary_error_percent
    if tried is not None and canary.canary_runs >= canary.min_runs:
        baseline = stable or 0.0
        if tried > baseline + canary.margin_percent:
            return False, (
                f"its error rate {tried:.1f}% passed the stable version's {baseline:.1f}% by more "
                f"than {canary.margin_percent} points after {canary.canary_runs} runs"
            )
    if now >= canary.ends_at:
        shown = f"{tried:.1f}%" if tried is not None else "no runs"
        return True, f"its time was up with an error rate of {shown}"
    return None


def canaries_judge(*, now: datetime | None = None) -> dict[str, int]:
    """End the canaries that must end (the sweep runs this)."""
    now = now or timezone.now()
    ended = {"promoted": 0, "rolled_back": 0}
    running = Canary.objects.filter(status=CanaryStatus.RUNNING).select_related(
        "function__workspace", "stable_version", "canary_version"
    )
    for canary in running:
        decided = verdict(canary, now)
        if decided is None:
            continue
        promote, reason = decided
        canary_finish(canary=canary, promote=promote, reason=reason, now=now)
        ended["promoted" if promote else "rolled_back"] += 1
    return ended
