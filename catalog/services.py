"""Writes about functions."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.models import ID_PREFIXES, Function, ResourceType, new_catalog_id
from catalog.selectors import function_name_taken
from catalog.starters import default_code
from functions_ui.workspaces.models import Workspace

CODE_MAX_BYTES = 256 * 1024


def validate_code_size(code: str) -> None:
    if len(code.encode("utf-8")) > CODE_MAX_BYTES:
        raise ValidationError(
            {"code": f"Code is larger than the limit of {CODE_MAX_BYTES // 1024} KiB."}
        )


def function_create(
    *,
    workspace: Workspace,
    user: AbstractBaseUser | None,
    resource_type: str,
    display_name: str,
    description: str = "",
    logo_url: str = "",
    code: str | None = None,
) -> Function:
    """Create a function of a workspace, starting from its type's template when no code is given."""
    display_name = display_name.strip()
    if resource_type not in ResourceType.values:
        raise ValidationError({"resource_type": f"Unknown function type {resource_type!r}."})
    code = default_code(resource_type) if code is None else code
    validate_code_size(code)
    if function_name_taken(workspace=workspace, display_name=display_name):
        raise ValidationError({"display_name": "A function with this name already exists."})
    function = Function(
        workspace=workspace,
        public_id=ID_PREFIXES[ResourceType(resource_type)] + new_catalog_id(),
        resource_type=resource_type,
        display_name=display_name,
        description=description.strip(),
        logo_url=logo_url.strip(),
        code=code,
        created_by=user,
        updated_by=user,
    )
    function.full_clean()
    try:
        with transaction.atomic():
            function.save()
    except IntegrityError as error:
        # Two creates raced past the name check; the constraint caught the second.
        raise ValidationError(
            {"display_name": "A function with this name already exists."}
        ) from error
    return function


def function_delete(*, function: Function) -> None:
    """Delete a function with its settings."""
    function.delete()
