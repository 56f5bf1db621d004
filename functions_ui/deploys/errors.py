"""The Errors view's records: each instance keeps its newest final errors."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from functions_ui.deploys.models import DestinationInstance, InstanceError, SourceInstance


def error_row(
    *,
    source: SourceInstance | None = None,
    destination: DestinationInstance | None = None,
    category: str,
    error: dict[str, Any] | None,
    logs: list,
    stage: str = "",
    event_type: str = "",
    attempts: int = 1,
) -> InstanceError:
    """A final error of one run, not saved yet (errors_store saves a batch of them)."""
    error = error or {}
    return InstanceError(
        source=source,
        destination=destination,
        category=category,
        name=str(error.get("name", ""))[:120],
        message=str(error.get("message", "")),
        stage=stage,
        event_type=event_type[:16],
        logs=logs,
        attempts=attempts,
    )


def errors_store(rows: list[InstanceError]) -> None:
    """Save the errors, then drop each instance's errors beyond the newest DELIVERY_ERRORS_KEPT."""
    if not rows:
        return
    InstanceError.objects.bulk_create(rows)
    kept = settings.DELIVERY_ERRORS_KEPT
    owners = {(r.source_id or 0, r.destination_id or 0) for r in rows}
    for source, destination in sorted(owners):  # one order for every drain: no deadlock
        source_id, destination_id = source or None, destination or None
        mine = InstanceError.objects.filter(source_id=source_id, destination_id=destination_id)
        keep = list(mine.order_by("-id").values_list("pk", flat=True)[:kept])
        if len(keep) == kept:
            mine.filter(pk__lt=keep[-1]).delete()
