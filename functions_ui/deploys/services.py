"""Writes about deploys: deploy a version to a function's instances, check it, roll back.

A deploy is a row and a Celery task. The task claims the row, checks the version in the
runtime and then, in one transaction, switches the chosen instances to the version and
moves the DEPLOYED label, so a failed or interrupted deploy leaves every instance where it
was. Deploys of one function run in the order they were made.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.kinds import kind_of
from catalog.models import Function
from functions_ui.audit.context import VIA_SYSTEM, audit_context, audit_via
from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
from functions_ui.deploys.instances import acting_user
from functions_ui.deploys.models import (
    ACTIVE_DEPLOY_STATUSES,
    Deploy,
    DeployStatus,
    InstanceBase,
)
from functions_ui.runtime import RuntimeUnavailable, check_code
from versioning.models import Version
from versioning.selectors import deployed_version, latest_version
from versioning.services import version_mark_deployed, version_save


class TransientDeployError(Exception):
    """Worth trying again later: the runtime or the database was briefly unavailable."""


class DeployWaiting(TransientDeployError):
    """An earlier deploy of the same function has not finished yet."""


# Deploys ------------------------------------------------------------------------------------


def _instances_of(function: Function) -> QuerySet[InstanceBase]:
    return kind_of(function.resource_type).instance_model.objects.filter(function=function)


@transaction.atomic
def deploy_start(
    *,
    function: Function,
    version: Version,
    user: User | None,
    instance_ids: list[str] | None = None,
    message: str = "",
) -> Deploy:
    """Queue a deploy of `version` to all instances (None) or the chosen ones.

    The task is enqueued once the transaction commits. An older version than the deployed
    one makes the deploy a rollback, which is allowed.
    """
    if version.function_id != function.pk:
        raise ValidationError({"version": "Choose a version of this function."})
    instances = _instances_of(function)
    if instance_ids is not None:
        chosen = list(instances.filter(public_id__in=instance_ids))
        if len(chosen) != len(set(instance_ids)):
            raise ValidationError({"instances": "Choose instances of this function."})
        if not chosen and instances.exists():
            raise ValidationError({"instances": "Choose at least one instance."})
    else:
        chosen = list(instances)
    current = deployed_version(function=function)
    user = acting_user(user)
    deploy = Deploy.objects.create(
        function=function,
        version=version,
        target_all=instance_ids is None,
        is_rollback=current is not None and version.number < current.number,
        message=message.strip()[:500],
        requested_by=user,
        requested_by_name=user.get_username() if user is not None else "",
        requested_via=audit_context().via,
        requested_token_label=audit_context().token_label,
    )
    getattr(deploy, kind_of(function.resource_type).deploy_targets).set(chosen)
    # Imported here: tasks import this module. With the broker down the deploy stays queued
    # (committed), and the pipeline's sweep sends it once the broker is back.
    from functions_ui.deploys.tasks import deploy_enqueue

    transaction.on_commit(lambda: deploy_enqueue(deploy.pk))
    return deploy


@transaction.atomic
def save_and_deploy(
    *,
    function: Function,
    user: User | None,
    code: str,
    base_version_id: str | None,
    note: str = "",
    instance_ids: list[str] | None = None,
) -> tuple[Version, Deploy]:
    """Save the code as a new version (unless unchanged), then deploy it.

    Both happen in one transaction: a deploy that cannot start (say, a stale save or an
    instance of another function) leaves no half-done save behind.
    """
    saved = version_save(
        function=function, user=user, code=code, base_version_id=base_version_id, note=note
    )
    version = saved or latest_version(function=function)
    assert version is not None  # a function always has its version 1
    deploy = deploy_start(function=function, version=version, user=user, instance_ids=instance_ids)
    return version, deploy


def _own_webhook_hosts() -> list[str]:
    hosts = {h.lstrip(".").lower() for h in settings.ALLOWED_HOSTS if h not in ("*", "")}
    base = settings.DEPLOYS_WEBHOOK_BASE_URL
    if base:
        hosts.add((urlparse(base).hostname or "").lower())
    return sorted(h for h in hosts if h)


def deploy_check(*, version: Version) -> list[dict[str, Any]]:
    """What stops a version from running: syntax, handlers, calls back to our webhooks.

    Raises TransientDeployError when the runtime cannot be reached.
    """
    function_type = version.function.type_slug
    try:
        problems = [
            p.to_dict()
            for p in check_code(
                code=version.code,
                function_type=function_type,
                workspace=str(version.function.workspace_id),
            )
        ]
    except RuntimeUnavailable as error:
        raise TransientDeployError(str(error)) from error
    hosts = _own_webhook_hosts()
    if hosts:
        pattern = re.compile(
            r"(?:https?:)?//(?:" + "|".join(re.escape(h) for h in hosts) + r")(?::\d+)?/hooks/",
            re.IGNORECASE,
        )
        match = pattern.search(version.code)
        if match:
            problems.append(
                {
                    "kind": "forbidden",
                    "message": "Functions are unable to send data or events back to their "
                    "originating source (this dashboard's webhook URLs)",
                    "line": version.code.count("\n", 0, match.start()) + 1,
                    "column": None,
                }
            )
    return problems


def _problem_text(problem: dict[str, Any]) -> str:
    where = f"line {problem['line']}: " if problem.get("line") else ""
    return where + str(problem["message"])


def _hold_for_earlier(deploy: Deploy, now: datetime) -> None:
    """Raise DeployWaiting while an earlier deploy of the function is unfinished.

    One that has been queued or running for longer than DEPLOYS_STALE_SECONDS is marked
    failed instead, so that a lost task cannot hold its function's deploys back for ever.
    """
    earlier = Deploy.objects.filter(
        function_id=deploy.function_id, pk__lt=deploy.pk, status__in=ACTIVE_DEPLOY_STATUSES
    )
    stale_before = now - timedelta(seconds=settings.DEPLOYS_STALE_SECONDS)
    abandoned = "Abandoned: it did not finish in time, so later deploys went ahead."
    for stale in earlier.filter(created_at__lt=stale_before).select_related("function", "version"):
        if Deploy.objects.filter(pk=stale.pk, status__in=ACTIVE_DEPLOY_STATUSES).update(
            status=DeployStatus.FAILED, finished_at=now, message=abandoned
        ):
            _audit_failure(stale, abandoned)
    if earlier.exists():
        raise DeployWaiting(f"Waiting for an earlier deploy of {deploy.function_id}.")


def deploy_execute(*, deploy_id: int) -> Deploy | None:
    """Run a queued deploy once; a deploy already finished is left as it is.

    A redelivered task (say, after its worker was killed) finds its deploy still running and
    carries it through; the switch commits only while the deploy is still running, so it
    happens once however often the task runs.
    """
    deploy = (
        Deploy.objects.select_related("function", "version__function").filter(pk=deploy_id).first()
    )
    if deploy is None or not deploy.is_active:
        return deploy
    now = timezone.now()
    _hold_for_earlier(deploy, now)
    Deploy.objects.filter(pk=deploy.pk, status__in=ACTIVE_DEPLOY_STATUSES).update(
        status=DeployStatus.RUNNING,
        started_at=Coalesce(F("started_at"), now),
        attempts=F("attempts") + 1,
    )
    problems = deploy_check(version=deploy.version)
    if problems:
        message = "The code cannot run: " + "; ".join(_problem_text(p) for p in problems)
        failed = Deploy.objects.filter(pk=deploy.pk, status=DeployStatus.RUNNING).update(
            status=DeployStatus.FAILED,
            finished_at=timezone.now(),
            problems=problems,
            message=message,
        )
        if failed:
            _audit_failure(deploy, message)
    else:
        _deploy_switch(deploy)
    deploy.refresh_from_db()
    return deploy


@transaction.atomic
def _deploy_switch(deploy: Deploy) -> bool:
    """Point the deploy's instances and the DEPLOYED label at its version, all or nothing."""
    kind = kind_of(deploy.function.resource_type)
    model = kind.instance_model
    targets = getattr(deploy, kind.deploy_targets).values("pk")
    finished = Deploy.objects.filter(pk=deploy.pk, status=DeployStatus.RUNNING).update(
        status=DeployStatus.SUCCEEDED, finished_at=timezone.now()
    )
    if not finished:
        return False
    model.objects.filter(pk__in=targets).update(version=deploy.version, updated_at=timezone.now())
    with audit_via(
        deploy.requested_via or VIA_SYSTEM,
        token_label=deploy.requested_token_label,
        user=deploy.requested_by,
    ):
        version_mark_deployed(
            version=deploy.version,
            user=deploy.requested_by,
            details={
                "deploy": deploy.pk,
                "instances": list(
                    model.objects.filter(pk__in=targets).values_list("name", flat=True)
                ),
                "rollback": deploy.is_rollback,
            },
        )
    return True


def deploy_fail(*, deploy_id: int, message: str) -> None:
    """Record that a deploy's task gave up; its instances stay where they were."""
    failed = Deploy.objects.filter(pk=deploy_id, status__in=ACTIVE_DEPLOY_STATUSES).update(
        status=DeployStatus.FAILED, finished_at=timezone.now(), message=message[:2000]
    )
    deploy = Deploy.objects.select_related("function", "version").filter(pk=deploy_id).first()
    if failed and deploy is not None:
        _audit_failure(deploy, message)


def _audit_failure(deploy: Deploy, message: str) -> None:
    """A failed deploy goes into the audit trail too, as the person who asked for it."""
    with audit_via(
        deploy.requested_via or VIA_SYSTEM,
        token_label=deploy.requested_token_label,
        user=deploy.requested_by,
    ):
        audit_record(
            workspace=deploy.function.workspace,
            user=deploy.requested_by,
            action=AuditAction.DEPLOY_FAIL,
            target=deploy.function,
            details={
                "deploy": deploy.pk,
                "version": f"v{deploy.version.number}",
                "reason": message[:500],
            },
            versions=(deploy.version_id,),
        )
