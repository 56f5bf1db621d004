"""The editor page and its partials: save, run, settings, templates, saved payloads, capture."""

from __future__ import annotations

import contextlib
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from catalog import services as catalog_services
from catalog.forms import add_service_errors
from catalog.models import Function
from catalog.selectors import function_get_for_user
from catalog.starters import STARTERS_BY_SLUG
from functions_ui.editor import selectors, services
from functions_ui.editor.forms import (
    RunForm,
    SavedPayloadForm,
    SettingForm,
)
from functions_ui.editor.models import SavedPayload, TestWebhook
from functions_ui.editor.samples import SAMPLE_EVENTS, sample_batch_json, sample_event_json
from functions_ui.permissions.policy import SAVE_AND_DEPLOY, denied_reason, first_denied
from functions_ui.runtime import check_code
from functions_ui.runtime.requests import WebhookRefused, read_webhook
from functions_ui.runtime.types import CodeProblem, RuntimeUnavailable
from functions_ui.workspaces.decorators import WorkspaceRequest, workspace_view
from versioning import selectors as version_selectors
from versioning import services as version_services
from versioning.diffing import DiffOptions, compute_diff, unified_rows


def _function(
    request: WorkspaceRequest, function_id: str, action: str = "function.view"
) -> Function:
    return function_get_for_user(
        workspace=request.workspace, access=request.access, function_id=function_id, action=action
    )


def _editor_url(function: Function, anchor: str = "") -> str:
    url = reverse("editor:edit", args=[function.workspace.slug, function.public_id])
    return f"{url}#{anchor}" if anchor else url


@require_GET
@workspace_view
def edit(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id)
    can_edit = request.access.can("function.edit", function)
    webhook = (
        selectors.test_webhook_of(function=function)
        if function.type_slug == "source" and can_edit
        else None
    )
    latest = version_selectors.latest_version(function=function)
    context = {
        "function": function,
        "latest": latest,
        "undo": version_selectors.undo_offer(
            session=request.session, function=function, latest_id=latest.id if latest else None
        ),
        "can_edit": can_edit,
        "edit_denied_reason": denied_reason("function.edit"),
        "save_and_deploy_denied_reason": first_denied(request.access, SAVE_AND_DEPLOY, function),
        **selectors.settings_panel_context(function=function, access=request.access),
        **selectors.test_panel_context(
            request=request, function=function, access=request.access, webhook=webhook
        ),
        **selectors.templates_panel_context(function=function),
    }
    return render(request, "editor/editor.html", context)


@require_POST
@workspace_view
def save(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id, "function.edit")
    code = request.POST.get("code", "").replace("\r\n", "\n")
    base_version_id = request.POST.get("base_version_id") or None
    note = request.POST.get("note", "").strip()[:200]
    try:
        version = version_services.version_save(
            function=function,
            user=request.user,
            code=code,
            base_version_id=base_version_id,
            note=note,
        )
    except version_services.StaleVersionError as stale:
        diff = compute_diff(stale.latest.code, code, DiffOptions())
        context = {
            "function": function,
            "latest": stale.latest,
            "rows": unified_rows(diff),
            "diff": diff,
        }
        return render(
            request, "editor/_conflict.html", context, status=200 if request.htmx else 409
        )
    except ValidationError as error:
        context = {"function": function, "errors": error.messages}
        return render(
            request, "editor/_save_status.html", context, status=200 if request.htmx else 422
        )
    if not request.htmx:
        if version:
            messages.success(request, f"Saved as version {version.number}.")
        else:
            messages.info(request, "No changes to save.")
        return redirect(_editor_url(function))
    latest = version or version_selectors.latest_version(function=function)
    context = {
        "function": function,
        "version": version,
        "latest": latest,
        "unchanged": version is None,
        "problems": _problems(function, code),
    }
    response = render(request, "editor/_save_status.html", context)
    if version:
        trigger_client_event(response, "version-saved", {"versionId": version.public_id})
    return response


@require_POST
@workspace_view
def run(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id, "function.edit")
    form = RunForm(request.POST, function_type=function.type_slug)
    context: dict = {"function": function}
    missing = services.missing_required_settings(function=function)
    if missing:
        context["input_errors"] = [f"Fill in the test value of: {', '.join(missing)}."]
    elif not form.is_valid():
        context["input_errors"] = [e for errors in form.errors.values() for e in errors]
    else:
        data = form.cleaned_data
        try:
            context["result"] = services.test_run(
                function=function,
                code=data["code"],
                payload=data["payload"],
                mock_fetch=data["mock_fetch"],
                mock_status=data["mock_status"],
                mock_body=data["mock_body"] if data["mock_body"] else None,
            )
        except RuntimeUnavailable as error:
            context["input_errors"] = [f"The function could not be run now: {error}"]
        context["is_batch"] = isinstance(data["payload"], list)
    return render(request, "editor/_run_result.html", context, status=200)


# Settings --------------------------------------------------------------------------------


def _settings_response(request: WorkspaceRequest, function: Function, **extra) -> HttpResponse:
    if not request.htmx:
        return redirect(_editor_url(function, "settings"))
    context = {
        **selectors.settings_panel_context(function=function, access=request.access),
        **extra,
    }
    response = render(request, "editor/_settings_panel.html", context)
    trigger_client_event(response, "settings-changed")
    return response


@require_GET
@workspace_view
def settings_panel(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id)
    context = selectors.settings_panel_context(function=function, access=request.access)
    return render(request, "editor/_settings_panel.html", context)


@require_POST
@workspace_view
def setting_add(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id, "function.edit")
    form = SettingForm(request.POST)
    if form.is_valid():
        try:
            catalog_services.setting_create(function=function, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
    if form.errors:
        return _settings_response(request, function, add_form=form)
    return _settings_response(request, function)


@require_http_methods(["GET", "POST"])
@workspace_view
def setting_edit(request: WorkspaceRequest, function_id: str, setting_id: int) -> HttpResponse:
    function = _function(request, function_id, "function.edit")
    setting = get_object_or_404(function.settings, pk=setting_id)
    if request.method == "GET":
        form = SettingForm(
            initial={
                "label": setting.label,
                "type": setting.type,
                "description": setting.description,
                "required": setting.required,
                "sensitive": setting.sensitive,
            }
        )
        return _settings_response(request, function, edit_setting=setting, edit_form=form)
    form = SettingForm(request.POST)
    if form.is_valid():
        try:
            catalog_services.setting_update(setting=setting, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
    if form.errors:
        return _settings_response(request, function, edit_setting=setting, edit_form=form)
    return _settings_response(request, function)


@require_POST
@workspace_view
def setting_delete(request: WorkspaceRequest, function_id: str, setting_id: int) -> HttpResponse:
    function = _function(request, function_id, "function.edit")
    catalog_services.setting_delete(setting=get_object_or_404(function.settings, pk=setting_id))
    return _settings_response(request, function)


@require_POST
@workspace_view
def setting_move(request: WorkspaceRequest, function_id: str, setting_id: int) -> HttpResponse:
    function = _function(request, function_id, "function.edit")
    offset = -1 if request.POST.get("direction") == "up" else 1
    catalog_services.setting_move(
        setting=get_object_or_404(function.settings, pk=setting_id), offset=offset
    )
    return _settings_response(request, function)


@require_GET
@workspace_view
def test_values(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id)
    context = selectors.settings_panel_context(function=function, access=request.access)
    return render(request, "editor/_test_values.html", context)


@require_POST
@workspace_view
def setting_test_value(
    request: WorkspaceRequest, function_id: str, setting_id: int
) -> HttpResponse:
    function = _function(request, function_id, "function.edit")
    setting = get_object_or_404(function.settings, pk=setting_id)
    errors = {}
    try:
        # A checkbox posts a hidden "false" before its own value; the last one wins.
        values = request.POST.getlist("value")
        catalog_services.setting_test_value_set(setting=setting, raw=values[-1] if values else None)
    except ValidationError as error:
        errors[setting.pk] = error.messages
    if not request.htmx:
        return redirect(_editor_url(function, "test"))
    context = {
        **selectors.settings_panel_context(function=function, access=request.access),
        "value_errors": errors,
    }
    return render(request, "editor/_test_values.html", context)


@require_GET
@workspace_view
def setting_name_preview(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    _function(request, function_id)
    name = catalog_services.setting_name_from_label(request.GET.get("label", ""))
    return render(request, "editor/_setting_name_preview.html", {"name": name})


# Test inputs -------------------------------------------------------------------------------


@require_GET
@workspace_view
def sample_event(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    _function(request, function_id)
    event_type = request.GET.get("type", "track")
    if event_type == "batch":
        text = sample_batch_json()
    elif event_type in SAMPLE_EVENTS:
        text = sample_event_json(event_type)
    else:
        raise Http404("No such sample.")
    return render(request, "editor/_event_input.html", {"event_json": text})


@require_GET
@workspace_view
def header_row(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    _function(request, function_id)
    return render(request, "editor/_header_row.html", {"name": "", "value": ""})


@require_POST
@workspace_view
def payload_save(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id, "function.edit")
    form = SavedPayloadForm(request.POST)
    errors = []
    if form.is_valid():
        try:
            services.payload_save(
                function=function,
                user=request.user,
                name=form.cleaned_data["name"],
                kind=selectors.payload_kind_for(function),
                data=form.cleaned_data["data"],
            )
        except ValidationError as error:
            errors = error.messages
    else:
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
    return render(
        request,
        "editor/_saved_payloads.html",
        {
            "function": function,
            "saved_payloads": selectors.saved_payloads(function=function),
            "payload_errors": errors,
            "can_run": True,
        },
    )


@require_POST
@workspace_view
def payload_delete(request: WorkspaceRequest, function_id: str, payload_id: int) -> HttpResponse:
    function = _function(request, function_id, "function.edit")
    services.payload_delete(payload=get_object_or_404(function.saved_payloads, pk=payload_id))
    return render(
        request,
        "editor/_saved_payloads.html",
        {
            "function": function,
            "saved_payloads": selectors.saved_payloads(function=function),
            "can_run": True,
        },
    )


@require_POST
@workspace_view
def starter_extras(request: WorkspaceRequest, function_id: str, starter_slug: str) -> HttpResponse:
    """A template's test payloads and the settings its code reads, added to the function."""
    function = _function(request, function_id, "function.edit")
    starter = STARTERS_BY_SLUG.get(starter_slug)
    if starter is None or starter.resource_type != function.resource_type:
        raise Http404("No such template for this function.")
    try:
        added, declared = services.starter_extras_add(
            function=function, starter=starter, user=request.user
        )
    except ValidationError as error:
        notice = " ".join(error.messages)
    else:
        notice = f"Added {added} test payload{'s' if added != 1 else ''}" + (
            f" and the settings {', '.join(declared)}." if declared else "."
        )
    context = {
        "function": function,
        "notice": notice,
        "saved_payloads": selectors.saved_payloads(function=function),
        "can_run": True,
        "oob": True,
    }
    response = render(request, "editor/_starter_extras.html", context)
    trigger_client_event(response, "settings-changed")
    return response


@require_GET
@workspace_view
def payload_load(request: WorkspaceRequest, function_id: str, payload_id: int) -> HttpResponse:
    function = _function(request, function_id)
    payload: SavedPayload = get_object_or_404(function.saved_payloads, pk=payload_id)
    if function.type_slug == "source":
        data = payload.data if isinstance(payload.data, dict) else {}
        context = {
            "function": function,
            "headers": list((data.get("headers") or {}).items()),
            "body_json": data.get("body", ""),
            "query": data.get("query", ""),
        }
        return render(request, "editor/_request_builder.html", context)
    return render(
        request, "editor/_event_input.html", {"event_json": json.dumps(payload.data, indent=2)}
    )


# Webhook capture ---------------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook_capture(request: HttpRequest, token: str) -> HttpResponse:
    """A function's test webhook: the next POST fills the request builder of its editor."""
    webhook = TestWebhook.objects.filter(token=token).first()
    if webhook is None:
        return JsonResponse({"error": "Unknown webhook."}, status=404)
    try:
        incoming = read_webhook(request, keep_credentials=False)
    except WebhookRefused as refused:
        return JsonResponse({"error": str(refused)}, status=refused.status)
    services.capture_request(
        webhook=webhook, headers=incoming.headers, query=incoming.query, body=incoming.body
    )
    return JsonResponse({"status": "captured"})


def _problems(function: Function, code: str) -> list[CodeProblem]:
    """What would stop the saved code from deploying (syntax, missing handler), said at Save.

    The save stands either way: a version is a draft until it is deployed.
    """
    try:
        return check_code(
            code=code, function_type=function.type_slug, workspace=str(function.workspace_id)
        )
    except RuntimeUnavailable:
        return []


@require_POST
@workspace_view
def test_webhook_create(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """Give a source function its test webhook URL (the editor's GET only reads it)."""
    function = _function(request, function_id, "function.edit")
    if function.type_slug != "source":
        raise Http404("Only source functions receive webhooks.")
    webhook = services.test_webhook_get_or_create(function=function)
    context = {
        "function": function,
        "can_edit": True,
        "capture_url": selectors.capture_url(request, webhook),
        "latest_capture_id": 0,
    }
    return render(request, "editor/_capture_box.html", context)


@require_GET
@workspace_view
def capture_poll(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """Answer 204 until a request newer than `after` arrives, then the filled request builder."""
    function = _function(request, function_id, "function.edit")
    webhook = selectors.test_webhook_of(function=function)
    capture = selectors.latest_capture(webhook=webhook) if webhook else None
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        after = 0
    if capture is None or capture.pk <= after:
        return HttpResponse(status=204)
    body = capture.body
    with contextlib.suppress(ValueError):
        body = json.dumps(json.loads(body), indent=2)
    context = {
        "function": function,
        "headers": list(capture.headers.items()),
        "body_json": body,
        "query": capture.query,
        "captured": capture,
    }
    response = render(request, "editor/_request_builder.html", context)
    trigger_client_event(response, "request-captured", {"captureId": capture.pk})
    return response
