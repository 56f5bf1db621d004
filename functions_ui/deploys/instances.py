"""Writes about instances: connect a function as a source, destination or insert, configure it.

An instance is one use of a function with its own settings (sensitive values encrypted). A new
instance starts on the function's deployed version; deploys (services.py) move it on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Function, FunctionSetting, ResourceType, SettingType
from catalog.secrets import encrypt_value
from catalog.services import parse_setting_value
from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
from functions_ui.deploys.models import (
    DestinationInstance,
    InsertInstance,
    InstanceBase,
    SourceInstance,
    new_instance_id,
    new_webhook_token,
)
from versioning.models import Version
from versioning.selectors import deployed_version, latest_version

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


def acting_user(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _audit_instance(
    instance: InstanceBase, action: str, user: User | None = None, **details: Any
) -> None:
    """Record an instance change; details name settings and sources, never their values."""
    audit_record(
        workspace=instance.function.workspace,
        action=action,
        user=acting_user(user),
        target=("instance", instance.public_id, instance.name),
        details={"function": instance.function.public_id, **details},
    )


@transaction.atomic
def source_instance_create(
    *, function: Function, user: User | None, name: str, raw_settings: dict[str, Any]
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
        created_by=acting_user(user),
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
    user: User | None,
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
        created_by=acting_user(user),
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
    user: User | None,
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
        created_by=acting_user(user),
    )
    _audit_instance(
        instance, AuditAction.INSTANCE_CONNECT, user, kind="insert", destination=destination.name
    )
    return instance


def instance_create(
    *,
    function: Function,
    user: User | None,
    name: str,
    raw_settings: dict[str, Any],
    source_ids: Sequence[str] = (),
    destination_id: str = "",
    enabled: bool = True,
) -> InstanceBase:
    """Connect an instance of the function, whatever its type: the one place that picks the
    creator by type, for the dashboard's Connect form and the API alike. Each type takes what
    its instances need (sources for a destination, a destination for an insert function)."""
    match ResourceType(function.resource_type):
        case ResourceType.SOURCE:
            return source_instance_create(
                function=function, user=user, name=name, raw_settings=raw_settings
            )
        case ResourceType.DESTINATION:
            return destination_instance_create(
                function=function,
                user=user,
                name=name,
                raw_settings=raw_settings,
                source_ids=list(source_ids),
            )
        case ResourceType.INSERT_DESTINATION:
            return insert_instance_create(
                function=function,
                user=user,
                name=name,
                raw_settings=raw_settings,
                destination_id=destination_id,
                enabled=enabled,
            )


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
