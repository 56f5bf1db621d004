"""Reads for the editor page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from catalog.models import Function, SettingType
from catalog.starters import starters_for
from functions_ui.editor.models import CapturedRequest, PayloadKind, SavedPayload, TestWebhook
from functions_ui.editor.samples import (
    SAMPLE_EVENTS,
    sample_event_json,
    sample_request_body_json,
)
from functions_ui.editor.services import missing_required_settings
from functions_ui.permissions.policy import MemberAccess, denied_reason


def payload_kind_for(function: Function) -> str:
    return PayloadKind.for_type(function.type_slug)


def saved_payloads(*, function: Function) -> list[SavedPayload]:
    return list(function.saved_payloads.filter(kind=payload_kind_for(function)))


def test_webhook_of(*, function: Function) -> TestWebhook | None:
    """The source function's test webhook, if one was made."""
    return TestWebhook.objects.filter(function=function).first()


def latest_capture(*, webhook: TestWebhook) -> CapturedRequest | None:
    return webhook.captures.order_by("-received_at", "-id").first()


def capture_url(request: HttpRequest, webhook: TestWebhook) -> str:
    return request.build_absolute_uri(reverse("webhook_capture", args=[webhook.token]))


def settings_panel_context(*, function: Function, access: MemberAccess) -> dict[str, Any]:
    function_settings = list(function.settings.all())
    return {
        "function": function,
        "function_settings": function_settings,
        "setting_types": SettingType.choices,
        "can_edit": access.can("function.edit", function),
        "edit_denied_reason": denied_reason("function.edit"),
        "missing_required": [
            s.label for s in function_settings if s.required and not s.has_test_value
        ],
    }


def test_panel_context(
    *, request: HttpRequest, function: Function, access: MemberAccess, webhook: TestWebhook | None
) -> dict[str, Any]:
    is_source = function.type_slug == "source"
    capture = latest_capture(webhook=webhook) if webhook else None
    return {
        "is_source": is_source,
        "sample_types": list(SAMPLE_EVENTS),
        "event_json": sample_event_json("track"),
        "body_json": sample_request_body_json(),
        "headers": [("Content-Type", "application/json")],
        "query": "",
        "saved_payloads": saved_payloads(function=function),
        "capture_url": capture_url(request, webhook) if webhook else "",
        "latest_capture_id": capture.pk if capture else 0,
        "can_run": access.can("function.edit", function),
        "run_denied_reason": (
            "Running edited code with the test settings needs the Functions Admin role."
        ),
        "missing_required": missing_required_settings(function=function),
    }


def templates_panel_context(*, function: Function) -> dict[str, Any]:
    return {"starters": starters_for(function.resource_type)}
