"""Writes of the event pipeline: webhook requests, source runs, deliveries and their errors.

webhook POST -> queue -> `onRequest` of the source instance's version -> events stored ->
one delivery per connected destination -> insert function (when enabled) -> destination
handler (or `onBatch`) -> the delivery's outcome. Every step is idempotent: a task that
runs twice finds the work already recorded and does nothing.
"""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from catalog.secrets import decrypt_value, secret_strings
from functions_ui.deploys.models import (
    FINAL_RUN_STATUSES,
    Delivery,
    DestinationInstance,
    InsertInstance,
    InstanceBase,
    InstanceError,
    RunStatus,
    SourceEvent,
    SourceInstance,
    SourceRun,
)
from functions_ui.deploys.retry import destination_policy, source_policy


class QueueUnavailable(Exception):
    """The broker could not take the request; the sender should try again later."""


# Runtime status -> what the pipeline records.
STATUS_BY_RESULT = {
    "success": RunStatus.DELIVERED,
    "dropped": RunStatus.FILTERED,
    "unsupported_event_type": RunStatus.UNSUPPORTED,
    "message_rejected": RunStatus.REJECTED,
    "retry": RunStatus.RETRYING,
    "timeout": RunStatus.RETRYING,
}
NOT_ERRORS = (RunStatus.DELIVERED, RunStatus.FILTERED)


@sensitive_variables("values", "value", "hidden")
def _instance_settings(instance: InstanceBase) -> tuple[dict[str, Any], list[str]]:
    """The settings a run gets, and the plaintext strings its output must never show."""
    values = dict(instance.setting_values)
    hidden: list[str] = []
    for name, token in instance.secret_values.items():
        value = decrypt_value(token)
        values[name] = value
        hidden.extend(secret_strings(value))
    return values, hidden


@sensitive_variables("values", "hidden")
def _run(instance: InstanceBase, function_type: str, payload: Any):
    from functions_ui.runtime import RunOptions, run_function

    values, hidden = _instance_settings(instance)
    return run_function(
        code=instance.version.code,
        function_type=function_type,
        payload=payload,
        settings=values,
        options=RunOptions(
            cache_namespace=f"{instance.public_id}:{instance.version_id}",
            secret_values=hidden,
            workspace=str(instance.function.workspace_id),
            function_key=instance.function.public_id,
        ),
    )


@lru_cache(maxsize=512)
def _handlers(version_id: str, code: str) -> frozenset[str]:
    from functions_ui.runtime.api import declared_handlers

    return frozenset(declared_handlers(code))


def uses_batches(instance: DestinationInstance) -> bool:
    """Whether the destination's version defines onBatch, so its events go in batches."""
    version = instance.version
    return version is not None and "onBatch" in _handlers(version.pk, version.code)


def _error_record(
    *,
    source: SourceInstance | None = None,
    destination: DestinationInstance | None = None,
    category: str,
    error: dict[str, Any] | None,
    logs: list,
    stage: str = "",
    event_type: str = "",
    attempts: int = 1,
) -> None:
    """Keep a final error for the instance's Errors view, and only the newest ones."""
    error = error or {}
    InstanceError.objects.create(
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
    mine = InstanceError.objects.filter(source=source, destination=destination)
    keep = list(mine.order_by("-id").values_list("pk", flat=True)[: settings.DELIVERY_ERRORS_KEPT])
    if len(keep) == settings.DELIVERY_ERRORS_KEPT:
        mine.filter(pk__lt=keep[-1]).delete()


# Webhook intake -----------------------------------------------------------------------------


def webhook_enqueue(*, instance_id: int, body: str, headers: dict[str, str], query: str) -> str:
    """Queue a webhook request for its source instance; nothing is written here.

    Raises QueueUnavailable when the broker does not answer, so that the sender is told to
    retry and no half-accepted request is left behind.
    """
    from kombu.exceptions import OperationalError

    from functions_ui.deploys.tasks import source_request_run

    request_id = uuid.uuid4().hex
    try:
        source_request_run.apply_async(
            args=(instance_id, request_id, body, headers, query),
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.1},
        )
    except (OperationalError, ConnectionError, OSError) as error:
        raise QueueUnavailable(str(error)) from error
    return request_id


def _request_payload(body: str, headers: dict[str, str], query: str) -> dict[str, Any]:
    content_type = headers.get("Content-Type", headers.get("content-type", ""))
    if "json" in content_type:
        # Deployed source functions get the payload's fields in alphabetical order.
        with contextlib.suppress(ValueError):
            body = json.dumps(
                json.loads(body, object_pairs_hook=lambda pairs: dict(sorted(pairs))),
                ensure_ascii=False,
            )
    return {
        "body": body,
        "headers": headers,
        "url": "https://fn.segmentapis.com/" + (f"?{query}" if query else ""),
        "queryParameters": {k: v[0] if len(v) == 1 else v for k, v in parse_qs(query).items()},
    }


def _enqueue(task, args: tuple, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: task.apply_async(args=args, countdown=countdown))


def source_request_process(
    *,
    instance_id: int,
    request_id: str,
    body: str,
    headers: dict[str, str],
    query: str,
    attempt: int = 1,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> SourceRun | None:
    """Run `onRequest` for one webhook request and pass its events on; None if done before."""
    from functions_ui.deploys.tasks import source_request_run

    now = now or timezone.now()
    previous = SourceRun.objects.filter(request_id=request_id).first()
    if previous is not None and (
        previous.status != RunStatus.RETRYING or previous.attempts >= attempt
    ):
        return None
    instance = (
        SourceInstance.objects.select_related("version", "function").filter(pk=instance_id).first()
    )
    if instance is None or instance.version is None:
        return None
    result = _run(instance, "source", _request_payload(body, headers, query))
    status = STATUS_BY_RESULT.get(result.status, RunStatus.FAILED)
    fields = {
        "instance": instance,
        "version": instance.version,
        "category": "" if result.ok else result.category,
        "attempts": attempt,
        "error": result.error,
        "logs": [] if result.ok else result.logs,
        "duration_ms": result.duration_ms,
        "received_at": previous.received_at if previous else now,
    }
    next_at = None
    if status == RunStatus.RETRYING:
        next_at = source_policy().next_attempt_at(
            attempts=attempt, first_attempt_at=fields["received_at"], now=now, rng=rng
        )
        if next_at is None:
            status = RunStatus.FAILED
    fields.update(
        status=status,
        next_attempt_at=next_at,
        finished_at=None if next_at else now,
        event_count=len(result.events) if status == RunStatus.DELIVERED else 0,
    )
    try:
        with transaction.atomic():
            if previous is None:
                run = SourceRun.objects.create(request_id=request_id, **fields)
            else:
                updated = SourceRun.objects.filter(
                    pk=previous.pk, status=RunStatus.RETRYING, attempts=attempt - 1
                ).update(**fields)
                if not updated:
                    return None
                run = SourceRun.objects.get(pk=previous.pk)
            if status == RunStatus.RETRYING:
                _enqueue(
                    source_request_run,
                    (instance_id, request_id, body, headers, query, attempt + 1),
                    countdown=(next_at - now).total_seconds(),
                )
            elif status == RunStatus.DELIVERED:
                _events_store(run=run, instance=instance, events=result.events, now=now)
            else:
                _error_record(
                    source=instance,
                    category=result.category,
                    error=result.error,
                    logs=result.logs,
                    attempts=attempt,
                )
    except IntegrityError:
        # The same request ran at the same time elsewhere, and recorded first.
        return None
    return run


def _events_store(
    *, run: SourceRun, instance: SourceInstance, events: list[dict], now: datetime
) -> None:
    """Store emitted events in the source's log and queue them for every destination."""
    received = now.isoformat().replace("+00:00", "Z")
    rows = []
    for index, event in enumerate(events):
        payload = {"messageId": f"fn-{run.request_id}-{index}", "receivedAt": received, **event}
        rows.append(
            SourceEvent(
                instance=instance,
                run=run,
                index=index,
                type=str(event.get("type", ""))[:16],
                payload=payload,
                created_at=now,
            )
        )
    if not rows:
        return
    stored = SourceEvent.objects.bulk_create(rows)
    destinations = list(
        DestinationInstance.objects.filter(sources=instance, enabled=True).select_related(
            "version", "function"
        )
    )
    deliveries = Delivery.objects.bulk_create(
        Delivery(destination=destination, event=event, created_at=now)
        for destination in destinations
        for event in stored
    )
    from functions_ui.deploys.tasks import delivery_batch_flush, delivery_run

    batched = {d.pk for d in destinations if uses_batches(d)}
    for delivery in deliveries:
        if delivery.destination_id not in batched:
            _enqueue(delivery_run, (delivery.pk, 1))
    for destination_id in batched:
        waiting = Delivery.objects.filter(
            destination_id=destination_id, status=RunStatus.QUEUED, attempts=0
        ).count()
        if waiting >= settings.DELIVERY_BATCH_SIZE:
            _enqueue(delivery_batch_flush, (destination_id,))
        elif waiting <= len(stored):
            # The first events of a new batch: flush once its window has passed.
            _enqueue(
                delivery_batch_flush,
                (destination_id,),
                countdown=settings.DELIVERY_BATCH_WINDOW_SECONDS,
            )


# Deliveries ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str
    category: str = ""
    stage: str = ""
    error: dict[str, Any] | None = None
    logs: list = field(default_factory=list)
    duration_ms: float = 0.0


def _insert_step(insert: InsertInstance | None, event: dict) -> tuple[dict | None, Outcome | None]:
    """Run the insert function: the event to go on, or the outcome that ends the delivery."""
    if insert is None:
        return event, None
    result = _run(insert, "insert", event)
    if result.ok and isinstance(result.result, dict):
        return result.result, None
    if result.ok:
        result.status = "dropped"
    status = STATUS_BY_RESULT.get(result.status, RunStatus.FAILED)
    return None, Outcome(
        status=status,
        category=result.category,
        stage="insert",
        error=result.error,
        logs=result.logs,
        duration_ms=result.duration_ms,
    )


def _destination_step(destination: DestinationInstance, payload: Any) -> tuple[Outcome, Any]:
    function_type = "destination"
    result = _run(destination, function_type, payload)
    status = STATUS_BY_RESULT.get(result.status, RunStatus.FAILED)
    outcome = Outcome(
        status=status,
        category="" if result.ok else result.category,
        stage="" if result.ok else "destination",
        error=result.error,
        logs=[] if result.ok else result.logs,
        duration_ms=result.duration_ms,
    )
    return outcome, result.result


def _single_payload(destination: DestinationInstance, event: dict) -> Any:
    """A batch-only destination gets a retried or single event as a batch of one."""
    handlers = _handlers(destination.version.pk, destination.version.code)
    handler = {
        "track": "onTrack",
        "identify": "onIdentify",
        "page": "onPage",
        "screen": "onScreen",
        "group": "onGroup",
        "alias": "onAlias",
        "delete": "onDelete",
    }.get(str(event.get("type")))
    if "onBatch" in handlers and handler not in handlers:
        return [event]
    return event


def _enabled_insert(destination: DestinationInstance) -> InsertInstance | None:
    try:
        insert = destination.insert
    except InsertInstance.DoesNotExist:
        return None
    return insert if insert.enabled else None


def _claim(delivery_id: int, attempt: int, now: datetime) -> bool:
    first = Q(status__in=[RunStatus.QUEUED, RunStatus.RETRYING], attempts=attempt - 1)
    # A worker that died during this very attempt left it running: take it over.
    again = Q(status=RunStatus.RUNNING, attempts=attempt)
    claimed = Delivery.objects.filter(Q(pk=delivery_id) & (first | again)).update(
        status=RunStatus.RUNNING, attempts=attempt, last_attempt_at=now
    )
    return bool(claimed)


def delivery_process(
    *,
    delivery_id: int,
    attempt: int = 1,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> Delivery | None:
    """Run one event through the insert function and the destination; None if not due."""
    now = now or timezone.now()
    if not _claim(delivery_id, attempt, now):
        return None
    delivery = Delivery.objects.select_related(
        "event",
        "destination__version",
        "destination__function",
        "destination__insert__version",
        "destination__insert__function",
    ).get(pk=delivery_id)
    if delivery.first_attempt_at is None:
        delivery.first_attempt_at = now
    destination = delivery.destination
    insert = _enabled_insert(destination)
    event, outcome = _insert_step(insert, delivery.event.payload)
    if outcome is None:
        outcome, _ = _destination_step(destination, _single_payload(destination, event))
    _delivery_finish(delivery, outcome, attempt=attempt, now=now, rng=rng)
    return delivery


def _delivery_finish(
    delivery: Delivery,
    outcome: Outcome,
    *,
    attempt: int,
    now: datetime,
    rng: random.Random | None,
) -> None:
    from functions_ui.deploys.tasks import delivery_run

    status = outcome.status
    next_at = None
    if status == RunStatus.RETRYING:
        next_at = destination_policy().next_attempt_at(
            attempts=attempt, first_attempt_at=delivery.first_attempt_at, now=now, rng=rng
        )
        if next_at is None:
            status = RunStatus.FAILED
    delivery.status = status
    delivery.category = outcome.category
    delivery.stage = outcome.stage
    delivery.error = outcome.error
    delivery.logs = outcome.logs if status != RunStatus.DELIVERED else []
    delivery.duration_ms = outcome.duration_ms
    delivery.version_id = delivery.destination.version_id
    delivery.next_attempt_at = next_at
    delivery.finished_at = None if next_at else timezone.now()
    with transaction.atomic():
        updated = Delivery.objects.filter(
            pk=delivery.pk, status=RunStatus.RUNNING, attempts=attempt
        ).update(
            status=delivery.status,
            category=delivery.category,
            stage=delivery.stage,
            error=delivery.error,
            logs=delivery.logs,
            duration_ms=delivery.duration_ms,
            version_id=delivery.version_id,
            next_attempt_at=next_at,
            first_attempt_at=delivery.first_attempt_at,
            finished_at=delivery.finished_at,
        )
        if not updated:
            return
        if next_at is not None:
            _enqueue(delivery_run, (delivery.pk, attempt + 1), (next_at - now).total_seconds())
        elif status not in NOT_ERRORS:
            _error_record(
                destination=delivery.destination,
                category=outcome.category,
                error=outcome.error,
                logs=outcome.logs,
                stage=outcome.stage,
                event_type=delivery.event.type,
                attempts=attempt,
            )


def _batch_outcomes(outcome: Outcome, result: Any, count: int) -> list[Outcome]:
    """Per-event outcomes of an onBatch run, including Segment's partial-failure answer."""
    if outcome.status != RunStatus.DELIVERED or not isinstance(result, list):
        return [outcome] * count
    outcomes = []
    for item in result[:count]:
        code = item.get("status", 200) if isinstance(item, dict) else 200
        message = item.get("errormessage", "") if isinstance(item, dict) else ""
        if not isinstance(code, int) or code < 400:
            outcomes.append(Outcome(status=RunStatus.DELIVERED, duration_ms=outcome.duration_ms))
        elif code >= 500:
            outcomes.append(
                Outcome(
                    status=RunStatus.RETRYING,
                    category="Retry",
                    stage="destination",
                    error={"name": "BatchItemError", "message": message or f"status {code}"},
                )
            )
        else:
            outcomes.append(
                Outcome(
                    status=RunStatus.REJECTED,
                    category="Message Rejected",
                    stage="destination",
                    error={"name": "BatchItemError", "message": message or f"status {code}"},
                )
            )
    outcomes += [Outcome(status=RunStatus.DELIVERED)] * (count - len(outcomes))
    return outcomes


def _batch_reclaim(*, destination_id: int, now: datetime) -> int:
    """Queue again the events of a batch whose worker died before finishing it.

    The flush task is acknowledged late, so a killed worker's task comes back; the events it
    had claimed are still "running" and would otherwise stay so for good.
    """
    stale_before = now - timedelta(seconds=settings.DELIVERY_BATCH_STALE_SECONDS)
    return (
        Delivery.objects.filter(
            destination_id=destination_id,
            status=RunStatus.RUNNING,
            attempts=1,
            last_attempt_at__lt=stale_before,
        )
        .exclude(batch_key="")
        .update(status=RunStatus.QUEUED, attempts=0, batch_key="")
    )


def delivery_batch_process(
    *, destination_id: int, now: datetime | None = None, rng: random.Random | None = None
) -> int:
    """Send up to DELIVERY_BATCH_SIZE waiting events to the destination's onBatch at once."""
    from functions_ui.deploys.tasks import delivery_batch_flush

    now = now or timezone.now()
    _batch_reclaim(destination_id=destination_id, now=now)
    waiting = Delivery.objects.filter(
        destination_id=destination_id, status=RunStatus.QUEUED, attempts=0
    )
    ids = list(waiting.order_by("id").values_list("pk", flat=True)[: settings.DELIVERY_BATCH_SIZE])
    if not ids:
        return 0
    key = uuid.uuid4().hex
    waiting.filter(pk__in=ids).update(
        status=RunStatus.RUNNING, attempts=1, batch_key=key, last_attempt_at=now
    )
    batch = list(
        Delivery.objects.filter(batch_key=key)
        .select_related("event", "destination__version", "destination__function")
        .order_by("id")
    )
    if not batch:
        return 0
    destination = batch[0].destination
    insert = (
        InsertInstance.objects.filter(destination=destination, enabled=True)
        .select_related("version", "function")
        .first()
    )
    going, outcomes = [], {}
    for delivery in batch:
        delivery.first_attempt_at = now
        event, stopped = _insert_step(insert, delivery.event.payload)
        if stopped is None:
            going.append((delivery, event))
        else:
            outcomes[delivery.pk] = stopped
    if going:
        outcome, result = _destination_step(destination, [event for _, event in going])
        for (delivery, _), each in zip(
            going, _batch_outcomes(outcome, result, len(going)), strict=True
        ):
            outcomes[delivery.pk] = each
    for delivery in batch:
        _delivery_finish(delivery, outcomes[delivery.pk], attempt=1, now=now, rng=rng)
    if waiting.exists():
        _enqueue(delivery_batch_flush, (destination_id,))
    return len(batch)


# Retention -----------------------------------------------------------------------------------


def delivery_records_trim(*, now: datetime | None = None) -> int:
    """Delete webhook runs (with their events and deliveries) older than the retention period.

    A run is kept while any of its deliveries may still happen (queued, running, retrying),
    however old it is. Returns how many runs went.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DELIVERY_RETENTION_DAYS)
    pending = Delivery.objects.exclude(status__in=FINAL_RUN_STATUSES).values("event__run_id")
    old_runs = SourceRun.objects.filter(received_at__lt=cutoff).exclude(pk__in=pending)
    deleted = 0
    # In slices, so that one sweep never holds a long write lock.
    while ids := list(old_runs.values_list("pk", flat=True)[:500]):
        SourceRun.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted
