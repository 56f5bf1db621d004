"""Writes about API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Function
from catalog.services import function_settings_replace, function_update, validate_code_size
from functions_ui.api.models import ApiToken
from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
from functions_ui.workspaces.models import Membership, Workspace

# Recognisable in logs and by secret scanners; the rest is 256 bits of randomness.
TOKEN_PREFIX = "fui_"
# last_used_at is written at most this often per token, not on every request.
LAST_USED_PRECISION = timedelta(seconds=60)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def api_token_create(
    *, workspace: Workspace, user: AbstractBaseUser, description: str = ""
) -> tuple[ApiToken, str]:
    """Make a token acting as `user` in `workspace`; return it with its secret, shown once."""
    if not Membership.objects.filter(workspace=workspace, user=user).exists():
        raise ValidationError({"user": "The user is not a member of this workspace."})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        workspace=workspace,
        user=user,
        description=description.strip(),
        token_hash=hash_token(raw),
        hint=raw[: len(TOKEN_PREFIX) + 6],
    )
    token.full_clean()
    with transaction.atomic():
        token.save()
        audit_record(
            workspace=workspace,
            user=user,
            action=AuditAction.TOKEN_CREATE,
            target=("api_token", str(token.pk), f"{token.hint}… {token.description}".strip()),
        )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, user: AbstractBaseUser | None = None) -> None:
    """Stop a token from working, for good; it stays listed as revoked."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            workspace=token.workspace,
            user=user,
            action=AuditAction.TOKEN_REVOKE,
            target=("api_token", str(token.pk), f"{token.hint}… {token.description}".strip()),
        )


def api_token_mark_used(*, token: ApiToken) -> None:
    """Record that the token was just used (to the minute, to spare a write per request)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


@transaction.atomic
def function_patch(
    *,
    function: Function,
    user: AbstractBaseUser | None,
    display_name: str | None = None,
    description: str | None = None,
    logo_url: str | None = None,
    code: str | None = None,
    settings: list[dict] | None = None,
) -> Function:
    """Apply an API update all or nothing: metadata, then settings, then a new version.

    Code or settings given make a save as the editor's: a new LATEST version when they
    differ from LATEST, never a deploy. None leaves a field as it is.
    """
    # Imported here: versioning's services build on the catalog's.
    from versioning.services import version_save

    if code is not None:
        validate_code_size(code)
    function_update(
        function=function,
        user=user,
        display_name=display_name,
        description=description,
        logo_url=logo_url,
    )
    if settings is not None:
        function_settings_replace(function=function, settings=settings)
    if code is not None or settings is not None:
        version_save(
            function=function,
            user=user,
            code=function.code if code is None else code,
            base_version_id=None,
            note="Updated through the API",
        )
    return function
