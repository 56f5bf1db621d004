"""Template booleans from the policy, for pages that have a workspace."""

from __future__ import annotations

from django.http import HttpRequest


def workspace_access(request: HttpRequest) -> dict[str, bool]:
    """`can_manage_workspace`: whether to show the owners' links (Members, Audit trail)."""
    access = getattr(request, "access", None)
    return {"can_manage_workspace": bool(access is not None and access.can("workspace.manage"))}
