"""Reads about workspaces."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404

from functions_ui.workspaces.models import Workspace


def workspaces_for_user(*, user: User) -> QuerySet[Workspace]:
    """The workspaces a user is a member of."""
    return Workspace.objects.filter(memberships__user=user).order_by("name")


def workspace_get_for_user(*, user: User, slug: str) -> Workspace:
    """A workspace the user belongs to; any other is a 404, as if it did not exist."""
    workspace = workspaces_for_user(user=user).filter(slug=slug).first()
    if workspace is None:
        raise Http404("No such workspace.")
    return workspace
