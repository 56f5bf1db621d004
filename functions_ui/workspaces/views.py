"""Pick a workspace."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from functions_ui.workspaces.decorators import WorkspaceRequest
from functions_ui.workspaces.selectors import workspaces_for_user


@require_GET
@login_required
def workspace_pick(request: WorkspaceRequest) -> HttpResponse:
    workspaces = list(workspaces_for_user(user=request.user))
    if len(workspaces) == 1 and "all" not in request.GET:
        return redirect(workspaces[0])
    return render(request, "workspaces/pick.html", {"workspaces": workspaces})
