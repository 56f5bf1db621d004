"""Resolve the workspace named in a URL for the signed-in member."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from functions_ui.permissions.policy import member_access
from functions_ui.workspaces.selectors import workspace_get_for_user


def workspace_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require login, load `request.workspace` and `request.access`, or answer 404."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, workspace_slug: str, *args, **kwargs) -> HttpResponse:
        workspace = workspace_get_for_user(user=request.user, slug=workspace_slug)
        access = member_access(request.user, workspace)
        if not access.is_member:
            raise Http404("No such workspace.")
        request.workspace = workspace
        request.access = access
        return view(request, *args, **kwargs)

    return wrapper
