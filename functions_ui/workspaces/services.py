"""Writes about workspaces and their members."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction

from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
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


HEALTH_FIELDS = (
    "health_window_minutes",
    "health_min_runs",
    "health_degraded_percent",
    "health_pause_percent",
)


@transaction.atomic
def workspace_health_update(*, workspace: Workspace, user: User, values: dict[str, int]) -> None:
    """Change the thresholds of the instances' health check; audited with old and new values."""
    changes = {
        name: {"from": getattr(workspace, name), "to": values[name]}
        for name in HEALTH_FIELDS
        if getattr(workspace, name) != values[name]
    }
    if not changes:
        return
    for name in changes:
        setattr(workspace, name, values[name])
    workspace.save(update_fields=list(changes))
    audit_record(
        workspace=workspace,
        action=AuditAction.WORKSPACE_UPDATE,
        user=user,
        target=workspace,
        details={"health_check": changes},
    )


def workspace_block_failing_deploys_set(*, workspace: Workspace, user: User, block: bool) -> None:
    """Turn on or off the refusal of deploys whose tests fail; audited."""
    if workspace.block_failing_deploys == block:
        return
    workspace.block_failing_deploys = block
    workspace.save(update_fields=["block_failing_deploys"])
    audit_record(
        workspace=workspace,
        action=AuditAction.WORKSPACE_UPDATE,
        user=user,
        target=workspace,
        details={"block_failing_deploys": block},
    )
