"""Writes about deploys and instances: connect, configure, deploy, roll back.

A deploy is a row and a Celery task. The task claims the row, checks the version in the
runtime and then, in one transaction, switches the chosen instances to the version and
moves the DEPLOYED label, so a failed or interrupted deploy leaves every instance where it
was. Deploys of one function run in the order they were made.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import Function, FunctionSetting, ResourceType, SettingType
from catalog.secrets import encrypt_value
from catalog.services import parse_setting_value
from functions_ui.audit.context import VIA_SYSTEM, audit_context, audit_via
from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
from functions_ui.deploys.models import (
    ACTIVE_DEPLOY_STATUSES,
    Deploy,
    DeployStatus,
    DestinationInstance,
    InsertInstance,
    InstanceBase,
    SourceInstance,
    new_instance_id,
    new_webhook_token,
)
from versioning.models import Version
from versioning.selectors import deployed_version, latest_version
from versioning.services import version_mark_deployed, version_save


class TransientDeployError(Exception):
    """Worth trying again later: the runtime or the database was briefly unavailable."""


class DeployWaiting(TransientDeployError):
    """An earlier deploy of the same function has not finished yet."""


# Settings values ----------------------------------------------------------------------------


def instance_settings_parse(
    *, function: Function, raw: dict[str, Any], instance: InstanceBase | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn form input into (plain values, encrypted values) for the function's settings.

    A sensitive setting left blank keeps its stored value ("replace" is opt-in); required
    settings must end up with a value.
    """
    values: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    errors: dict[str, str] = {}
    for setting in FunctionSetting.objects.filter(function=function).order_by("position", "id"):
        given = raw.get(setting.name)
        if setting.type == SettingType.BOOLEAN and given is None:
            given = False
        try:
            value = parse_setting_value(setting.type, given)
        except ValidationError as error:
            errors[setting.name] = error.messages[0]
            continue
        empty = value in ("", [], {})
        if setting.sensitive:
            if not empty:
                secrets[setting.name] = encrypt_value(value)
            elif instance is not None and setting.name in instance.secret_values:
                secrets[setting.name] = instance.secret_values[setting.name]
            has_value = setting.name in secrets
        else:
            if not empty or setting.type == SettingType.BOOLEAN:
                values[setting.name] = value
            has_value = not empty
        if setting.required and not has_value and setting.type != SettingType.BOOLEAN:
            errors[setting.name] = f"“{setting.label}” is required."
    if errors:
        raise ValidationError(errors)
    return values, secrets


# Instances ----------------------------------------------------------------------------------


def _starting_version(function: Function) -> Version | None:
    """New instances run the deployed version; before the first deploy, the latest one."""
    return deployed_version(function=function) or latest_version(function=function)


def _instance_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the instance a name."})
    if len(name) > 120:
        raise ValidationError({"name": "The name can be at most 120 characters long."})
    return name


def _require_type(function: Function, resource_type: str) -> None:
    if function.resource_type != resource_type:
        raise ValidationError(f"{function} is not a {ResourceType(resource_type).label} function.")


def _user(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


def _audit_instance(
    instance: InstanceBase, action: str, user: AbstractBaseUser | None = None, **details: Any
) -> None:
    """Record an instance change; details name settings and sources, never their values."""
    audit_record(
        workspace=instance.function.workspace,
        action=action,
        user=_user(user),
        target=("instance", instance.public_id, instance.name),
        details={"function": instance.function.public_id, **details},
    )


@transaction.atomic
def source_instance_create(
    *, function: Function, user: AbstractBaseUser | None, name: str, raw_settings: dict[str, Any]
) -> SourceInstance:
    """Connect a source function: a new source with its own webhook URL."""
    _require_type(function, ResourceType.SOURCE)
    values, secrets = instance_settings_parse(function=function, raw=raw_settings)
    instance = SourceInstance.objects.create(
        function=function,
        public_id=new_instance_id(SourceInstance.ID_PREFIX),
        name=_instance_name(name),
        version=_starting_version(function),
        setting_values=values,
        secret_values=secrets,
        created_by=_user(user),
    )
    _audit_instance(instance, AuditAction.INSTANCE_CONNECT, user, kind="source")
    return instance


def _sources_in_workspace(function: Function, source_ids: list[str]) -> list[SourceInstance]:
    sources = list(
        SourceInstance.objects.filter(
            public_id__in=source_ids, function__workspace_id=function.workspace_id
        )
    )
    if len(sources) != len(set(source_ids)):
        raise ValidationError({"sources": "Choose sources of this workspace."})
    return sources


@transaction.atomic
def destination_instance_create(
    *,
    function: Function,
    user: AbstractBaseUser | None,
    name: str,
    raw_settings: dict[str, Any],
    source_ids: list[str],
) -> DestinationInstance:
    """Connect a destination function to one or more source instances."""
    _require_type(function, ResourceType.DESTINATION)
    if not source_ids:
        raise ValidationError({"sources": "Connect at least one source."})
    sources = _sources_in_workspace(function, source_ids)
    values, secrets = instance_settings_parse(function=function, raw=raw_settings)
    instance = DestinationInstance.objects.create(
        function=function,
        public_id=new_instance_id(DestinationInstance.ID_PREFIX),
        name=_instance_name(name),
        version=_starting_version(function),
        setting_values=values,
        secret_values=secrets,
        created_by=_user(user),
    )
    instance.sources.set(sources)
    _audit_instance(
        instance,
        AuditAction.INSTANCE_CONNECT,
        user,
        kind="destination",
        sources=[source.name for source in sources],
    )
    return instance


@transaction.atomic
def insert_instance_create(
    *,
    function: Function,
    user: AbstractBaseUser | None,
    name: str,
    raw_settings: dict[str, Any],
    destination_id: str,
    enabled: bool,
) -> InsertInstance:
    """Attach an insert function in front of a destination instance (one per destination)."""
    _require_type(function, ResourceType.INSERT_DESTINATION)
    destination = DestinationInstance.objects.filter(
        public_id=destination_id, function__workspace_id=function.workspace_id
    ).first()
    if destination is None:
        raise ValidationError({"destination": "Choose a destination of this workspace."})
    if InsertInstance.objects.filter(destination=destination).exists():
        raise ValidationError({"destination": "This destination already has an insert function."})
    values, secrets = instance_settings_parse(function=function, raw=raw_settings)
    instance = InsertInstance.objects.create(
        function=function,
        public_id=new_instance_id(InsertInstance.ID_PREFIX),
        name=_instance_name(name),
        version=_starting_version(function),
        destination=destination,
        setting_values=values,
        secret_values=secrets,
        enabled=enabled,
        created_by=_user(user),
    )
    _audit_instance(
        instance, AuditAction.INSTANCE_CONNECT, user, kind="insert", destination=destination.name
    )
    return instance


@transaction.atomic
def instance_settings_update(*, instance: InstanceBase, raw_settings: dict[str, Any]) -> None:
    """Replace an instance's setting values; blank sensitive values keep the stored ones."""
    values, secrets = instance_settings_parse(
        function=instance.function, raw=raw_settings, instance=instance
    )
    instance.setting_values, instance.secret_values = values, secrets
    instance.save(update_fields=["setting_values", "secret_values", "updated_at"])
    _audit_instance(
        instance, AuditAction.INSTANCE_UPDATE, change="settings", settings=sorted(raw_settings)
    )


def instance_rename(*, instance: InstanceBase, name: str) -> None:
    """Give an instance a new name; the same name again changes and records nothing."""
    name = _instance_name(name)
    if name == instance.name:
        return
    old_name, instance.name = instance.name, name
    instance.save(update_fields=["name", "updated_at"])
    _audit_instance(instance, AuditAction.INSTANCE_UPDATE, change="name", old_name=old_name)


def instance_set_enabled(*, instance: InstanceBase, enabled: bool) -> None:
    """Switch an instance on or off (an insert function's "Enable function" toggle)."""
    instance.enabled = enabled
    instance.save(update_fields=["enabled", "updated_at"])
    _audit_instance(instance, AuditAction.INSTANCE_UPDATE, change="enabled", enabled=enabled)


def source_instance_rotate_token(*, instance: SourceInstance) -> SourceInstance:
    """Give the source a new webhook URL; the old one answers 404 from now on."""
    instance.webhook_token = new_webhook_token()
    instance.token_rotated_at = timezone.now()
    instance.save(update_fields=["webhook_token", "token_rotated_at", "updated_at"])
    _audit_instance(instance, AuditAction.INSTANCE_UPDATE, change="webhook token rotated")
    return instance


@transaction.atomic
def destination_sources_set(*, instance: DestinationInstance, source_ids: list[str]) -> None:
    """Change which source instances feed a destination."""
    if not source_ids:
        raise ValidationError({"sources": "Connect at least one source."})
    sources = _sources_in_workspace(instance.function, source_ids)
    instance.sources.set(sources)
    _audit_instance(
        instance, AuditAction.INSTANCE_UPDATE, change="sources", sources=[s.name for s in sources]
    )


@transaction.atomic
def instance_delete(*, instance: InstanceBase) -> None:
    _audit_instance(instance, AuditAction.INSTANCE_DELETE)
    instance.delete()


# Deploys ------------------------------------------------------------------------------------

# The instance lists of a deploy, by function type.
TARGET_FIELDS = {
    ResourceType.SOURCE: ("source_instances", SourceInstance),
    ResourceType.DESTINATION: ("destination_instances", DestinationInstance),
    ResourceType.INSERT_DESTINATION: ("insert_instances", InsertInstance),
}


def _instances_of(function: Function):
    _, model = TARGET_FIELDS[ResourceType(function.resource_type)]
    return model.objects.filter(function=function)


@transaction.atomic
def deploy_start(
    *,
    function: Function,
    version: Version,
    user: AbstractBaseUser | None,
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
    user = _user(user)
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
    field, _ = TARGET_FIELDS[ResourceType(function.resource_type)]
    getattr(deploy, field).set(chosen)
    # Imported here: tasks import this module. With the broker down the deploy stays queued
    # (committed), and the pipeline's sweep sends it once the broker is back.
    from functions_ui.deploys.tasks import deploy_enqueue

    transaction.on_commit(lambda: deploy_enqueue(deploy.pk))
    return deploy


@transaction.atomic
def save_and_deploy(
    *,
    function: Function,
    user: AbstractBaseUser | None,
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
    from functions_ui.runtime import RuntimeUnavailable, check_code

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
    return where + problem["message"]


def _hold_for_earlier(deploy: Deploy, now) -> None:
    """Raise DeployWaiting while an earlier deploy of the function is unfinished.

    One that has been queued or running for longer than DEPLOYS_STALE_SECONDS is marked
    failed instead, so that a lost task cannot hold its function's deploys back for ever.
    """
    earlier = Deploy.objects.filter(
        function_id=deploy.function_id, pk__lt=deploy.pk, status__in=ACTIVE_DEPLOY_STATUSES
    )
    stale_before = now - timedelta(seconds=settings.DEPLOYS_STALE_SECONDS)
    earlier.filter(created_at__lt=stale_before).update(
        status=DeployStatus.FAILED,
        finished_at=now,
        message="Abandoned: it did not finish in time, so later deploys went ahead.",
    )
    if earlier.exists():
        raise DeployWaiting(f"Waiting for an earlier deploy of {deploy.function_id}.")


def deploy_execute(*, deploy_id: int) -> Deploy | None:
    """Run a queued deploy once; a deploy already finished is left as it is.

    A redelivered task (say, after its worker was killed) finds its deploy still running and
    carries it through; the switch commits only while the deploy is still running, so it
    happens once however often the task runs.
    """
    deploy = Deploy.objects.select_related("function", "version__function").filter(pk=deploy_id)
    deploy = deploy.first()
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
        Deploy.objects.filter(pk=deploy.pk, status=DeployStatus.RUNNING).update(
            status=DeployStatus.FAILED,
            finished_at=timezone.now(),
            problems=problems,
            message="The code cannot run: " + "; ".join(_problem_text(p) for p in problems),
        )
    else:
        _deploy_switch(deploy)
    deploy.refresh_from_db()
    return deploy


@transaction.atomic
def _deploy_switch(deploy: Deploy) -> bool:
    """Point the deploy's instances and the DEPLOYED label at its version, all or nothing."""
    field, model = TARGET_FIELDS[ResourceType(deploy.function.resource_type)]
    targets = getattr(deploy, field).values("pk")
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
    Deploy.objects.filter(pk=deploy_id, status__in=ACTIVE_DEPLOY_STATUSES).update(
        status=DeployStatus.FAILED, finished_at=timezone.now(), message=message[:2000]
    )
