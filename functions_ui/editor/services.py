"""Writes of the editor: test runs, saved payloads and captured webhooks."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from catalog.models import Function, SettingType
from catalog.secrets import decrypt_value, secret_strings
from catalog.services import setting_create, setting_test_value_set
from catalog.starters import Starter
from functions_ui.editor.models import CapturedRequest, PayloadKind, SavedPayload, TestWebhook
from functions_ui.runtime import MockResponse, RunOptions, RunResult, run_function

CAPTURES_KEPT = 5


@sensitive_variables("values", "value", "secrets")
def test_settings(*, function: Function) -> tuple[dict[str, Any], list[str]]:
    """The settings a test run gets, and the secret strings to mask in its output."""
    values: dict[str, Any] = {}
    secrets: list[str] = []
    for setting in function.settings.all():
        if setting.sensitive:
            if setting.test_value_encrypted:
                value = decrypt_value(setting.test_value_encrypted)
                values[setting.name] = value
                secrets.extend(secret_strings(value))
        elif setting.test_value is not None:
            values[setting.name] = setting.test_value
        elif setting.type == SettingType.BOOLEAN:
            # The switch shows an unset Boolean as off: the code gets false, not undefined.
            values[setting.name] = False
    return values, secrets


def missing_required_settings(*, function: Function) -> list[str]:
    """Labels of required settings without a test value: Run waits for them."""
    return [s.label for s in function.settings.all() if s.required and not s.has_test_value]


@sensitive_variables("settings", "secrets", "options")
def test_run(
    *,
    function: Function,
    code: str,
    payload: Any,
    mock_fetch: bool = True,
    mock_status: int | None = None,
    mock_body: str | None = None,
) -> RunResult:
    """Run the code in the editor (saved or not) against a test input and the test settings."""
    settings, secrets = test_settings(function=function)
    options = RunOptions(
        mock_fetch=mock_fetch,
        mock_response=MockResponse(
            status=mock_status or 200, body=mock_body if mock_body is not None else "{}"
        ),
        secret_values=secrets,
        workspace=str(function.workspace_id),
        function_key=function.public_id,
    )
    return run_function(
        code=code,
        function_type=function.type_slug,
        payload=payload,
        settings=settings,
        options=options,
    )


def payload_save(
    *, function: Function, user: User, name: str, kind: str, data: Any
) -> SavedPayload:
    """Save a named test input, replacing one of the same name."""
    try:
        with transaction.atomic():
            payload, _ = SavedPayload.objects.update_or_create(
                function=function,
                name=name.strip(),
                defaults={"kind": kind, "data": data, "created_by": user},
            )
    except IntegrityError as error:
        raise ValidationError({"name": "A payload with this name already exists."}) from error
    return payload


def payload_delete(*, payload: SavedPayload) -> None:
    payload.delete()


def test_webhook_get_or_create(*, function: Function) -> TestWebhook:
    webhook, _ = TestWebhook.objects.get_or_create(function=function)
    return webhook


@transaction.atomic
def capture_request(
    *, webhook: TestWebhook, headers: dict[str, str], query: str, body: str
) -> CapturedRequest:
    """Keep a request sent to a test webhook; older ones beyond the last few are dropped."""
    capture = CapturedRequest.objects.create(
        webhook=webhook, headers=headers, query=query[:2048], body=body
    )
    stale = webhook.captures.order_by("-received_at", "-id").values_list("pk", flat=True)[
        CAPTURES_KEPT:
    ]
    CapturedRequest.objects.filter(pk__in=list(stale)).delete()
    return capture


@transaction.atomic
def starter_extras_add(
    *, function: Function, starter: Starter, user: User
) -> tuple[int, list[str]]:
    """A template's test payloads, and the settings its code reads that the function lacks
    (an example test value where the template gives one). Returns (payloads added or
    replaced, names of the settings declared)."""
    existing = set(function.settings.values_list("name", flat=True))
    declared = []
    for item in starter.settings:
        if item["name"] in existing:
            continue
        setting = setting_create(
            function=function,
            label=item["label"],
            type=item["type"],
            description=item.get("description", ""),
            required=item.get("required", False),
            sensitive=item.get("sensitive", False),
        )
        if "example" in item and not setting.sensitive:
            setting_test_value_set(setting=setting, raw=item["example"])
        declared.append(setting.name)
    kind = PayloadKind.for_type(function.type_slug)
    for name, data in starter.payloads:
        payload_save(
            function=function, user=user, name=f"{starter.name}: {name}"[:80], kind=kind, data=data
        )
    return len(starter.payloads), declared
