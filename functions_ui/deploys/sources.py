"""Source stage: run `onRequest` for a batch of webhook requests (of one or several workspaces).

A drain claims up to PIPELINE_SOURCE_BATCH waiting requests of each of its workspaces, runs each
through its source instance's deployed version (settings decrypted once per instance and
batch), and records the whole batch in one transaction: the runs, the emitted events (the
source's event log), one delivery per event and connected destination, the final errors, and
the requests' removal (or their next attempt). A worker that dies before that commit leaves the
requests claimed; once the lease runs out they run again (at least once), and nothing is
recorded twice.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.secrets import decrypt_value
from functions_ui.deploys import canaries, claims, deliveries, doorbell, health, metrics, runs
from functions_ui.deploys.errors import error_row, errors_store
from functions_ui.deploys.models import (
    HELD,
    Canary,
    Delivery,
    DestinationInstance,
    Health,
    RunStatus,
    SourceEvent,
    SourceInstance,
    SourceRun,
    WebhookRequest,
)
from functions_ui.deploys.retry import source_policy
from functions_ui.runtime.masking import MASK
from functions_ui.runtime.requests import source_request
from functions_ui.runtime.types import RunResult
from versioning.models import Version

RUN_FIELDS = (
    "version",
    "status",
    "category",
    "attempts",
    "event_count",
    "error",
    "logs",
    "duration_ms",
    "finished_at",
    "next_attempt_at",
    "fetches",
)


@dataclass
class _Ran:
    request: WebhookRequest
    instance: SourceInstance
    attempt: int
    result: RunResult
    version: Version | None = None  # the version that ran (a canary's, or the instance's)
    canary: Canary | None = None
    canary_side: bool = False


def shown_headers(request: WebhookRequest) -> dict[str, str]:
    """A request's headers as the debugger shows them: credential ones by name only."""
    return {**request.headers, **dict.fromkeys(request.secret_headers, MASK)}


def sources_drain(
    *, workspace_id: int, now: datetime | None = None, rng: random.Random | None = None
) -> int:
    """Run one batch of the workspace's due webhook requests; returns how many were claimed."""
    claimed = sources_drain_many(workspace_ids=[workspace_id], now=now, rng=rng)
    return claimed.get(workspace_id, 0)


def sources_drain_many(
    *,
    workspace_ids: list[int],
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> dict[int, int]:
    """Run one batch of the workspaces' due webhook requests, up to PIPELINE_SOURCE_BATCH of
    every workspace, recorded together; how many each had claimed."""
    now = now or timezone.now()
    due = WebhookRequest.objects.filter(claim="", available_at__lte=now)
    key, by_workspace = claims.claim_each(
        due, "workspace_id", workspace_ids, each=settings.PIPELINE_SOURCE_BATCH, now=now
    )
    if not by_workspace:
        return {}
    ids = [pk for claimed in by_workspace.values() for pk in claimed]
    requests = list(WebhookRequest.objects.filter(pk__in=ids).order_by("id"))
    instances = {
        i.pk: i
        for i in canaries.flag_running(
            SourceInstance.objects.select_related("version", "function")
        ).filter(pk__in={r.instance_id for r in requests})
    }
    running = canaries.running_for(instances.values())
    # The requests of one instance that run the same version go to the runtime together.
    groups: dict[tuple[int, str], list[tuple[WebhookRequest, Canary | None, Version | None]]] = {}
    for request in requests:
        instance = instances.get(request.instance_id)
        if instance is None or instance.version is None:
            continue
        canary = running.get(instance.public_id)
        version = canaries.version_for(canary, request.request_id)
        side = (instance.pk, version.pk if version is not None else "")
        groups.setdefault(side, []).append((request, canary, version))
    ran: list[_Ran] = []
    lease = claims.Lease(WebhookRequest, key, clock=timezone.now)
    decrypted: dict[int, tuple] = {}  # an instance with a running canary has two groups
    for instance_pk, _ in groups:
        if instance_pk not in decrypted:
            decrypted[instance_pk] = runs.instance_settings(instances[instance_pk])
    # Every group's runs share round trips to the runtime, whichever instance they are of.
    every = runs.run_instances_many(
        [
            runs.InstanceRuns(
                instances[instance_pk],
                "source",
                [_payload(request) for request, _, _ in group],
                settings=decrypted[instance_pk],
                version=group[0][2],
            )
            for (instance_pk, _), group in groups.items()
        ],
        between=lease.keep,
    )
    for ((instance_pk, _), group), results in zip(groups.items(), every, strict=True):
        instance = instances[instance_pk]
        for (request, canary, version), result in zip(group, results, strict=True):
            ran.append(
                _Ran(
                    request,
                    instance,
                    request.attempts + 1,
                    result,
                    version or instance.version,
                    canary,
                    version is not None,
                )
            )
    handed_on = _record(key=key, ids=ids, ran=ran, now=now, rng=rng)
    if handed_on is not None:
        # The fresh events go straight on, in this worker, without another queue trip.
        deliveries.deliver_claimed(key=handed_on[0], rows=handed_on[1], now=now, rng=rng)
    return {workspace_id: len(claimed) for workspace_id, claimed in by_workspace.items()}


def _payload(request: WebhookRequest) -> dict:
    """The request as onRequest gets it: its credential headers decrypted."""
    headers = dict(request.headers)
    headers.update({k: decrypt_value(v) for k, v in request.secret_headers.items()})
    return source_request(body=request.body, headers=headers, query=request.query)


@transaction.atomic
def _record(
    *, key: str, ids: list[int], ran: list[_Ran], now: datetime, rng: random.Random | None
) -> tuple[str, list[Delivery]] | None:
    """Record the batch; returns the deliveries created claimed for this worker, and their key."""
    claims.relaxed_commit()
    owned = claims.still_claimed(WebhookRequest, key, ids)
    ran = [r for r in ran if r.request.pk in owned]
    earlier = {
        run.request_id: run
        for run in SourceRun.objects.filter(
            request_id__in=[r.request.request_id for r in ran if r.attempt > 1]
        )
    }
    new_runs: list[SourceRun] = []
    changed_runs: list[SourceRun] = []
    recorded: list[tuple[SourceInstance, SourceRun]] = []
    emitted: list[tuple[SourceRun, SourceInstance, list[dict]]] = []
    errors = []
    retries: list[tuple[int, datetime, int]] = []
    finished: list[int] = []
    for item in ran:
        result = item.result
        status, next_at = runs.next_try(
            runs.STATUS_BY_RESULT.get(result.status, RunStatus.FAILED),
            policy=source_policy(),
            attempts=item.attempt,
            first_attempt_at=item.request.received_at,
            now=now,
            rng=rng,
        )
        fields = {
            "version": item.version or item.instance.version,
            "status": status,
            "category": "" if result.ok else result.category,
            "attempts": item.attempt,
            "event_count": len(result.events) if status == RunStatus.DELIVERED else 0,
            "error": result.error,
            "logs": result.logs,
            "fetches": result.fetches,
            "duration_ms": result.duration_ms,
            "finished_at": None if next_at else now,
            "next_attempt_at": next_at,
        }
        run = earlier.get(item.request.request_id)
        if run is None:
            run = SourceRun(
                instance=item.instance,
                request_id=item.request.request_id,
                received_at=item.request.received_at,
                body=item.request.body,
                headers=shown_headers(item.request),
                query=item.request.query,
                **fields,
            )
            new_runs.append(run)
        else:
            for name, value in fields.items():
                setattr(run, name, value)
            changed_runs.append(run)
        recorded.append((item.instance, run))
        if next_at is not None:
            retries.append((item.request.pk, next_at, item.attempt))
            continue
        finished.append(item.request.pk)
        if status == RunStatus.DELIVERED:
            emitted.append((run, item.instance, result.events))
        else:
            errors.append(
                error_row(
                    source=item.instance,
                    category=result.category,
                    error=result.error,
                    logs=result.logs,
                    attempts=item.attempt,
                )
            )
    SourceRun.objects.bulk_create(new_runs)
    SourceRun.objects.bulk_update(changed_runs, RUN_FIELDS)
    metrics.record(
        metrics.Outcome(
            function_id=instance.function_id,
            instance_id=instance.public_id,
            status=run.status,
            duration_ms=run.duration_ms,
            at=now,
        )
        for instance, run in recorded
    )
    canaries.count(
        (item.canary, item.canary_side, run.status, run.duration_ms)
        for item, (_, run) in zip(ran, recorded, strict=True)
        if item.canary is not None
    )
    handed_on = _fan_out(emitted, now)
    errors_store(errors)
    WebhookRequest.objects.filter(pk__in=finished).delete()
    for pk, next_at, attempt in retries:
        WebhookRequest.objects.filter(pk=pk).update(
            claim="", lease_until=None, available_at=next_at, attempts=attempt
        )
    # Requests whose instance has gone or has no deployed version: nothing can run them.
    WebhookRequest.objects.filter(pk__in=owned - {r.request.pk for r in ran}).delete()
    return handed_on


def _fan_out(
    emitted: list[tuple[SourceRun, SourceInstance, list[dict]]], now: datetime
) -> tuple[str, list[Delivery]] | None:
    """Store the events in their sources' logs and make one delivery per connected destination.

    Deliveries to onBatch destinations wait in the queue for their batch; the others are created
    claimed by this worker (a key and a lease), which delivers them right after the commit. A
    worker that dies first leaves them to the lease and the sweep, as any claimed work.
    """
    received = now.isoformat().replace("+00:00", "Z")
    rows = [
        SourceEvent(
            instance=instance,
            run=run,
            index=index,
            type=str(event.get("type", ""))[:16],
            payload={"messageId": f"fn-{run.request_id}-{index}", "receivedAt": received, **event},
            created_at=now,
        )
        for run, instance, events in emitted
        for index, event in enumerate(events)
    ]
    if not rows:
        return None
    stored = SourceEvent.objects.bulk_create(rows)
    links = DestinationInstance.sources.through.objects.filter(
        sourceinstance_id__in={e.instance_id for e in stored}
    ).values_list("sourceinstance_id", "destinationinstance_id")
    by_source: dict[int, list[int]] = {}
    for source_id, destination_id in links:
        by_source.setdefault(source_id, []).append(destination_id)
    destinations = {
        d.pk: d
        for d in canaries.flag_running(
            DestinationInstance.objects.select_related("version", "function")
        ).filter(pk__in={d for ids in by_source.values() for d in ids}, enabled=True)
    }
    window = timedelta(seconds=settings.DELIVERY_BATCH_WINDOW_SECONDS)
    batched = {pk for pk, d in destinations.items() if runs.uses_batches(d)}
    paused = [pk for pk, d in destinations.items() if d.health == Health.PAUSED]
    room = health.hold_room(instance_ids=paused, model=DestinationInstance) if paused else {}
    key = uuid.uuid4().hex
    lease = claims.lease_end(now)
    made = []
    for event in stored:
        for destination_id in by_source.get(event.instance_id, []):
            if destination_id not in destinations:
                continue
            destination = destinations[destination_id]
            delivery = Delivery(
                destination=destination,
                event=event,
                workspace_id=destination.function.workspace_id,
                created_at=now,
            )
            if destination_id in room:
                _held_or_refused(delivery, room, now)
            elif destination_id in batched:
                # onBatch destinations wait for a full batch or the end of the window.
                delivery.available_at = now + window
                delivery.status = RunStatus.QUEUED
            else:
                delivery.available_at = now
                delivery.status = RunStatus.RUNNING
                delivery.claim = key
                delivery.lease_until = lease
                delivery.last_attempt_at = now
            made.append(delivery)
    Delivery.objects.bulk_create(made)
    errors_store(
        [
            error_row(
                destination=d.destination,
                category=d.category,
                error=d.error,
                logs=[],
                stage="",
                event_type=d.event.type,
                attempts=0,
            )
            for d in made
            if d.status == RunStatus.FAILED
        ]
    )
    size = settings.DELIVERY_BATCH_SIZE
    for destination_id in batched:
        waiting = Delivery.objects.filter(
            destination_id=destination_id,
            status=RunStatus.QUEUED,
            attempts=0,
            claim="",
            available_at__gt=now,
        )
        ids = list(waiting.order_by("id").values_list("pk", flat=True))
        if len(ids) >= size:
            # Full batches go now; the rest wait for more events or the window's end.
            Delivery.objects.filter(pk__in=ids[: len(ids) // size * size]).update(available_at=now)
    # Batch waits are rung for; held and refused deliveries are not.
    to_ring = {d.workspace_id for d in made if not d.claim and d.status == RunStatus.QUEUED}
    for workspace_id in to_ring:
        transaction.on_commit(partial(doorbell.ring, "deliveries", workspace_id))
    mine = [d for d in made if d.claim == key]
    return (key, mine) if mine else None


def _held_or_refused(delivery: Delivery, room: dict[int, int], now: datetime) -> None:
    """A paused destination's delivery waits held while there is room, else fails, saying why."""
    delivery.available_at = now
    if room[delivery.destination_id] > 0:
        room[delivery.destination_id] -= 1
        delivery.status = RunStatus.QUEUED
        delivery.claim = HELD
        return
    delivery.status = RunStatus.FAILED
    delivery.category = "Paused"
    delivery.error = {
        "name": "HoldLimitReached",
        "message": (
            f"The destination was paused and already held {settings.HEALTH_HOLD_LIMIT} events."
        ),
    }
    delivery.finished_at = now
