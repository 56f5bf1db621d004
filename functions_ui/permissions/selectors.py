"""Reads about members and their roles, for the members page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from catalog.models import Function
from functions_ui.permissions.models import Role, RoleGrant
from functions_ui.workspaces.models import Membership, Workspace


@dataclass(frozen=True)
class GrantRow:
    role: str
    label: str
    all_functions: bool
    functions: tuple[Function, ...]


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    grants: tuple[GrantRow, ...]
    is_owner: bool
    is_last_owner: bool


def _memberships(workspace: Workspace) -> QuerySet[Membership]:
    functions = Function.objects.only("id", "public_id", "display_name", "workspace_id").order_by(
        "display_name"
    )
    grants = RoleGrant.objects.prefetch_related(Prefetch("functions", queryset=functions))
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user", "workspace")
        .prefetch_related(Prefetch("role_grants", queryset=grants))
    )


def _row(membership: Membership, owner_count: int) -> MemberRow:
    grants = sorted(membership.role_grants.all(), key=lambda g: Role.values.index(g.role))
    is_owner = any(g.role == Role.WORKSPACE_OWNER for g in grants)
    return MemberRow(
        membership=membership,
        grants=tuple(
            GrantRow(
                role=g.role,
                label=g.get_role_display(),
                all_functions=g.all_functions or g.role == Role.WORKSPACE_OWNER,
                functions=tuple(g.functions.all()),
            )
            for g in grants
        ),
        is_owner=is_owner,
        is_last_owner=is_owner and owner_count == 1,
    )


def owner_count(*, workspace: Workspace) -> int:
    return RoleGrant.objects.filter(
        membership__workspace=workspace, role=Role.WORKSPACE_OWNER
    ).count()


def member_rows(*, workspace: Workspace) -> list[MemberRow]:
    """Every member with their roles and scopes, by username (a constant number of queries)."""
    memberships = list(_memberships(workspace).order_by("user__username"))
    owners = sum(
        1 for m in memberships if any(g.role == Role.WORKSPACE_OWNER for g in m.role_grants.all())
    )
    return [_row(membership, owners) for membership in memberships]


def member_row_get(*, workspace: Workspace, membership_id: int) -> MemberRow:
    """One member of the workspace; a membership elsewhere is a 404."""
    membership = get_object_or_404(_memberships(workspace), pk=membership_id)
    return _row(membership, owner_count(workspace=workspace))


def function_choices(*, workspace: Workspace) -> list[tuple[int, str]]:
    """The workspace's functions as (id, name) pairs, for choosing a role's scope."""
    return list(
        Function.objects.filter(workspace=workspace)
        .order_by("display_name")
        .values_list("id", "display_name")
    )
