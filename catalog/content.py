"""A function's content — its code and its declared settings — described once.

The catalog keeps the working copy (the Function row and its FunctionSetting rows); versioning
keeps every saved state of it as an immutable version, and is the only writer of the code
(`Function.code` is LATEST's code). Both need the same rules for what valid content is and the
same way to make the setting rows match a recorded list, so those live here, in a layer that
imports only the catalog's models and that both apps build on.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from catalog.models import SETTING_NAME_PATTERN, Function, FunctionSetting, SettingType

CODE_MAX_BYTES = 256 * 1024
SETTING_LIMIT = 50
# A declared setting as a version records it and the API shows it: never a value.
SCHEMA_KEYS = ("name", "label", "description", "type", "required", "sensitive")
SETTING_NAME_MAX_LENGTH: int = FunctionSetting._meta.get_field("name").max_length  # type: ignore[assignment]
SETTING_LABEL_MAX_LENGTH: int = FunctionSetting._meta.get_field("label").max_length  # type: ignore[assignment]


CODE_MAX_BYTES = 256 * 1024


def validate_code_size(code: str) -> None:
    if len(code.encode("utf-8")) > CODE_MAX_BYTES:
        raise ValidationError(
            {"code": f"Code is larger than the limit of {CODE_MAX_BYTES // 1024} KiB."}
        )


def settings_schema_of(*, function: Function) -> list[dict]:
    """The declared settings as a version stores them: names and flags, never a value."""
    rows = FunctionSetting.objects.filter(function=function).order_by("position", "id")
    return [
        dict(zip(SCHEMA_KEYS, values, strict=True)) for values in rows.values_list(*SCHEMA_KEYS)
    ]


def validate_settings_schema(schema: list[dict]) -> list[dict]:
    """Check a whole list of declared settings; return it normalised, or raise ValidationError.

    Each item has `name`, `label`, `type` and optionally `description`, `required` and
    `sensitive`; names are camelCase and unique.
    """
    if len(schema) > SETTING_LIMIT:
        raise ValidationError(
            {"settings": f"A function can have at most {SETTING_LIMIT} settings."}
        )
    cleaned: list[dict] = []
    seen: set[str] = set()
    for index, item in enumerate(schema):
        name = str(item.get("name", "")).strip()
        label = str(item.get("label", "")).strip()
        where = f"Setting {index + 1}"
        if not re.match(SETTING_NAME_PATTERN, name) or len(name) > SETTING_NAME_MAX_LENGTH:
            raise ValidationError(
                {
                    "settings": f"{where}: the name must be camelCase letters and digits, "
                    "starting with a lowercase letter, at most 100 characters."
                }
            )
        if name in seen:
            raise ValidationError({"settings": f"{where}: another setting is named “{name}”."})
        if not label or len(label) > SETTING_LABEL_MAX_LENGTH:
            raise ValidationError({"settings": f"{where}: the label needs 1 to 100 characters."})
        if item.get("type") not in SettingType.values:
            raise ValidationError(
                {"settings": f"{where}: the type must be one of {', '.join(SettingType.values)}."}
            )
        seen.add(name)
        cleaned.append(
            {
                "name": name,
                "label": label,
                "description": str(item.get("description") or "").strip(),
                "type": item["type"],
                "required": bool(item.get("required", False)),
                "sensitive": bool(item.get("sensitive", False)),
            }
        )
    return cleaned


def function_settings_sync(*, function: Function, schema: list[dict]) -> None:
    """Make the function's setting rows match a checked schema, keeping fitting test values.

    The schema is trusted: one `validate_settings_schema` returned, or a version recorded.
    """
    existing = {
        setting.name: setting for setting in FunctionSetting.objects.filter(function=function)
    }
    wanted = {item["name"] for item in schema}
    parked = dict(function.parked_test_values)
    for name, removed in existing.items():
        if name not in wanted and removed.has_test_value:
            parked[name] = {
                "type": removed.type,
                "sensitive": removed.sensitive,
                "value": removed.test_value,
                "encrypted": removed.test_value_encrypted,
            }
    FunctionSetting.objects.filter(function=function).exclude(name__in=wanted).delete()
    for position, item in enumerate(schema):
        setting = existing.get(item["name"])
        if setting is None:
            kept = parked.pop(item["name"], None)
            fits = kept and (kept["type"], kept["sensitive"]) == (item["type"], item["sensitive"])
            FunctionSetting.objects.create(
                function=function,
                position=position,
                **{k: item[k] for k in SCHEMA_KEYS},
                test_value=kept["value"] if fits else None,
                test_value_encrypted=kept["encrypted"] if fits else "",
            )
            continue
        changed_kind = setting.type != item["type"] or setting.sensitive != item["sensitive"]
        for key in SCHEMA_KEYS[1:]:
            setattr(setting, key, item[key])
        setting.position = position
        fields = ["position", *SCHEMA_KEYS[1:]]
        if changed_kind:
            # As setting_update does: a value typed for another type, or a plain value of a
            # setting that became sensitive, must not survive. Values are only ever dropped.
            setting.test_value = None
            setting.test_value_encrypted = ""
            fields += ["test_value", "test_value_encrypted"]
        setting.save(update_fields=fields)
    if parked != function.parked_test_values:
        function.parked_test_values = parked
        Function.objects.filter(pk=function.pk).update(parked_test_values=parked)
