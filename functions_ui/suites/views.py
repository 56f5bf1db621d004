"""Behaviour pages: what two versions do with the same payloads (partials the compare page, the
restore confirmation and Save & Deploy load)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Function
from catalog.selectors import function_get_for_user
from functions_ui.runtime import RuntimeUnavailable
from functions_ui.suites import behaviour
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
