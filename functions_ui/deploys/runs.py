"""Runs of an instance's deployed code: the step every stage of the pipeline shares.

A run never raises: whatever goes wrong outside the user's code (the runtime is busy, a value
cannot be decrypted, a reply cannot be read) becomes a result with a category, so the caller
records an outcome instead of leaving work half done.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.views.decorators.debug import sensitive_variables

from catalog.secrets import decrypt_value, secret_strings
from functions_ui.deploys.models import DestinationInstance, InstanceBase, RunStatus
from functions_ui.deploys.retry import RetryPolicy
from functions_ui.runtime import Job, RunOptions, RunResult, run_jobs
from functions_ui.runtime.api import declared_handlers

if TYPE_CHECKING:
    from versioning.models import Version

from functions_ui.runtime.types import (
    BATCH_HANDLER,
    HANDLER_BY_EVENT_TYPE,
    RuntimeUnavailable,
    error_result,
)

log = logging.getLogger(__name__)

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
def instance_settings(instance: InstanceBase) -> tuple[dict[str, Any], list[str]]:
    """The settings a run gets, and the plaintext strings its output must never show."""
    values = dict(instance.setting_values)
    hidden: list[str] = []
    for name, token in instance.secret_values.items():
        value = decrypt_value(token)
        values[name] = value
        hidden.extend(secret_strings(value))
    return values, hidden


@dataclass
class InstanceRuns:
    """An instance's runs to make: its deployed version (or `version`, a canary's) on each
    payload. Settings may be decrypted already."""

    instance: InstanceBase
    function_type: str
    payloads: list[Any]
    settings: tuple[dict[str, Any], list[str]] | None = None
    mask_result: bool = True
    version: Version | None = None


@sensitive_variables(
    "items", "item", "jobs", "values", "hidden", "options", "ran", "results", "job_results"
)
def run_instances_many(
    items: list[InstanceRuns], *, between: Callable[[], None] | None = None
) -> list[list[RunResult]]:
    """Run several instances, each on its payloads: each item's results, in order.

    The items of one workspace share round trips to its runtime (a drain over many instances
    with an event or two each pays one round trip per batch, not one per instance); those of
    another workspace go to that workspace's runtime, never the same one.

    It never raises: a failure outside the user's code becomes every payload's result (of its
    item, when it is that item's settings; of its workspace's items, when it is the runtime's).
    """
    results: list[list[RunResult] | None] = [None] * len(items)
    # (workspace, memory limit) -> the jobs that share its runtime, and their items' positions
    tenants: dict[tuple[str | None, int | None], tuple[list[Job], list[int]]] = {}
    for position, item in enumerate(items):
        if not item.payloads:
            results[position] = []
            continue
        try:
            values, hidden = item.settings or instance_settings(item.instance)
            version = item.version or item.instance.version
            assert version is not None  # an instance runs a version from its creation on
            options = _options(item.instance, version, hidden, item.mask_result)
        except Exception as error:  # noqa: BLE001 - any failure must end in a recorded outcome
            failed = _failure(item.instance, error)
            results[position] = [replace(failed) for _ in item.payloads]
            continue
        jobs, placed = tenants.setdefault((options.workspace, options.memory_mb), ([], []))
        jobs.append(Job(version.code, item.function_type, item.payloads, values, options))
        placed.append(position)
    for jobs, placed in tenants.values():
        try:
            ran = run_jobs(jobs, between=between)
        except Exception as error:  # noqa: BLE001 - any failure must end in a recorded outcome
            for position in placed:
                failed = _failure(items[position].instance, error)
                results[position] = [replace(failed) for _ in items[position].payloads]
        else:
            for position, job_results in zip(placed, ran, strict=True):
                results[position] = job_results
    return [r if r is not None else [] for r in results]


def _options(
    instance: InstanceBase, version: Version, hidden: list[str], mask_result: bool
) -> RunOptions:
    return RunOptions(
        cache_namespace=f"{instance.public_id}:{version.pk}",
        secret_values=hidden,
        workspace=str(instance.function.workspace_id),
        function_key=instance.function.public_id,
        mask_result=mask_result,
    )


def _failure(instance: InstanceBase, error: Exception) -> RunResult:
    """The result of a run that failed outside the user's code."""
    if isinstance(error, RuntimeUnavailable):
        return error_result("retry", "RuntimeUnavailable", f"The runtime is busy: {error}")
    log.error("run of %s failed outside the function", instance.public_id, exc_info=error)
    return error_result(
        "bad_request",
        "InternalError",
        f"The function could not be run ({type(error).__name__}); see the server log.",
    )


@lru_cache(maxsize=512)
def _handlers(version_id: str, code: str) -> frozenset[str]:
    return frozenset(declared_handlers(code))


def uses_batches(instance: DestinationInstance) -> bool:
    """Whether the destination's version defines onBatch, so its events go in batches."""
    version = instance.version
    return version is not None and BATCH_HANDLER in _handlers(version.pk, version.code)


def single_payload(destination: DestinationInstance, event: dict) -> Any:
    """A batch-only destination gets a retried or single event as a batch of one."""
    version = destination.version
    assert version is not None  # an instance runs a version from its creation on
    handlers = _handlers(version.pk, version.code)
    handler = HANDLER_BY_EVENT_TYPE.get(str(event.get("type")))
    if BATCH_HANDLER in handlers and handler not in handlers:
        return [event]
    return event


def next_try(
    status: str,
    *,
    policy: RetryPolicy,
    attempts: int,
    first_attempt_at: datetime,
    now: datetime,
    rng: random.Random | None,
) -> tuple[str, datetime | None]:
    """A retrying outcome's next attempt, or a final failure once the policy gives up."""
    if status != RunStatus.RETRYING:
        return status, None
    next_at = policy.next_attempt_at(
        attempts=attempts, first_attempt_at=first_attempt_at, now=now, rng=rng
    )
    return (status, next_at) if next_at is not None else (RunStatus.FAILED, None)
