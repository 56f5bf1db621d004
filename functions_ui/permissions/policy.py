"""The one place that answers "may this user do this action here?".

Views, services and the API all ask this module; templates get booleans from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from functions_ui.permissions.models import Role, RoleGrant

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import QuerySet

    from catalog.models import Function
    from functions_ui.workspaces.models import Workspace

# Which roles grant an action. Roles are additive: holding any listed role is enough.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "function.view": frozenset(
        {Role.WORKSPACE_OWNER, Role.FUNCTIONS_ADMIN, Role.FUNCTIONS_READ_ONLY, Role.SOURCE_ADMIN}
    ),
    "function.create": frozenset({Role.WORKSPACE_OWNER, Role.FUNCTIONS_ADMIN}),
    "function.edit": frozenset({Role.WORKSPACE_OWNER, Role.FUNCTIONS_ADMIN}),
    "function.delete": frozenset({Role.WORKSPACE_OWNER, Role.FUNCTIONS_ADMIN}),
    "function.deploy": frozenset({Role.WORKSPACE_OWNER, Role.SOURCE_ADMIN}),
    "instance.connect": frozenset({Role.WORKSPACE_OWNER, Role.SOURCE_ADMIN}),
    "workspace.manage": frozenset({Role.WORKSPACE_OWNER}),
}

# Actions that concern the workspace as a whole need a grant covering all functions.
WORKSPACE_WIDE_ACTIONS = frozenset({"function.create", "workspace.manage"})

DENIED_REASONS: dict[str, str] = {
    "function.create": "Only Workspace Owners and Functions Admins can create functions.",
    "function.edit": "Only Workspace Owners and Functions Admins can edit functions.",
    "function.delete": "Only Workspace Owners and Functions Admins can delete functions.",
    "function.deploy": "Deploying needs the Workspace Owner or Source Admin role.",
    "instance.connect": "Connecting instances needs the Workspace Owner or Source Admin role.",
    "workspace.manage": "Only Workspace Owners can manage the workspace.",
}


@dataclass(frozen=True)
class Grant:
    role: str
    all_functions: bool
    function_ids: frozenset[int] = field(default_factory=frozenset)

    def covers(self, function: Function | None) -> bool:
        if self.role == Role.WORKSPACE_OWNER or self.all_functions:
            return True
        return function is not None and function.pk in self.function_ids


@dataclass(frozen=True)
class MemberAccess:
    """A user's grants in one workspace, loaded once and asked many times."""

    is_member: bool
    grants: tuple[Grant, ...] = ()

    def can(self, action: str, function: Function | None = None) -> bool:
        roles = ACTION_ROLES[action]
        for grant in self.grants:
            if grant.role not in roles:
                continue
            if action in WORKSPACE_WIDE_ACTIONS:
                if grant.role == Role.WORKSPACE_OWNER or grant.all_functions:
                    return True
            elif grant.covers(function):
                return True
        return False

    def holds_role_for(self, action: str) -> bool:
        """Whether any grant's role allows the action, whatever its scope."""
        return any(grant.role in ACTION_ROLES[action] for grant in self.grants)

    def sees_all_functions(self) -> bool:
        view_roles = ACTION_ROLES["function.view"]
        return any(g.role in view_roles and g.covers(None) for g in self.grants)

    def visible_function_ids(self) -> frozenset[int]:
        view_roles = ACTION_ROLES["function.view"]
        ids: set[int] = set()
        for grant in self.grants:
            if grant.role in view_roles:
                ids |= grant.function_ids
        return frozenset(ids)


def member_access(user: User | AnonymousUser, workspace: Workspace) -> MemberAccess:
    """Load the grants a user holds in a workspace (two queries)."""
    if not user.is_authenticated:
        return MemberAccess(is_member=False)
    grants = list(
        RoleGrant.objects.filter(membership__workspace=workspace, membership__user=user)
        .prefetch_related("functions")
        .only("id", "role", "all_functions")
    )
    is_member = bool(grants) or workspace.memberships.filter(user=user).exists()
    return MemberAccess(
        is_member=is_member,
        grants=tuple(
            Grant(
                role=g.role,
                all_functions=g.all_functions,
                function_ids=frozenset(f.pk for f in g.functions.all()),
            )
            for g in grants
        ),
    )


def filter_visible_functions(queryset: QuerySet[Function], access: MemberAccess) -> QuerySet:
    """Narrow a function queryset to what the member may view."""
    if access.sees_all_functions():
        return queryset
    return queryset.filter(pk__in=access.visible_function_ids())


def require(access: MemberAccess, action: str, function: Function | None = None) -> None:
    """Raise PermissionDenied with a reason a person can read."""
    if not access.can(action, function):
        raise PermissionDenied(DENIED_REASONS.get(action, "You do not have permission to do this."))


def denied_reason(action: str) -> str:
    return DENIED_REASONS.get(action, "You do not have permission to do this.")


# Save & Deploy changes the code and what the instances run: it needs both actions.
SAVE_AND_DEPLOY = ("function.edit", "function.deploy")


def first_denied(
    access: MemberAccess, actions: tuple[str, ...], function: Function | None = None
) -> str | None:
    """Why the member may not take all of `actions` (the first one refused), or None."""
    for action in actions:
        if not access.can(action, function):
            return denied_reason(action)
    return None


def require_all(
    access: MemberAccess, actions: tuple[str, ...], function: Function | None = None
) -> None:
    """Raise PermissionDenied, with a reason, unless the member may take every action."""
    reason = first_denied(access, actions, function)
    if reason is not None:
        raise PermissionDenied(reason)
