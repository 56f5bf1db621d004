"""Writes about workspaces and their members."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction

from functions_ui.permissions.models import RoleGrant
from functions_ui.workspaces.models import Membership, Workspace


def workspace_create(*, slug: str, name: str) -> Workspace:
    """Create a workspace."""
    workspace = Workspace(slug=slug, name=name)
    workspace.full_clean()
    workspace.save()
    return workspace


@transaction.atomic
def membership_grant(*, workspace: Workspace, user: User, roles: Iterable[str]) -> Membership:
    """Make the user a member holding these roles (over all functions); idempotent."""
    membership, _ = Membership.objects.get_or_create(workspace=workspace, user=user)
    for role in roles:
        RoleGrant.objects.get_or_create(membership=membership, role=role)
    return membership
