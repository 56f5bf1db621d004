"""Behaviour pages: what two versions do with the same payloads (partials the compare page, the
restore confirmation and Save & Deploy load)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Function
from catalog.selectors import function_get_for_user
from functions_ui.deploys.selectors import instance_get_for_user
from functions_ui.editor.selectors import saved_payloads
from functions_ui.runtime import RuntimeUnavailable
from functions_ui.suites import behaviour, services
from functions_ui.workspaces.decorators import WorkspaceRequest, workspace_view
from versioning.selectors import (
    deployed_version,
    latest_version,
    previous_version,
    version_get_for_function,
)


def _function(request: WorkspaceRequest, function_id: str, action: str = "function.view"):
    return function_get_for_user(
        workspace=request.workspace, access=request.access, function_id=function_id, action=action
    )


def _render(
    request: WorkspaceRequest, function: Function, left_label: str, right_label: str, **codes: str
) -> HttpResponse:
    payloads = behaviour.saved_payloads(function=function)
    context: dict[str, object] = {
        "function": function,
        "left_label": left_label,
        "right_label": right_label,
        "payload_count": len(payloads),
    }
    try:
        comparisons = behaviour.behaviour_compare(
            function=function,
            left_code=codes["left"],
            right_code=codes["right"],
            payloads=payloads,
        )
    except RuntimeUnavailable as error:
        context["problem"] = f"The runtime is busy: {error}"
    else:
        context["comparisons"] = comparisons
        context["differing"] = sum(1 for c in comparisons if not c.same)
    return render(request, "suites/_behaviour.html", context)


@require_GET
@workspace_view
def behaviour_versions(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """Two saved versions (`left`, by default LATEST; `right`, by default the one before it) run
    on the function's saved payloads."""
    function = _function(request, function_id)
    latest = latest_version(function=function)
    left_id = request.GET.get("left") or (latest.id if latest else "")
    left = version_get_for_function(function=function, version_id=left_id)
    if request.GET.get("right"):
        right = version_get_for_function(function=function, version_id=request.GET["right"])
    else:
        right = previous_version(version=left) or left
    return _render(
        request, function, f"v{left.number}", f"v{right.number}", left=left.code, right=right.code
    )


@require_POST
@workspace_view
def behaviour_draft(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """The editor's code (saved or not) against DEPLOYED: what Save & Deploy would change."""
    function = _function(request, function_id, "function.edit")
    deployed = deployed_version(function=function)
    if deployed is None:
        return render(
            request, "suites/_behaviour.html", {"function": function, "nothing_deployed": True}
        )
    return _render(
        request,
        function,
        f"v{deployed.number} (DEPLOYED)",
        "your code",
        left=deployed.code,
        right=request.POST.get("code", ""),
    )


# Test suites -------------------------------------------------------------------------------


def _payloads_part(
    request: WorkspaceRequest, function: Function, errors: list[str] | None = None
) -> HttpResponse:
    context = {
        "function": function,
        "saved_payloads": saved_payloads(function=function),
        "payload_errors": errors or [],
        "can_run": True,
    }
    return render(request, "editor/_saved_payloads.html", context)


@require_POST
@workspace_view
def expectation_capture(
    request: WorkspaceRequest, function_id: str, payload_id: int
) -> HttpResponse:
    """ "Save current output as expected": run the payload through the editor's code."""
    function = _function(request, function_id, "function.edit")
    payload = get_object_or_404(function.saved_payloads, pk=payload_id)
    try:
        services.expectation_capture(payload=payload, code=request.POST.get("code", ""))
    except RuntimeUnavailable as error:
        return _payloads_part(request, function, [f"The function could not be run now: {error}"])
    return _payloads_part(request, function)


@require_POST
@workspace_view
def expectation_smoke(request: WorkspaceRequest, function_id: str, payload_id: int) -> HttpResponse:
    """Make a saved payload a smoke test: it passes when the run succeeds."""
    function = _function(request, function_id, "function.edit")
    services.expectation_smoke(payload=get_object_or_404(function.saved_payloads, pk=payload_id))
    return _payloads_part(request, function)


@require_POST
@workspace_view
def expectation_clear(request: WorkspaceRequest, function_id: str, payload_id: int) -> HttpResponse:
    function = _function(request, function_id, "function.edit")
    services.expectation_clear(payload=get_object_or_404(function.saved_payloads, pk=payload_id))
    return _payloads_part(request, function)


@require_POST
@workspace_view
def suite_check_draft(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """Run tests: the function's suite on the editor's code, saved or not."""
    function = _function(request, function_id, "function.edit")
    context: dict[str, object] = {"function": function}
    try:
        context["suite"] = services.suite_check(
            function=function, code=request.POST.get("code", "")
        )
    except RuntimeUnavailable as error:
        context["problem"] = f"The function could not be run now: {error}"
    return render(request, "suites/_suite_result.html", context)


@require_POST
@workspace_view
def suite_run_version(request: WorkspaceRequest, function_id: str, version_id: str) -> HttpResponse:
    """Run (again) the suite on a saved version now, and show its badge."""
    function = _function(request, function_id)
    version = version_get_for_function(function=function, version_id=version_id)
    run = services.suite_run(version=version)
    return render(
        request, "suites/_suite_badge.html", {"function": function, "version": version, "run": run}
    )


# Replay of real events ---------------------------------------------------------------------


@require_GET
@workspace_view
def replay(request: WorkspaceRequest, instance_id: str) -> HttpResponse:
    """An instance's last real inputs through a candidate version, beside the one it runs."""
    instance = instance_get_for_user(
        workspace=request.workspace, access=request.access, instance_id=instance_id
    )
    function = instance.function
    latest = latest_version(function=function)
    version_id = request.GET.get("version") or (latest.id if latest else "")
    candidate = version_get_for_function(function=function, version_id=version_id)
    try:
        count = int(request.GET.get("count", "100"))
    except ValueError:
        count = 100
    context: dict[str, object] = {
        "instance": instance,
        "function": function,
        "candidate": candidate,
        "running": instance.version,
        "count": max(1, min(count, behaviour.REPLAY_MAX)),
    }
    try:
        context["replay"] = behaviour.replay(
            instance=instance, candidate_code=candidate.code, limit=count
        )
    except RuntimeUnavailable as error:
        context["problem"] = f"The runtime is busy: {error}"
    return render(request, "suites/_replay.html", context)
