"""Resolve the workspace named in a URL for the signed-in member."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from functions_ui.permissions.policy import MemberAccess, member_access
from functions_ui.workspaces.models import Workspace
from functions_ui.workspaces.selectors import workspace_get_for_user


class WorkspaceRequest(HttpRequest):
    """What a workspace page's view is given: a signed-in user, the workspace of the URL and
    what that member may do there (set by `workspace_view`), and htmx's request details."""

    user: User
    workspace: Workspace
    access: MemberAccess
    htmx: HtmxDetails


def workspace_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require login, load `request.workspace` and `request.access`, or answer 404."""

    @login_required
    @wraps(view)
    def wrapper(request: Any, workspace_slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        workspace = workspace_get_for_user(user=request.user, slug=workspace_slug)
        access = member_access(request.user, workspace)
        if not access.is_member:
            raise Http404("No such workspace.")
        request.workspace = workspace
        request.access = access
        return view(request, *args, **kwargs)

    return wrapper
