"""Writes about functions."""

from __future__ import annotations

import re
import unicodedata

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from catalog.content import (
    SETTING_LABEL_MAX_LENGTH,
    SETTING_LIMIT,
    SETTING_NAME_MAX_LENGTH,
    function_settings_sync,
    validate_settings_schema,
)
from catalog.kinds import kind_of
from catalog.models import (
    Function,
    FunctionSetting,
    ResourceType,
    SettingType,
    new_catalog_id,
)
from catalog.secrets import encrypt_value
from catalog.selectors import function_name_taken
from catalog.starters import default_code
from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
from functions_ui.workspaces.models import Workspace
from versioning.services import version_create_initial


def function_create(
    *,
    workspace: Workspace,
    user: User | None,
    resource_type: str,
    display_name: str,
    description: str = "",
    logo_url: str = "",
    code: str | None = None,
    settings: list[dict] | None = None,
) -> Function:
    """Create a function of a workspace, starting from its type's template when no code is given.

    `settings` declares its settings up front (as `function_settings_replace` takes them), so
    that version 1 records them.
    """
    display_name = display_name.strip()
    if resource_type not in ResourceType.values:
        raise ValidationError({"resource_type": f"Unknown function type {resource_type!r}."})
    code = default_code(resource_type) if code is None else code
    if function_name_taken(workspace=workspace, display_name=display_name):
        raise ValidationError({"display_name": "A function with this name already exists."})
    function = Function(
        workspace=workspace,
        public_id=kind_of(resource_type).id_prefix + new_catalog_id(),
        resource_type=resource_type,
        display_name=display_name,
        description=description.strip(),
        logo_url=logo_url.strip(),
        created_by=user,
        updated_by=user,
    )
    function.full_clean()
    settings = validate_settings_schema(settings or [])
    try:
        with transaction.atomic():
            function.save()
            # Its content (code, declared settings) is version 1's: versioning writes it.
            version = version_create_initial(
                function=function, user=user, code=code, settings_schema=settings
            )
            audit_record(
                workspace=workspace,
                user=user,
                action=AuditAction.FUNCTION_CREATE,
                target=function,
                details={"type": function.get_resource_type_display()},
                versions=(version.id,),
            )
    except IntegrityError as error:
        # Two creates raced past the name check; the constraint caught the second.
        raise ValidationError(
            {"display_name": "A function with this name already exists."}
        ) from error
    return function


def function_update(
    *,
    function: Function,
    user: User | None,
    display_name: str | None = None,
    description: str | None = None,
    logo_url: str | None = None,
) -> Function:
    """Change a function's name, description or logo; None leaves a field as it is.

    Code goes through versioning's `version_save`, never through here.
    """
    if display_name is not None:
        display_name = display_name.strip()
        if function_name_taken(
            workspace=function.workspace, display_name=display_name, exclude_pk=function.pk
        ):
            raise ValidationError({"display_name": "A function with this name already exists."})
        function.display_name = display_name
    if description is not None:
        function.description = description.strip()
    if logo_url is not None:
        function.logo_url = logo_url.strip()
    function.updated_by = user if user is not None and user.is_authenticated else None
    function.full_clean()
    try:
        with transaction.atomic():
            function.save(
                update_fields=[
                    "display_name",
                    "description",
                    "logo_url",
                    "updated_by",
                    "updated_at",
                ]
            )
            changed = {
                "display_name": display_name,
                "description": description,
                "logo_url": logo_url,
            }
            audit_record(
                workspace=function.workspace,
                user=user,
                action=AuditAction.FUNCTION_UPDATE,
                target=function,
                details={"fields": [name for name, value in changed.items() if value is not None]},
            )
    except IntegrityError as error:
        raise ValidationError(
            {"display_name": "A function with this name already exists."}
        ) from error
    return function


@transaction.atomic
def function_delete(*, function: Function) -> None:
    """Delete a function with its settings."""
    audit_record(
        workspace=function.workspace,
        action=AuditAction.FUNCTION_DELETE,
        target=function,
        details={"type": function.get_resource_type_display()},
    )
    function.delete()


# Settings -----------------------------------------------------------------------------------


def _settings_change_record(*, function: Function, **details: object) -> None:
    """Audit a settings change by setting name; a value never goes into the trail."""
    audit_record(
        workspace=function.workspace,
        action=AuditAction.SETTINGS_CHANGE,
        target=function,
        details=details,
    )


def setting_name_from_label(label: str) -> str:
    """camelCase a label as Segment does: "API Key" -> "apiKey", "Webhook URL" -> "webhookUrl"."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_label)
    if not words:
        return ""
    name = words[0].lower() + "".join(word[:1].upper() + word[1:].lower() for word in words[1:])
    if name[0].isdigit():
        name = "setting" + name[:1].upper() + name[1:]
    return str(name)


def _setting_fields(
    *, function: Function, label: str, exclude_pk: int | None = None
) -> tuple[str, str]:
    label = label.strip()
    name = setting_name_from_label(label)
    if not name:
        raise ValidationError({"label": "The label needs at least one letter or digit."})
    if len(name) > SETTING_NAME_MAX_LENGTH or len(label) > SETTING_LABEL_MAX_LENGTH:
        raise ValidationError(
            {"label": f"The label can be at most {SETTING_LABEL_MAX_LENGTH} characters long."}
        )
    others = function.settings.filter(name=name)
    taken = (others.exclude(pk=exclude_pk) if exclude_pk is not None else others).exists()
    if taken:
        raise ValidationError(
            {"label": f"A setting named “{name}” already exists; choose another label."}
        )
    return label, name


@transaction.atomic
def setting_create(
    *,
    function: Function,
    label: str,
    type: str = SettingType.STRING,
    description: str = "",
    required: bool = False,
    sensitive: bool = False,
) -> FunctionSetting:
    """Add a setting at the end of the list; its name is the camelCased label."""
    if function.settings.count() >= SETTING_LIMIT:
        raise ValidationError({"label": f"A function can have at most {SETTING_LIMIT} settings."})
    label, name = _setting_fields(function=function, label=label)
    last = function.settings.aggregate(last=Max("position"))["last"]
    setting = FunctionSetting(
        function=function,
        position=0 if last is None else last + 1,
        name=name,
        label=label,
        type=type,
        description=description.strip(),
        required=required,
        sensitive=sensitive,
    )
    setting.full_clean()
    setting.save()
    _settings_change_record(function=function, change="added", setting=name)
    return setting


@transaction.atomic
def setting_update(
    *,
    setting: FunctionSetting,
    label: str,
    type: str,
    description: str = "",
    required: bool = False,
    sensitive: bool = False,
) -> FunctionSetting:
    """Change a setting; a changed type or sensitivity drops its test value rather than show it."""
    label, name = _setting_fields(function=setting.function, label=label, exclude_pk=setting.pk)
    new_values = {
        "label": label,
        "type": type,
        "description": description.strip(),
        "required": required,
        "sensitive": sensitive,
    }
    changed = [field for field, value in new_values.items() if getattr(setting, field) != value]
    old_name = setting.name
    if type != setting.type or sensitive != setting.sensitive:
        setting.test_value = None
        setting.test_value_encrypted = ""
    setting.label, setting.name, setting.type = label, name, type
    setting.description, setting.required, setting.sensitive = (
        description.strip(),
        required,
        sensitive,
    )
    setting.full_clean()
    setting.save()
    if changed:
        details = {"change": "changed", "setting": name, "fields": changed}
        if old_name != name:
            details["renamed_from"] = old_name
        _settings_change_record(function=setting.function, **details)
    return setting


@transaction.atomic
def function_settings_replace(*, function: Function, settings: list[dict]) -> None:
    """Replace a function's declared settings with this list, matched by name.

    Settings kept by name keep their test value unless their type or sensitivity changed.
    """
    schema = validate_settings_schema(settings)
    function_settings_sync(function=function, schema=schema)
    _settings_change_record(
        function=function, change="replaced", settings=[item["name"] for item in schema]
    )


@transaction.atomic
def setting_delete(*, setting: FunctionSetting) -> None:
    _settings_change_record(function=setting.function, change="removed", setting=setting.name)
    setting.delete()


@transaction.atomic
def setting_move(*, setting: FunctionSetting, offset: int) -> None:
    """Move a setting up (-1) or down (+1) in its function's list."""
    ordered = list(setting.function.settings.select_for_update().order_by("position", "id"))
    index = next(i for i, s in enumerate(ordered) if s.pk == setting.pk)
    target = max(0, min(len(ordered) - 1, index + offset))
    ordered.insert(target, ordered.pop(index))
    for position, item in enumerate(ordered):
        if item.position != position:
            FunctionSetting.objects.filter(pk=item.pk).update(position=position)
    if target == index:
        return
    _settings_change_record(
        function=setting.function,
        change="moved",
        setting=setting.name,
        direction="up" if offset < 0 else "down",
    )


def parse_setting_value(setting_type: str, raw: str | bool | list | dict | None) -> object:
    """Turn form input into the value a function sees; raise ValidationError with a reason."""
    if setting_type == SettingType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "on", "yes"}
    if setting_type == SettingType.ARRAY:
        if isinstance(raw, list):
            return [str(item) for item in raw]
        return [line.strip() for line in str(raw or "").splitlines() if line.strip()]
    if setting_type == SettingType.TEXT_MAP:
        if isinstance(raw, dict):
            return {str(k): str(v) for k, v in raw.items()}
        result = {}
        for number, line in enumerate(str(raw or "").splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise ValidationError(f"Line {number}: write each entry as key=value.")
            result[key.strip()] = value.strip()
        return result
    return "" if raw is None else str(raw)


@transaction.atomic
def setting_test_value_set(
    *, setting: FunctionSetting, raw: str | bool | list | dict | None
) -> None:
    """Store the value editor test runs use; a sensitive one only encrypted."""
    value = parse_setting_value(setting.type, raw)
    if setting.sensitive:
        setting.test_value = None
        setting.test_value_encrypted = encrypt_value(value) if value not in ("", [], {}) else ""
    else:
        setting.test_value = value
    setting.save(update_fields=["test_value", "test_value_encrypted"])
    _settings_change_record(
        function=setting.function, change="test value set", setting=setting.name
    )


def setting_test_value_clear(*, setting: FunctionSetting) -> None:
    setting.test_value = None
    setting.test_value_encrypted = ""
    setting.save(update_fields=["test_value", "test_value_encrypted"])
    _settings_change_record(
        function=setting.function, change="test value cleared", setting=setting.name
    )
