"""Pick a workspace; workspace settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from functions_ui.deploys.selectors import unhealthy_instances
from functions_ui.permissions.policy import require
from functions_ui.workspaces import services
from functions_ui.workspaces.decorators import WorkspaceRequest, workspace_view
from functions_ui.workspaces.forms import HealthSettingsForm
from functions_ui.workspaces.selectors import workspaces_for_user


@require_GET
@login_required
def workspace_pick(request: WorkspaceRequest) -> HttpResponse:
    workspaces = list(workspaces_for_user(user=request.user))
    if len(workspaces) == 1 and "all" not in request.GET:
        return redirect(workspaces[0])
    return render(request, "workspaces/pick.html", {"workspaces": workspaces})


@require_http_methods(["GET", "POST"])
@workspace_view
def health_settings(request: WorkspaceRequest) -> HttpResponse:
    """The thresholds of the health check of the workspace's deployed instances."""
    require(request.access, "workspace.manage")
    workspace = request.workspace
    initial = {name: getattr(workspace, name) for name in services.HEALTH_FIELDS}
    form = HealthSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.workspace_health_update(
            workspace=workspace, user=request.user, values=form.cleaned_data
        )
        messages.success(request, "Health check saved.")
        return redirect("workspaces:health", workspace_slug=workspace.slug)
    context = {"form": form, "unhealthy": unhealthy_instances(workspace=workspace)}
    status = 422 if request.method == "POST" else 200
    return render(request, "workspaces/health_settings.html", context, status=status)


@require_POST
@workspace_view
def deploy_settings(request: WorkspaceRequest) -> HttpResponse:
    """Whether deploys whose tests fail are refused."""
    require(request.access, "workspace.manage")
    block = request.POST.get("block_failing_deploys") == "on"
    services.workspace_block_failing_deploys_set(
        workspace=request.workspace, user=request.user, block=block
    )
    messages.success(
        request,
        "Deploys whose tests fail are refused now."
        if block
        else "Deploys no longer wait on tests.",
    )
    return redirect("workspaces:health", workspace_slug=request.workspace.slug)
