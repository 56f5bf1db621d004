"""Small factory functions: each test states the details it depends on, and nothing else."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from catalog.models import Function, FunctionSetting, ResourceType
from catalog.services import function_create
from functions_ui.permissions.models import Role, RoleGrant
from functions_ui.workspaces.models import Membership, Workspace
from functions_ui.workspaces.services import membership_grant

_counter = itertools.count(1)
PASSWORD = "correct horse battery staple"


def make_workspace(*, slug: str | None = None, name: str | None = None) -> Workspace:
    n = next(_counter)
    return Workspace.objects.create(slug=slug or f"ws-{n}", name=name or f"Workspace {n}")


def make_user(*, username: str | None = None) -> AbstractBaseUser:
    return get_user_model().objects.create_user(
        username=username or f"user-{next(_counter)}", password=PASSWORD
    )


def make_member(
    *,
    workspace: Workspace,
    role: str | None = Role.FUNCTIONS_ADMIN,
    user: AbstractBaseUser | None = None,
    functions: list[Function] | None = None,
) -> AbstractBaseUser:
    """A user in the workspace holding one role; `functions` limits its scope to that list."""
    user = user or make_user()
    if role is None:
        Membership.objects.get_or_create(workspace=workspace, user=user)
        return user
    membership = membership_grant(workspace=workspace, user=user, roles=[role])
    if functions is not None:
        grant = RoleGrant.objects.get(membership=membership, role=role)
        grant.all_functions = False
        grant.save()
        grant.functions.set(functions)
    return user


def make_function(
    *,
    workspace: Workspace,
    display_name: str | None = None,
    resource_type: str = ResourceType.DESTINATION,
    code: str | None = None,
    user: AbstractBaseUser | None = None,
    description: str = "",
) -> Function:
    return function_create(
        workspace=workspace,
        user=user,
        resource_type=resource_type,
        display_name=display_name or f"Function {next(_counter)}",
        description=description,
        code=code,
    )


def make_setting(*, function: Function, name: str = "apiKey", **fields) -> FunctionSetting:
    defaults = {"label": name, "type": "STRING", "position": function.settings.count()}
    return FunctionSetting.objects.create(function=function, name=name, **{**defaults, **fields})
