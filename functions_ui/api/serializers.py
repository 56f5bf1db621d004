"""Explicit conversions between models and the API's camelCase JSON, both ways.

Output functions build plain dicts field by field, as Segment's FunctionV1, ListFunctionItemV1,
FunctionSettingV1 and Version schemas name them. Input functions check the types of a request
body and return keyword arguments for the services, or raise a 422 naming the field.
A setting's value never appears here: only its declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from catalog.kinds import KINDS, kind_of
from catalog.models import Function, FunctionSetting, ResourceType, SettingType
from functions_ui.api.errors import validation_failure
from functions_ui.api.selectors import LabelState
from functions_ui.runtime.masking import MASK
from versioning.diffing import FileDiff
from versioning.highlighting import split_lines
from versioning.models import Version

# Output ---------------------------------------------------------------------------------


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds, as Segment writes them: 2006-01-02T15:04:05.000Z."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def user_id(pk: int | None) -> str | None:
    return None if pk is None else str(pk)


def setting_to_dict(setting: FunctionSetting) -> dict[str, Any]:
    """FunctionSettingV1: the declaration only; no value, test value or mask."""
    return {
        "name": setting.name,
        "label": setting.label,
        "description": setting.description,
        "type": setting.type,
        "required": setting.required,
        "sensitive": setting.sensitive,
    }


def function_list_item(function: Function) -> dict[str, Any]:
    """ListFunctionItemV1: no code and no settings."""
    return {
        "id": function.public_id,
        "resourceType": function.resource_type,
        "createdAt": timestamp(function.created_at),
        "createdBy": user_id(function.created_by_id),
        "displayName": function.display_name,
        "description": function.description,
        "logoUrl": function.logo_url,
        "catalogId": function.catalog_id,
    }


def function_to_dict(
    function: Function,
    *,
    settings: list[FunctionSetting],
    labels: LabelState,
    preview_webhook_url: str,
) -> dict[str, Any]:
    """FunctionV1, plus the workspace's slug as `workspaceId` (as Segment's examples have)."""
    return {
        **function_list_item(function),
        "workspaceId": function.workspace.slug,
        "code": function.code,
        "settings": [setting_to_dict(setting) for setting in settings],
        "previewWebhookUrl": preview_webhook_url,
        "batchMaxCount": 0,
        "deployedAt": timestamp(labels.deployed_at),
        "isLatestVersion": labels.deployed_id is not None
        and labels.deployed_id == labels.latest_id,
        "latestVersionId": labels.latest_id,
        "deployedVersionId": labels.deployed_id,
    }


def version_to_dict(version: Version, *, labels: LabelState) -> dict[str, Any]:
    """Version: Segment's fields, plus the number, note and origin of a restore."""
    deployed = version.id == labels.deployed_id
    return {
        "id": version.id,
        "author": version.author_name or None,
        "code": version.code,
        "isDeployed": deployed,
        "createdAt": timestamp(version.created_at),
        # Versions never change once saved.
        "updatedAt": timestamp(version.created_at),
        "deployedAt": timestamp(labels.deployed_at) if deployed else None,
        "isLatest": version.id == labels.latest_id,
        "number": version.number,
        "note": version.note,
        "restoredFrom": version.restored_from_id,
        "settings": [dict(item) for item in version.settings_schema],
    }


def diff_to_dict(diff: FileDiff, *, base: Version, target: Version, unified: str) -> dict[str, Any]:
    """A compare as data: hunks of plain-text lines with their numbers, and the unified text."""
    old_lines, _ = split_lines(base.code)
    new_lines, _ = split_lines(target.code)
    hunks: list[dict[str, Any]] = []
    current: list[dict[str, Any]] | None = None
    for chunk in diff.chunks:
        if chunk.collapsed:
            current = None
            continue
        if current is None:
            current = []
            hunks.append(
                {
                    "oldStart": chunk.old_start,
                    "newStart": chunk.new_start,
                    "oldLines": 0,
                    "newLines": 0,
                    "lines": current,
                }
            )
        hunk = hunks[-1]
        hunk["oldLines"] += len(chunk.old_lines)
        hunk["newLines"] += len(chunk.new_lines)
        if chunk.kind == "equal":
            current.extend(
                {
                    "type": "context",
                    "oldNumber": old.number,
                    "newNumber": new.number,
                    "text": new_lines[new.number - 1],
                }
                for old, new in zip(chunk.old_lines, chunk.new_lines, strict=True)
            )
            continue
        current.extend(
            {
                "type": "delete",
                "oldNumber": cell.number,
                "newNumber": None,
                "text": old_lines[cell.number - 1],
            }
            for cell in chunk.old_lines
        )
        current.extend(
            {
                "type": "insert",
                "oldNumber": None,
                "newNumber": cell.number,
                "text": new_lines[cell.number - 1],
            }
            for cell in chunk.new_lines
        )
    return {
        "base": base.id,
        "target": target.id,
        "identical": diff.identical,
        "added": diff.added,
        "removed": diff.removed,
        "hunks": hunks,
        "unified": unified,
    }


def deploy_to_dict(deploy: Any) -> dict[str, Any]:
    """Segment's `functionDeployment` (`status: SUCCESS` once the deploy is accepted), with
    the deploy's own progress: queued, running, succeeded or failed."""
    return {
        "status": "SUCCESS",
        "id": str(deploy.pk),
        "deployStatus": deploy.status.upper(),
        "versionId": deploy.version_id,
        "allInstances": deploy.target_all,
        "isRollback": deploy.is_rollback,
        "message": deploy.message,
        "createdAt": timestamp(deploy.created_at),
        "finishedAt": timestamp(deploy.finished_at),
    }


def instance_to_dict(instance: Any, *, settings: list[FunctionSetting]) -> dict[str, Any]:
    """An instance: plain values of non-sensitive settings, only the names of sensitive ones."""
    sensitive = {setting.name for setting in settings if setting.sensitive}
    return {
        "id": instance.public_id,
        "kind": instance.kind.upper(),
        "name": instance.name,
        "enabled": instance.enabled,
        "versionId": instance.version_id,
        "createdAt": timestamp(instance.created_at),
        "updatedAt": timestamp(instance.updated_at),
        "settings": {
            name: value for name, value in instance.setting_values.items() if name not in sensitive
        },
        "sensitiveSettings": sorted(instance.secret_values),
    }


def insert_instance_to_dict(instance: Any, *, settings: list[FunctionSetting]) -> dict[str, Any]:
    """Segment's InsertFunctionInstanceAlpha: `integrationId` is the destination instance,
    `classId` the insert function's id without its prefix; sensitive settings appear only
    by name in `encryptedSettings`, each with the mask."""
    sensitive = {setting.name for setting in settings if setting.sensitive}
    return {
        "id": instance.public_id,
        "name": instance.name,
        "integrationId": instance.destination.public_id,
        "classId": instance.function.catalog_id,
        "functionId": instance.function.public_id,
        "enabled": instance.enabled,
        "versionId": instance.version_id,
        "createdAt": timestamp(instance.created_at),
        "updatedAt": timestamp(instance.updated_at),
        "settings": {
            name: value for name, value in instance.setting_values.items() if name not in sensitive
        },
        "encryptedSettings": dict.fromkeys(sorted(instance.secret_values), MASK),
    }


# Input ----------------------------------------------------------------------------------

CREATE_FIELDS = {"code", "displayName", "resourceType", "settings", "logoUrl", "description"}
UPDATE_FIELDS = {"code", "displayName", "settings", "logoUrl", "description"}
SETTING_FIELDS = {"name", "label", "description", "type", "required", "sensitive"}


def clean_text(value: str, name: str) -> str:
    """The string, if a database can store it: no NUL and no lone surrogate; else a 422."""
    if "\x00" in value:
        raise validation_failure(f"{name} must not contain NUL characters.", field=name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise validation_failure(f"{name} is not valid Unicode text.", field=name) from error
    return value


def optional_string(body: dict[str, Any], field: str, *, path: str | None = None) -> str | None:
    """The field's value when it is a string a database can store; None when absent."""
    value = body.get(field)
    name = path or field
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation_failure(f"{name} must be a string.", field=name)
    return clean_text(value, name)


def _boolean(item: dict[str, Any], field: str, *, path: str) -> bool:
    value = item.get(field, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise validation_failure(f"{path} must be true or false.", field=path)
    return value


def _unknown_fields(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise validation_failure(f"Unknown field {unknown[0]!r}.", field=unknown[0])


def _settings(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    raw = body.get("settings")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise validation_failure("settings must be a list.", field="settings")
    settings = []
    for index, item in enumerate(raw):
        path = f"settings[{index}]"
        if not isinstance(item, dict):
            raise validation_failure(f"{path} must be an object.", field=path)
        unknown = sorted(set(item) - SETTING_FIELDS)
        if unknown:
            raise validation_failure(f"Unknown field {unknown[0]!r}.", field=f"{path}.{unknown[0]}")
        for required in ("name", "label", "type"):
            if item.get(required) is None:
                raise validation_failure(
                    f"{path}.{required} is required.", field=f"{path}.{required}"
                )
        setting_type = optional_string(item, "type", path=f"{path}.type")
        if setting_type not in SettingType.values:
            raise validation_failure(
                f"{path}.type must be one of {', '.join(SettingType.values)}.",
                field=f"{path}.type",
            )
        settings.append(
            {
                "name": optional_string(item, "name", path=f"{path}.name"),
                "label": optional_string(item, "label", path=f"{path}.label"),
                "description": optional_string(item, "description", path=f"{path}.description")
                or "",
                "type": setting_type,
                "required": _boolean(item, "required", path=f"{path}.required"),
                "sensitive": _boolean(item, "sensitive", path=f"{path}.sensitive"),
            }
        )
    return settings


@dataclass(frozen=True)
class FunctionInput:
    """A checked create or update body; None means "not given"."""

    resource_type: str | None = None
    display_name: str | None = None
    description: str | None = None
    logo_url: str | None = None
    code: str | None = None
    settings: list[dict[str, Any]] | None = None


def function_create_input(body: dict[str, Any]) -> FunctionInput:
    """CreateFunctionV1Input: `code`, `displayName` and `resourceType` are required."""
    _unknown_fields(body, CREATE_FIELDS)
    for required in ("code", "displayName", "resourceType"):
        if body.get(required) is None:
            raise validation_failure(f"{required} is required.", field=required)
    resource_type = optional_string(body, "resourceType")
    if resource_type not in ResourceType.values:
        raise validation_failure(
            f"resourceType must be one of {', '.join(ResourceType.values)}.",
            field="resourceType",
        )
    return FunctionInput(
        resource_type=resource_type,
        display_name=optional_string(body, "displayName"),
        description=optional_string(body, "description") or "",
        logo_url=optional_string(body, "logoUrl") or "",
        code=optional_string(body, "code"),
        settings=_settings(body) or [],
    )


def function_update_input(body: dict[str, Any]) -> FunctionInput:
    """UpdateFunctionV1Input: every field optional.

    `resourceType` is immutable; it is taken only so that the view can accept a body that
    repeats the current type (as a client replaying its create body does).
    """
    _unknown_fields(body, UPDATE_FIELDS | {"resourceType"})
    return FunctionInput(
        resource_type=optional_string(body, "resourceType"),
        display_name=optional_string(body, "displayName"),
        description=optional_string(body, "description"),
        logo_url=optional_string(body, "logoUrl"),
        code=optional_string(body, "code"),
        settings=_settings(body),
    )


def version_restore_input(body: dict[str, Any]) -> str:
    _unknown_fields(body, {"versionId"})
    version_id = optional_string(body, "versionId")
    if version_id is None:
        raise validation_failure("versionId is required.", field="versionId")
    return version_id


# Instances --------------------------------------------------------------------------------

# What each function type's instances take besides `name` and `settings`.
INSTANCE_TYPE_FIELDS = {
    ResourceType.SOURCE: set(),
    ResourceType.DESTINATION: {"sourceIds"},
    ResourceType.INSERT_DESTINATION: {"destinationId", "enabled"},
}
# The setting types' JSON shapes, as the 422 names them.
SETTING_VALUE_SHAPES = {
    SettingType.STRING: "a string",
    SettingType.BOOLEAN: "true or false",
    SettingType.ARRAY: "a list of strings",
    SettingType.TEXT_MAP: "an object of strings",
}


@dataclass(frozen=True)
class InstanceInput:
    """A checked instance body; None means "not given"."""

    name: str | None = None
    settings: dict[str, Any] | None = None
    source_ids: list[str] | None = None
    destination_id: str | None = None
    enabled: bool | None = None


def _setting_value(setting: FunctionSetting, value: Any, path: str) -> Any:
    """The value if its JSON type suits the setting's type; never echoed in the 422."""
    shape_ok = {
        SettingType.STRING: isinstance(value, str),
        SettingType.BOOLEAN: isinstance(value, bool),
        SettingType.ARRAY: isinstance(value, list) and all(isinstance(v, str) for v in value),
        SettingType.TEXT_MAP: isinstance(value, dict)
        and all(isinstance(v, str) for v in value.values()),
    }.get(setting.type, False)
    if not shape_ok:
        shape = SETTING_VALUE_SHAPES.get(setting.type, "a value")
        raise validation_failure(f"{path} must be {shape}.", field=path)
    if isinstance(value, str):
        return clean_text(value, path)
    if isinstance(value, list):
        return [clean_text(item, path) for item in value]
    if isinstance(value, dict):
        return {clean_text(k, path): clean_text(v, path) for k, v in value.items()}
    return value


def instance_settings_input(raw: Any, *, declared: list[FunctionSetting]) -> dict[str, Any] | None:
    """`settings`: an object of declared setting names and values of their types.

    A null value counts as not given (a sensitive one then keeps its stored value).
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise validation_failure(
            "settings must be an object of setting names and values.", field="settings"
        )
    by_name = {setting.name: setting for setting in declared}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        clean_text(name, "settings")
        path = f"settings.{name}"
        setting = by_name.get(name)
        if setting is None:
            raise validation_failure(f"The function has no setting {name!r}.", field=path)
        if value is not None:
            values[name] = _setting_value(setting, value, path)
    return values


def _string_list(body: dict[str, Any], field: str) -> list[str] | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise validation_failure(f"{field} must be a list of strings.", field=field)
    return [clean_text(item, field) for item in value]


def _optional_boolean(body: dict[str, Any], field: str) -> bool | None:
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        raise validation_failure(f"{field} must be true or false.", field=field)
    return value


def _fields_of_type(body: dict[str, Any], function: Function, allowed: set[str]) -> None:
    """Refuse a field another function type's instances take (say, sourceIds for a source)."""
    for field in sorted(set().union(*INSTANCE_TYPE_FIELDS.values()) - allowed):
        if body.get(field) is not None:
            kind = ResourceType(function.resource_type).label.lower()
            raise validation_failure(
                f"{field} does not apply to instances of {kind} functions.", field=field
            )


def instance_create_input(
    body: dict[str, Any], *, function: Function, declared: list[FunctionSetting]
) -> InstanceInput:
    """A new instance: `name` always; `sourceIds` for destinations; `destinationId` and
    `enabled` (default true) for insert functions."""
    allowed = {"name", "settings"} | INSTANCE_TYPE_FIELDS[ResourceType(function.resource_type)]
    _unknown_fields(body, {"name", "settings", *set().union(*INSTANCE_TYPE_FIELDS.values())})
    _fields_of_type(body, function, allowed)
    name = optional_string(body, "name")
    if name is None:
        raise validation_failure("name is required.", field="name")
    enabled = _optional_boolean(body, "enabled")
    return InstanceInput(
        name=name,
        settings=instance_settings_input(body.get("settings"), declared=declared) or {},
        source_ids=_string_list(body, "sourceIds") or [],
        destination_id=optional_string(body, "destinationId") or "",
        enabled=True if enabled is None else enabled,
    )


def instance_update_input(
    body: dict[str, Any], *, function: Function, declared: list[FunctionSetting]
) -> InstanceInput:
    """Changes to an instance; `sourceIds` (destinations only) replaces the whole list."""
    _unknown_fields(body, {"name", "settings", "enabled", "sourceIds"})
    allowed = {"enabled"} | INSTANCE_TYPE_FIELDS[ResourceType(function.resource_type)]
    _fields_of_type(body, function, allowed)
    return InstanceInput(
        name=optional_string(body, "name"),
        settings=instance_settings_input(body.get("settings"), declared=declared),
        source_ids=_string_list(body, "sourceIds"),
        enabled=_optional_boolean(body, "enabled"),
    )


def insert_function_id(body: dict[str, Any], *, field: str = "functionId") -> str:
    """An insert function's public id, with or without its `ifnd_` prefix.

    Segment's docs say to send the id without the prefix; its clients send both.
    """
    value = optional_string(body, field)
    if not value:
        raise validation_failure(f"{field} is required.", field=field)
    prefix = kind_of(ResourceType.INSERT_DESTINATION).id_prefix
    if any(value.startswith(k.id_prefix) for k in KINDS):
        return value
    return prefix + value


def insert_instance_create_input(
    body: dict[str, Any], *, function: Function, declared: list[FunctionSetting]
) -> InstanceInput:
    """createInsertFunctionInstance: `integrationId` is the destination instance's id."""
    _unknown_fields(body, {"functionId", "integrationId", "name", "settings", "enabled"})
    integration_id = optional_string(body, "integrationId")
    if not integration_id:
        raise validation_failure("integrationId is required.", field="integrationId")
    given = {key: body[key] for key in ("name", "settings", "enabled") if key in body}
    return instance_create_input(
        {**given, "destinationId": integration_id}, function=function, declared=declared
    )
