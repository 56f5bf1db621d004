"""Writes about members and their roles. Only Workspace Owners reach these (see views).

Every write locks the workspace row first, so two owners changing members at once queue up
and the "at least one Workspace Owner" rule cannot be raced past.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Function
from functions_ui.api.models import ApiToken
from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
from functions_ui.permissions.models import PasswordChangeDue, Role, RoleGrant
from functions_ui.workspaces.models import Membership, Workspace

LAST_OWNER_MESSAGE = (
    "A workspace needs at least one Workspace Owner: make someone else an owner first."
)


@dataclass(frozen=True)
class GrantSpec:
    """A role to hold, over all current and future functions or over the listed ones."""

    role: str
    all_functions: bool = True
    function_ids: frozenset[int] = field(default_factory=frozenset)


def _lock_workspace(workspace: Workspace) -> Workspace:
    return Workspace.objects.select_for_update().get(pk=workspace.pk)


def _other_owner_exists(*, workspace: Workspace, membership: Membership) -> bool:
    return (
        RoleGrant.objects.filter(membership__workspace=workspace, role=Role.WORKSPACE_OWNER)
        .exclude(membership=membership)
        .exists()
    )


def _checked_grants(
    *, workspace: Workspace, grants: Sequence[GrantSpec]
) -> list[tuple[GrantSpec, list[Function]]]:
    """Validate the grants; return each with its functions (empty for all-functions)."""
    roles = [grant.role for grant in grants]
    if len(set(roles)) != len(roles):
        raise ValidationError("Each role can be granted once.")
    checked: list[tuple[GrantSpec, list[Function]]] = []
    for grant in grants:
        if grant.role not in Role.values:
            raise ValidationError(f"Unknown role {grant.role!r}.")
        if grant.all_functions or grant.role == Role.WORKSPACE_OWNER:
            checked.append((GrantSpec(role=grant.role), []))
            continue
        functions = list(
            Function.objects.filter(workspace=workspace, pk__in=grant.function_ids).order_by(
                "display_name"
            )
        )
        if not functions or len(functions) != len(grant.function_ids):
            raise ValidationError(
                f"{Role(grant.role).label}: choose functions of this workspace, "
                "or all current and future functions."
            )
        checked.append((grant, functions))
    return checked


def grant_describe(role: str, functions: Sequence[Function] | None) -> str:
    """ "Functions Admin (all functions)" or "Functions Admin (2 functions: A, B)"."""
    label = Role(role).label
    if functions is None or role == Role.WORKSPACE_OWNER:
        return f"{label} (all functions)" if role != Role.WORKSPACE_OWNER else label
    names = ", ".join(f.display_name for f in functions)
    return f"{label} ({len(functions)} function{'s' if len(functions) != 1 else ''}: {names})"


def _current_grants_described(membership: Membership) -> list[str]:
    grants = RoleGrant.objects.filter(membership=membership).prefetch_related("functions")
    described = []
    for grant in sorted(grants, key=lambda g: Role.values.index(g.role)):
        functions = (
            None
            if grant.all_functions
            else sorted(grant.functions.all(), key=lambda f: f.display_name)
        )
        described.append(grant_describe(grant.role, functions))
    return described


def _grants_write(
    *, membership: Membership, checked: list[tuple[GrantSpec, list[Function]]]
) -> None:
    RoleGrant.objects.filter(membership=membership).exclude(
        role__in=[grant.role for grant, _ in checked]
    ).delete()
    for grant, functions in checked:
        role_grant, _ = RoleGrant.objects.update_or_create(
            membership=membership, role=grant.role, defaults={"all_functions": not functions}
        )
        role_grant.functions.set(functions)


NO_SUCH_USER = "There is no user with this username; tick “Create an account” to make one."


@transaction.atomic
def membership_add(
    *,
    workspace: Workspace,
    username: str,
    grants: Sequence[GrantSpec],
    by: User | None,
) -> Membership:
    """Make an existing user a member holding `grants`."""
    user_model = get_user_model()
    user = user_model._default_manager.filter(
        **{user_model.USERNAME_FIELD: username.strip()}
    ).first()
    if user is None:
        raise ValidationError({"username": NO_SUCH_USER})
    locked = _lock_workspace(workspace)
    if Membership.objects.filter(workspace=locked, user=user).exists():
        raise ValidationError({"username": f"{user.get_username()} is already a member."})
    checked = _checked_grants(workspace=locked, grants=grants)
    membership = Membership.objects.create(workspace=locked, user=user)
    _grants_write(membership=membership, checked=checked)
    audit_record(
        workspace=locked,
        user=by,
        action=AuditAction.MEMBER_ADD,
        target=("member", user.get_username(), user.get_username()),
        details={"roles": [grant_describe(g.role, f or None) for g, f in checked]},
    )
    return membership


@transaction.atomic
def membership_invite(
    *,
    workspace: Workspace,
    username: str,
    grants: Sequence[GrantSpec],
    by: User | None,
    create_account: bool = False,
) -> tuple[Membership, str | None]:
    """Add a member, first creating their account when asked and none exists.

    Returns the membership and, for a new account, its one-time password (to hand over
    once; it is stored only hashed). The new user should change it on first sign-in.
    """
    user_model = get_user_model()
    username = username.strip()
    password = None
    exists = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).exists()
    if create_account and not exists:
        password = secrets.token_urlsafe(12)
        created = user_model._default_manager.create_user(
            **{user_model.USERNAME_FIELD: username}, password=password
        )
        PasswordChangeDue.objects.create(user=created)
    membership = membership_add(workspace=workspace, username=username, grants=grants, by=by)
    return membership, password


@transaction.atomic
def role_grants_set(
    *, membership: Membership, grants: Sequence[GrantSpec], by: User | None
) -> Membership:
    """Replace a member's roles and scopes; the last Workspace Owner keeps that role."""
    workspace = _lock_workspace(membership.workspace)
    checked = _checked_grants(workspace=workspace, grants=grants)
    stays_owner = any(grant.role == Role.WORKSPACE_OWNER for grant, _ in checked)
    is_owner = membership.role_grants.filter(role=Role.WORKSPACE_OWNER).exists()
    if (
        is_owner
        and not stays_owner
        and not _other_owner_exists(workspace=workspace, membership=membership)
    ):
        raise ValidationError(LAST_OWNER_MESSAGE)
    before = _current_grants_described(membership)
    _grants_write(membership=membership, checked=checked)
    after = _current_grants_described(membership)
    if before != after:
        username = membership.user.get_username()
        audit_record(
            workspace=workspace,
            user=by,
            action=AuditAction.ROLE_CHANGE,
            target=("member", username, username),
            details={"before": before, "after": after},
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: User | None) -> None:
    """Take a member out of the workspace, unless they are its last Workspace Owner."""
    workspace = _lock_workspace(membership.workspace)
    is_owner = membership.role_grants.filter(role=Role.WORKSPACE_OWNER).exists()
    if is_owner and not _other_owner_exists(workspace=workspace, membership=membership):
        raise ValidationError(LAST_OWNER_MESSAGE)
    username = membership.user.get_username()
    roles = _current_grants_described(membership)
    # Their API tokens go with them, for good: re-adding the person later must not revive them.
    revoked = ApiToken.objects.filter(
        workspace=workspace, user=membership.user, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    membership.delete()
    audit_record(
        workspace=workspace,
        user=by,
        action=AuditAction.MEMBER_REMOVE,
        target=("member", username, username),
        details={"roles": roles, **({"tokens_revoked": revoked} if revoked else {})},
    )
