"""Delivery stage: run a batch of due deliveries (of one or several workspaces) through insert and
destination.

A drain claims up to PIPELINE_DELIVERY_BATCH queued or retrying deliveries of each of its
workspaces. Each event goes through its destination's enabled insert function (which may change
or drop it), then the destination's handler; first attempts to a destination that defines
`onBatch` go to it together, up to DELIVERY_BATCH_SIZE at a time. The events of all the batch's
destinations share runtime round trips (runs.run_instances_many; one per workspace, each in its
workspace's runtime), each run still on its own. Outcomes are recorded every
PIPELINE_COMMIT_EVERY events, in one transaction each, so a worker that dies repeats at most that
many deliveries (at least once: the repeat carries the same messageId).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from functions_ui.deploys import canaries, claims, metrics, runs
from functions_ui.deploys.errors import error_row, errors_store
from functions_ui.deploys.models import (
    Canary,
    Delivery,
    DestinationInstance,
    InsertInstance,
    RunStatus,
)
from functions_ui.deploys.retry import destination_policy
from functions_ui.runtime.api import MANY_MAX_RUNS as RUNS_PER_CALL
from functions_ui.runtime.masking import secret_masker
from functions_ui.runtime.types import STATUS_LABELS, RunResult
from versioning.models import Version

DELIVERY_FIELDS = (
    "status",
    "category",
    "stage",
    "error",
    "logs",
    "fetches",
    "insert_output",
    "attempt_log",
    "duration_ms",
    "version",
    "attempts",
    "available_at",
    "next_attempt_at",
    "first_attempt_at",
    "finished_at",
    "claim",
    "lease_until",
)
# Outcomes are written at least this often while a long batch runs.
COMMIT_INTERVAL_S = 0.2
# Console lines a delivery keeps of its last attempt.
LOG_LINES_KEPT = 50


@dataclass
class Outcome:
    status: str
    category: str = ""
    stage: str = ""
    error: dict[str, Any] | None = None
    logs: list = field(default_factory=list)
    duration_ms: float = 0.0
    fetches: list = field(default_factory=list)
    # The event as the insert function returned it, masked (None: no insert passed it on).
    insert_output: Any = None
    # The version that ran (a canary's, or None for the destination's own).
    version_id: str | None = None


class _Batch:
    """One drain's claimed deliveries and the outcomes not written yet."""

    def __init__(self, key: str, now: datetime, rng: random.Random | None) -> None:
        self.key = key
        self.now = now
        self.rng = rng
        self.pending: list[tuple[Delivery, Outcome]] = []
        self.started = self.written_at = time.monotonic()
        self.lease = claims.Lease(Delivery, key, clock=self.clock)
        self.decrypted: dict[tuple[str, int], tuple] = {}
        # Running canaries of the batch's instances, and the runs to count on them.
        self.canaries: dict[str, Canary] = {}
        self.canary_ran: list[tuple[Canary, bool, str, float]] = []

    def clock(self) -> datetime:
        """The drain's clock, moved on by the time the batch has taken so far."""
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def settings_of(self, instance) -> tuple:
        key = (type(instance).__name__, instance.pk)
        if key not in self.decrypted:
            self.decrypted[key] = runs.instance_settings(instance)
        return self.decrypted[key]

    def shown(self, insert: InsertInstance | None, event: dict) -> dict | None:
        """The insert function's output as the debugger may show it (its secrets masked)."""
        if insert is None or insert.version is None:
            return None
        masker = secret_masker(self.settings_of(insert)[1])
        return masker(event) if masker else event

    def done(self, delivery: Delivery, outcome: Outcome) -> None:
        self.pending.append((delivery, outcome))
        due = time.monotonic() - self.written_at > COMMIT_INTERVAL_S
        if len(self.pending) >= settings.PIPELINE_COMMIT_EVERY or due:
            self.write()

    def write(self) -> None:
        if self.pending:
            _record(
                self.key, self.pending, now=self.clock(), rng=self.rng, canary_ran=self.canary_ran
            )
            self.canary_ran = []
            self.lease.keep()
        self.pending = []
        self.written_at = time.monotonic()


def deliveries_drain(
    *, workspace_id: int, now: datetime | None = None, rng: random.Random | None = None
) -> int:
    """Deliver one batch of the workspace's due deliveries; returns how many were claimed."""
    claimed = deliveries_drain_many(workspace_ids=[workspace_id], now=now, rng=rng)
    return claimed.get(workspace_id, 0)


def deliveries_drain_many(
    *,
    workspace_ids: list[int],
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> dict[int, int]:
    """Deliver one batch of the workspaces' due deliveries, up to PIPELINE_DELIVERY_BATCH of
    every workspace; how many each had claimed."""
    now = now or timezone.now()
    due = Delivery.objects.filter(
        status__in=[RunStatus.QUEUED, RunStatus.RETRYING], claim="", available_at__lte=now
    )
    key, by_workspace = claims.claim_each(
        due,
        "workspace_id",
        workspace_ids,
        each=settings.PIPELINE_DELIVERY_BATCH,
        now=now,
        status=RunStatus.RUNNING,
        last_attempt_at=now,
    )
    if not by_workspace:
        return {}
    ids = [pk for claimed in by_workspace.values() for pk in claimed]
    rows = list(Delivery.objects.filter(pk__in=ids).select_related("event").order_by("id"))
    # A batch has few destinations: load each once, not once per delivery with its code.
    destinations = canaries.flag_running(
        DestinationInstance.objects.select_related("version", "function")
    ).in_bulk({d.destination_id for d in rows})
    for delivery in rows:
        delivery.destination = destinations[delivery.destination_id]
    deliver_claimed(key=key, rows=rows, now=now, rng=rng)
    return {workspace_id: len(claimed) for workspace_id, claimed in by_workspace.items()}


def deliver_claimed(
    *, key: str, rows: list[Delivery], now: datetime, rng: random.Random | None = None
) -> None:
    """Deliver deliveries this worker holds under `key` (their event and destination loaded)."""
    inserts = {
        i.destination_id: i
        for i in canaries.flag_running(
            InsertInstance.objects.select_related("version", "function")
        ).filter(destination_id__in={d.destination_id for d in rows}, enabled=True)
    }
    batch = _Batch(key, now, rng)
    batch.canaries = canaries.running_for(
        [*{d.destination_id: d.destination for d in rows}.values(), *inserts.values()]
    )
    grouped: dict[int, list[Delivery]] = {}
    singles: dict[int, list[Delivery]] = {}
    for delivery in rows:
        if delivery.first_attempt_at is None:
            delivery.first_attempt_at = now
        if delivery.attempts == 0 and runs.uses_batches(delivery.destination):
            grouped.setdefault(delivery.destination_id, []).append(delivery)
        else:
            singles.setdefault(delivery.destination_id, []).append(delivery)
    left = {destination_id: list(group) for destination_id, group in singles.items()}
    while left:
        # A round: a chunk of each destination's deliveries, all of them sharing runtime round
        # trips. A worker that dies repeats at most PIPELINE_COMMIT_EVERY deliveries: a round is
        # no larger than the room left before the next write of outcomes.
        room = max(1, settings.PIPELINE_COMMIT_EVERY - len(batch.pending))
        # An unknown or slow destination has a round of its own, so the outcomes of the others
        # never wait for its runs.
        round_: list[tuple[int, list[Delivery]]] = []
        for destination_id in list(left):
            alone = not _shares_rounds(destination_id)
            if room <= 0 or (alone and round_):
                continue
            group = left[destination_id]
            chunk = group[: max(1, min(room, _chunk_size(destination_id)))]
            round_.append((destination_id, chunk))
            room -= len(chunk)
            if len(chunk) == len(group):
                del left[destination_id]
            else:
                left[destination_id] = group[len(chunk) :]
            if alone:
                break
        # A workspace's destinations run right after its inserts, while its runtime process is
        # still warm from them (a process woken after others ran costs several times more CPU).
        by_workspace: dict[int, list[tuple[int, list[Delivery]]]] = {}
        for destination_id, chunk in round_:
            by_workspace.setdefault(chunk[0].workspace_id, []).append((destination_id, chunk))
        for part in by_workspace.values():
            took = _deliver_each(batch, [(chunk, inserts.get(d)) for d, chunk in part])
            for (destination_id, chunk), seconds in zip(part, took, strict=True):
                _seconds_per_event[destination_id] = seconds / len(chunk)
    size = settings.DELIVERY_BATCH_SIZE
    for destination_id, group in grouped.items():
        for start in range(0, len(group), size):
            _deliver_batch(batch, group[start : start + size], inserts.get(destination_id))
    batch.write()


# How long the last events of each destination took in this process (its destination runs).
_seconds_per_event: dict[int, float] = {}


def _chunk_size(destination_id: int) -> int:
    """How many events of a destination share runtime round trips before their outcomes are
    written: as many as its recent events took COMMIT_INTERVAL_S to run (at most
    RUNS_PER_CALL), so that a slow destination's outcomes show as soon as before, one by one.
    An unknown destination starts with one event."""
    if len(_seconds_per_event) > 10_000:
        _seconds_per_event.clear()
    seconds = _seconds_per_event.get(destination_id)
    if seconds is None:
        return 1
    return max(1, min(RUNS_PER_CALL, int(COMMIT_INTERVAL_S / max(seconds, 1e-6))))


def _shares_rounds(destination_id: int) -> bool:
    """Whether a destination's events may share round trips with other destinations': it is
    known in this process and fast (a whole round trip of its runs fits the commit interval)."""
    seconds = _seconds_per_event.get(destination_id)
    return seconds is not None and seconds * RUNS_PER_CALL <= COMMIT_INTERVAL_S


def _key(event: dict) -> str:
    """What picks an event's side of a canary: its messageId (a retry keeps its side)."""
    return str(event.get("messageId") or "")


def _by_version(versions: list[Version | None]) -> dict[str, list[int]]:
    """Positions of the runs by the version that runs them ("" for the instance's own)."""
    groups: dict[str, list[int]] = {}
    for index, version in enumerate(versions):
        groups.setdefault(version.pk if version is not None else "", []).append(index)
    return groups


@dataclass
class _Sides:
    """An instance's runs over some payloads, each on its canary side (by its key)."""

    instance: DestinationInstance | InsertInstance
    function_type: str
    payloads: list[Any]
    keys: list[str]
    mask_result: bool = True


def _run_sides(
    batch: _Batch, asked: list[_Sides]
) -> list[tuple[list[RunResult], list[Version | None], Canary | None]]:
    """Run each instance on its payloads (each on its canary side): all of them sharing runtime
    round trips (up to MANY_MAX_RUNS payloads each, whichever instance and version they are
    of). For each: the results, the versions that ran (None: the instance's own), and the
    instance's running canary."""
    items: list[runs.InstanceRuns] = []
    placed: list[tuple[int, list[int]]] = []
    sides = []
    for position, one in enumerate(asked):
        canary = batch.canaries.get(one.instance.public_id)
        versions = [canaries.version_for(canary, key) for key in one.keys]
        sides.append((versions, canary))
        for indexes in _by_version(versions).values():
            items.append(
                runs.InstanceRuns(
                    one.instance,
                    one.function_type,
                    [one.payloads[i] for i in indexes],
                    settings=batch.settings_of(one.instance),
                    mask_result=one.mask_result,
                    version=versions[indexes[0]],
                )
            )
            placed.append((position, indexes))
    ran = runs.run_instances_many(items, between=batch.lease.keep)
    results: list[list[RunResult | None]] = [[None] * len(one.payloads) for one in asked]
    for (position, indexes), item_results in zip(placed, ran, strict=True):
        for index, result in zip(indexes, item_results, strict=True):
            results[position][index] = result
    return [
        ([r for r in found if r is not None], versions, canary)
        for found, (versions, canary) in zip(results, sides, strict=True)
    ]


def _insert_steps(
    batch: _Batch, asked: list[tuple[InsertInstance | None, list[dict]]]
) -> list[list[tuple[dict | None, Outcome | None]]]:
    """Run each insert function on its events (all sharing round trips): for each event, the
    event to go on, or the outcome that ends its delivery."""
    running = [
        (position, insert, events)
        for position, (insert, events) in enumerate(asked)
        if insert is not None and insert.version is not None and events
    ]
    steps: list[list[tuple[dict | None, Outcome | None]]] = [
        [(event, None) for event in events] for _, events in asked
    ]
    ran = _run_sides(
        batch,
        [
            _Sides(insert, "insert", events, [_key(e) for e in events], mask_result=False)
            for _, insert, events in running
        ],
    )
    for (position, _, _), (results, versions, canary) in zip(running, ran, strict=True):
        steps[position] = []
        for result, version in zip(results, versions, strict=True):
            if canary is not None:
                counted = (
                    RunStatus.DELIVERED
                    if result.ok or result.status == "dropped"
                    else runs.STATUS_BY_RESULT.get(result.status, RunStatus.FAILED)
                )
                batch.canary_ran.append((canary, version is not None, counted, result.duration_ms))
            steps[position].append(_insert_outcome(result))
    return steps


def _insert_outcome(result: RunResult) -> tuple[dict | None, Outcome | None]:
    if result.ok and isinstance(result.result, dict):
        return result.result, None
    if result.ok:
        # Returning nothing drops the event, as a DropEvent does.
        return None, Outcome(
            status=RunStatus.FILTERED,
            category=STATUS_LABELS["dropped"],
            stage="insert",
            duration_ms=result.duration_ms,
        )
    return None, Outcome(
        status=runs.STATUS_BY_RESULT.get(result.status, RunStatus.FAILED),
        category=result.category,
        stage="insert",
        error=result.error,
        logs=result.logs,
        duration_ms=result.duration_ms,
    )


def _destination_steps(
    batch: _Batch, asked: list[tuple[list[Delivery], list[Any]]]
) -> list[list[tuple[Outcome, Any]]]:
    """Run each group's destination (one for all of a group's deliveries) on its payloads, all
    sharing round trips: for each payload, its outcome and what its handler returned."""
    running = [(position, d, p) for position, (d, p) in enumerate(asked) if d]
    ran = _run_sides(
        batch,
        [
            _Sides(d[0].destination, "destination", p, [_key(x.event.payload) for x in d])
            for _, d, p in running
        ],
    )
    steps: list[list[tuple[Outcome, Any]]] = [[] for _ in asked]
    for (position, _, _), (results, versions, canary) in zip(running, ran, strict=True):
        for result, version in zip(results, versions, strict=True):
            outcome = Outcome(
                status=runs.STATUS_BY_RESULT.get(result.status, RunStatus.FAILED),
                category="" if result.ok else result.category,
                stage="" if result.ok else "destination",
                error=result.error,
                logs=result.logs,
                fetches=result.fetches,
                duration_ms=result.duration_ms,
                version_id=version.pk if version else None,
            )
            if canary is not None:
                batch.canary_ran.append(
                    (canary, version is not None, outcome.status, result.duration_ms)
                )
            steps[position].append((outcome, result.result))
    return steps


def _through_insert(
    batch: _Batch, groups: list[tuple[list[Delivery], InsertInstance | None]]
) -> list[list[tuple[Delivery, dict]]]:
    """Run each group's insert function over it: for each group, the deliveries it passes on,
    with their events (those it drops or fails are done here)."""
    steps = _insert_steps(
        batch, [(insert, [d.event.payload for d in group]) for group, insert in groups]
    )
    passed = []
    for (group, _), group_steps in zip(groups, steps, strict=True):
        going: list[tuple[Delivery, dict]] = []
        for delivery, (event, stopped) in zip(group, group_steps, strict=True):
            if stopped is None:
                assert event is not None  # the insert passed the event on
                going.append((delivery, event))
            else:
                batch.done(delivery, stopped)
        passed.append(going)
    return passed


def _deliver_each(
    batch: _Batch, groups: list[tuple[list[Delivery], InsertInstance | None]]
) -> list[float]:
    """Deliver events one destination run each (the deliveries of a group share their
    destination; the groups share runtime round trips): how long each group's destination
    runs took, in seconds."""
    passed = _through_insert(batch, groups)
    asked = [
        (
            [delivery for delivery, _ in going],
            [runs.single_payload(delivery.destination, event) for delivery, event in going],
        )
        for going in passed
    ]
    took = []
    for (_, insert), going, steps in zip(
        groups, passed, _destination_steps(batch, asked), strict=True
    ):
        for (delivery, event), (outcome, _) in zip(going, steps, strict=True):
            outcome.insert_output = batch.shown(insert, event)
            batch.done(delivery, outcome)
        took.append(sum(outcome.duration_ms for outcome, _ in steps) / 1000)
    return took


def _deliver_batch(batch: _Batch, group: list[Delivery], insert: InsertInstance | None) -> None:
    """Deliver events to an onBatch destination, in one run."""
    [going] = _through_insert(batch, [(group, insert)])
    if not going:
        return
    [[(outcome, result)]] = _destination_steps(
        batch, [([going[0][0]], [[event for _, event in going]])]
    )
    for (delivery, event), each in zip(
        going, _batch_outcomes(outcome, result, len(going)), strict=True
    ):
        each.insert_output = batch.shown(insert, event)
        batch.done(delivery, each)


def _batch_outcomes(outcome: Outcome, result: Any, count: int) -> list[Outcome]:
    """Per-event outcomes of an onBatch run, including Segment's partial-failure answer."""
    if outcome.status != RunStatus.DELIVERED or not isinstance(result, list):
        return [replace(outcome) for _ in range(count)]
    outcomes = []
    for item in result[:count]:
        code = item.get("status", 200) if isinstance(item, dict) else 200
        message = item.get("errormessage", "") if isinstance(item, dict) else ""
        if not isinstance(code, int) or code < 400:
            outcomes.append(Outcome(status=RunStatus.DELIVERED, duration_ms=outcome.duration_ms))
            continue
        retry = code >= 500
        outcomes.append(
            Outcome(
                status=RunStatus.RETRYING if retry else RunStatus.REJECTED,
                category="Retry" if retry else "Message Rejected",
                stage="destination",
                error={"name": "BatchItemError", "message": message or f"status {code}"},
            )
        )
    outcomes += [Outcome(status=RunStatus.DELIVERED) for _ in range(count - len(outcomes))]
    for each in outcomes:
        each.version_id = outcome.version_id
    return outcomes


@transaction.atomic
def _record(
    key: str,
    done: list[tuple[Delivery, Outcome]],
    *,
    now: datetime,
    rng: random.Random | None,
    canary_ran: list[tuple[Canary, bool, str, float]] | None = None,
) -> None:
    """Write outcomes the claim still holds; schedule retries; keep final errors; count the
    runs of canaries."""
    claims.relaxed_commit()
    owned = claims.still_claimed(Delivery, key, [d.pk for d, _ in done])
    changed = []
    errors = []
    for delivery, outcome in done:
        if delivery.pk not in owned:
            continue
        attempt = delivery.attempts + 1
        status, next_at = runs.next_try(
            outcome.status,
            policy=destination_policy(),
            attempts=attempt,
            first_attempt_at=delivery.first_attempt_at or now,
            now=now,
            rng=rng,
        )
        delivery.status = status
        delivery.category = outcome.category
        delivery.stage = outcome.stage
        delivery.error = outcome.error
        delivery.logs = outcome.logs[:LOG_LINES_KEPT]
        delivery.fetches = outcome.fetches
        delivery.insert_output = outcome.insert_output
        delivery.attempt_log = [
            *delivery.attempt_log,
            {
                "at": now.isoformat(),
                "status": status,
                "duration_ms": round(outcome.duration_ms, 3),
                "error": str((outcome.error or {}).get("message", ""))[:200],
                "stage": outcome.stage,
            },
        ]
        delivery.duration_ms = outcome.duration_ms
        delivery.version_id = outcome.version_id or delivery.destination.version_id
        delivery.attempts = attempt
        delivery.next_attempt_at = next_at
        delivery.available_at = next_at or delivery.available_at
        delivery.finished_at = None if next_at else now
        delivery.claim = ""
        delivery.lease_until = None
        changed.append(delivery)
        if next_at is None and status not in runs.NOT_ERRORS:
            errors.append(
                error_row(
                    destination=delivery.destination,
                    category=outcome.category,
                    error=outcome.error,
                    logs=outcome.logs,
                    stage=outcome.stage,
                    event_type=delivery.event.type,
                    attempts=attempt,
                )
            )
    claims.update_claimed(Delivery, key, changed, DELIVERY_FIELDS)
    errors_store(errors)
    canaries.count(canary_ran or [])
    metrics.record(
        metrics.Outcome(
            function_id=d.destination.function_id,
            instance_id=d.destination.public_id,
            status=d.status,
            duration_ms=d.duration_ms,
            at=now,
        )
        for d in changed
    )
