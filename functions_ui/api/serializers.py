"""Explicit conversions between models and the API's shapes (schemas.py).

Output functions build the answer models field by field. The checks a schema cannot make,
because they depend on the function at hand (its declared settings, its type), are here too.
A setting's value never appears here: only its declaration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from catalog.kinds import KINDS, kind_of
from catalog.models import Function, FunctionSetting, ResourceType, SettingType
from functions_ui.api import schemas
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
    # The year by hand: strftime's %Y does not pad years before 1000 to four digits.
    return (
        f"{value.year:04d}-"
        + value.strftime("%m-%dT%H:%M:%S.")
        + f"{value.microsecond // 1000:03d}Z"
    )


def user_id(pk: int | None) -> str | None:
    return None if pk is None else str(pk)


def setting_out(setting: FunctionSetting | dict[str, Any]) -> schemas.FunctionSettingV1:
    """The declaration only; no value, test value or mask."""
    item = setting if isinstance(setting, dict) else setting.__dict__
    return schemas.FunctionSettingV1(
        name=item["name"],
        label=item["label"],
        description=item.get("description", ""),
        type=item["type"],
        required=item.get("required", False),
        sensitive=item.get("sensitive", False),
    )


def _list_item_fields(function: Function) -> dict[str, Any]:
    return {
        "id": function.public_id,
        "resource_type": function.resource_type,
        "created_at": timestamp(function.created_at),
        "created_by": user_id(function.created_by_id),
        "display_name": function.display_name,
        "description": function.description,
        "logo_url": function.logo_url,
        "catalog_id": function.catalog_id,
    }


def function_list_item(function: Function) -> schemas.ListFunctionItemV1:
    return schemas.ListFunctionItemV1(**_list_item_fields(function))


def function_out(
    function: Function,
    *,
    settings: list[FunctionSetting],
    labels: LabelState,
    preview_webhook_url: str,
) -> schemas.FunctionV1:
    """FunctionV1, plus the workspace's slug as `workspaceId` (as Segment's examples have)."""
    return schemas.FunctionV1(
        **_list_item_fields(function),
        workspace_id=function.workspace.slug,
        code=function.code,
        settings=[setting_out(setting) for setting in settings],
        preview_webhook_url=preview_webhook_url,
        batch_max_count=0,
        deployed_at=timestamp(labels.deployed_at),
        is_latest_version=labels.deployed_id is not None and labels.deployed_id == labels.latest_id,
        latest_version_id=labels.latest_id,
        deployed_version_id=labels.deployed_id,
    )


def version_out(version: Version, *, labels: LabelState) -> schemas.Version:
    deployed = version.id == labels.deployed_id
    return schemas.Version(
        id=version.id,
        author=version.author_name or None,
        code=version.code,
        is_deployed=deployed,
        created_at=timestamp(version.created_at),
        # Versions never change once saved.
        updated_at=timestamp(version.created_at),
        deployed_at=timestamp(labels.deployed_at) if deployed else None,
        is_latest=version.id == labels.latest_id,
        number=version.number,
        note=version.note,
        restored_from=version.restored_from_id,
        settings=[setting_out(item) for item in version.settings_schema],
    )


def diff_out(
    diff: FileDiff, *, base: Version, target: Version, unified: str
) -> schemas.VersionDiff:
    """A compare as data: hunks of plain-text lines with their numbers, and the unified text."""
    old_lines, _ = split_lines(base.code)
    new_lines, _ = split_lines(target.code)
    # Built as plain data first: a hunk's numbers and lines grow while its chunks are read.
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
                    "old_start": chunk.old_start,
                    "new_start": chunk.new_start,
                    "old_lines": 0,
                    "new_lines": 0,
                    "lines": current,
                }
            )
        hunk = hunks[-1]
        hunk["old_lines"] += len(chunk.old_lines)
        hunk["new_lines"] += len(chunk.new_lines)
        if chunk.kind == "equal":
            current.extend(
                {
                    "type": "context",
                    "old_number": old.number,
                    "new_number": new.number,
                    "text": new_lines[new.number - 1],
                }
                for old, new in zip(chunk.old_lines, chunk.new_lines, strict=True)
            )
            continue
        current.extend(
            {
                "type": "delete",
                "old_number": cell.number,
                "new_number": None,
                "text": old_lines[cell.number - 1],
            }
            for cell in chunk.old_lines
        )
        current.extend(
            {
                "type": "insert",
                "old_number": None,
                "new_number": cell.number,
                "text": new_lines[cell.number - 1],
            }
            for cell in chunk.new_lines
        )
    return schemas.VersionDiff(
        base=base.id,
        target=target.id,
        identical=diff.identical,
        added=diff.added,
        removed=diff.removed,
        hunks=[schemas.DiffHunk(**hunk) for hunk in hunks],
        unified=unified,
    )


def deploy_out(deploy: Any) -> schemas.FunctionDeployment:
    """Segment's `functionDeployment` (`status: SUCCESS` once the deploy is accepted), with
    the deploy's own progress: queued, running, succeeded or failed."""
    return schemas.FunctionDeployment(
        status="SUCCESS",
        id=str(deploy.pk),
        deploy_status=deploy.status.upper(),
        version_id=deploy.version_id,
        all_instances=deploy.target_all,
        is_rollback=deploy.is_rollback,
        message=deploy.message,
        created_at=timestamp(deploy.created_at),
        finished_at=timestamp(deploy.finished_at),
    )


def _plain_settings(instance: Any, settings: list[FunctionSetting]) -> dict[str, Any]:
    sensitive = {setting.name for setting in settings if setting.sensitive}
    return {name: value for name, value in instance.setting_values.items() if name not in sensitive}


def instance_out(instance: Any, *, settings: list[FunctionSetting]) -> schemas.Instance:
    """An instance: plain values of non-sensitive settings, only the names of sensitive ones."""
    return schemas.Instance(
        id=instance.public_id,
        kind=instance.kind.upper(),
        name=instance.name,
        enabled=instance.enabled,
        version_id=instance.version_id,
        created_at=timestamp(instance.created_at),
        updated_at=timestamp(instance.updated_at),
        settings=_plain_settings(instance, settings),
        sensitive_settings=sorted(instance.secret_values),
    )


def insert_instance_out(
    instance: Any, *, settings: list[FunctionSetting]
) -> schemas.InsertFunctionInstanceAlpha:
    """Segment's InsertFunctionInstanceAlpha: `integrationId` is the destination instance,
    `classId` the insert function's id without its prefix; sensitive settings appear only
    by name in `encryptedSettings`, each with the mask."""
    return schemas.InsertFunctionInstanceAlpha(
        id=instance.public_id,
        name=instance.name,
        integration_id=instance.destination.public_id,
        class_id=instance.function.catalog_id,
        function_id=instance.function.public_id,
        enabled=instance.enabled,
        version_id=instance.version_id,
        created_at=timestamp(instance.created_at),
        updated_at=timestamp(instance.updated_at),
        settings=_plain_settings(instance, settings),
        encrypted_settings=dict.fromkeys(sorted(instance.secret_values), MASK),
    )


# Checks that depend on the function --------------------------------------------------------

# What each function type's instances take besides `name` and `settings`.
INSTANCE_TYPE_FIELDS = {
    ResourceType.SOURCE: set(),
    ResourceType.DESTINATION: {"source_ids"},
    ResourceType.INSERT_DESTINATION: {"destination_id", "enabled"},
}
# The setting types' JSON shapes, as the 422 names them.
SETTING_VALUE_SHAPES = {
    SettingType.STRING: "a string",
    SettingType.BOOLEAN: "true or false",
    SettingType.ARRAY: "a list of strings",
    SettingType.TEXT_MAP: "an object of strings",
}


def clean_text(value: str, name: str) -> str:
    """The string, if a database can store it: no NUL and no lone surrogate; else a 422."""
    try:
        return schemas.storable(value)
    except ValueError as error:
        raise validation_failure(f"{name} {error}", field=name) from error


def _setting_value(setting: FunctionSetting, value: Any, path: str) -> Any:
    """The value if its JSON type suits the setting's type; never echoed in the 422."""
    shape_ok: bool = {
        SettingType.STRING: isinstance(value, str),
        SettingType.BOOLEAN: isinstance(value, bool),
        SettingType.ARRAY: isinstance(value, list) and all(isinstance(v, str) for v in value),
        SettingType.TEXT_MAP: isinstance(value, dict)
        and all(isinstance(v, str) for v in value.values()),
    }.get(SettingType(setting.type), False)
    if not shape_ok:
        shape = SETTING_VALUE_SHAPES.get(SettingType(setting.type), "a value")
        raise validation_failure(f"{path} must be {shape}.", field=path)
    if isinstance(value, str):
        return clean_text(value, path)
    if isinstance(value, list):
        return [clean_text(item, path) for item in value]
    if isinstance(value, dict):
        return {clean_text(k, path): clean_text(v, path) for k, v in value.items()}
    return value


def instance_settings_input(
    raw: dict[str, Any] | None, *, declared: list[FunctionSetting]
) -> dict[str, Any] | None:
    """`settings`: declared setting names, each with a value of its type.

    A null value counts as not given (a sensitive one then keeps its stored value).
    """
    if raw is None:
        return None
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


def fields_of_type(
    body: schemas.Input, function: Function, *, always: frozenset[str] = frozenset()
) -> None:
    """Refuse a field another function type's instances take (say, sourceIds for a source)."""
    allowed = always | INSTANCE_TYPE_FIELDS[ResourceType(function.resource_type)]
    for name in sorted(set().union(*INSTANCE_TYPE_FIELDS.values()) - allowed):
        if getattr(body, name, None) is not None:
            field = schemas.to_camel(name)
            kind = ResourceType(function.resource_type).label.lower()
            raise validation_failure(
                f"{field} does not apply to instances of {kind} functions.", field=field
            )


def insert_function_id(value: str, *, field: str = "functionId") -> str:
    """An insert function's public id, with or without its `ifnd_` prefix.

    Segment's docs say to send the id without the prefix; its clients send both.
    """
    if not value:
        raise validation_failure(f"{field} is required.", field=field)
    prefix = kind_of(ResourceType.INSERT_DESTINATION).id_prefix
    if any(value.startswith(k.id_prefix) for k in KINDS):
        return value
    return prefix + value
