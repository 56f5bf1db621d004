"""Parsing the editor's test inputs; every problem becomes a message a person can act on."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from catalog.forms import normalize_newlines
from catalog.models import SettingType
from functions_ui.runtime.requests import source_request
from functions_ui.runtime.types import SOURCE_BODY_LIMIT as WEBHOOK_BODY_MAX_BYTES

EVENT_MAX_BYTES = 512 * 1024


def parse_json_text(text: str, *, what: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError as error:
        raise forms.ValidationError(f"The {what} is nested too deeply to read.") from error
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        message = f"The {what} is not valid JSON: {error.msg} ({where})."
        raise forms.ValidationError(message) from error


class RunForm(forms.Form):
    """One test run: the code in the editor plus the test input of the function's type."""

    code = forms.CharField(required=False, strip=False)
    # Destination and insert functions
    event = forms.CharField(required=False, strip=False)
    # Source functions
    body = forms.CharField(required=False, strip=False)
    query = forms.CharField(required=False, max_length=2048)
    # Outbound requests
    mock_fetch = forms.BooleanField(required=False)
    mock_status = forms.IntegerField(required=False, min_value=100, max_value=599)
    mock_body = forms.CharField(required=False, strip=False, max_length=64 * 1024)

    def __init__(self, *args: Any, function_type: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.function_type = function_type

    def clean_code(self) -> str:
        return normalize_newlines(self.cleaned_data["code"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.function_type == "source":
            data["payload"] = self._request_payload(data)
        else:
            text = data.get("event") or ""
            if len(text.encode()) > EVENT_MAX_BYTES:
                raise forms.ValidationError("The event is larger than 512 KiB.")
            if not text.strip():
                raise forms.ValidationError("Enter an event to test with.")
            event = parse_json_text(text, what="event")
            if not isinstance(event, dict | list) or (
                isinstance(event, list) and not all(isinstance(e, dict) for e in event)
            ):
                raise forms.ValidationError(
                    "The event must be a JSON object, or an array of objects for onBatch."
                )
            data["payload"] = event
        return data

    def _request_payload(self, data: dict[str, Any]) -> dict[str, Any]:
        body = data.get("body") or ""
        if len(body.encode()) > WEBHOOK_BODY_MAX_BYTES:
            raise forms.ValidationError("The request body is larger than the 512 KiB limit.")
        names = self.data.getlist("header_name") if hasattr(self.data, "getlist") else []
        values = self.data.getlist("header_value") if hasattr(self.data, "getlist") else []
        headers = {
            name.strip(): value for name, value in zip(names, values, strict=False) if name.strip()
        }
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if "json" in content_type.lower() and body.strip():
            parse_json_text(body, what="request body")
        return source_request(body=body, headers=headers, query=data.get("query") or "")


class SettingForm(forms.Form):
    """Add or edit a setting; its name is derived from the label by the service."""

    label = forms.CharField(
        max_length=100, error_messages={"required": "Give the setting a label."}
    )
    type = forms.ChoiceField(choices=SettingType.choices, initial=SettingType.STRING)
    description = forms.CharField(required=False, max_length=500)
    required = forms.BooleanField(required=False)
    sensitive = forms.BooleanField(required=False)


class SavedPayloadForm(forms.Form):
    name = forms.CharField(max_length=80, error_messages={"required": "Name the payload."})
    # Named as the API and the page post it; mypy reads it as the form's own `data`.
    data = forms.CharField(strip=False)  # type: ignore[assignment]

    def clean_data(self) -> Any:
        return parse_json_text(self.cleaned_data["data"], what="payload")
