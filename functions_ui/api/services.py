"""Writes about API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Function
from catalog.services import function_settings_replace, function_update
from functions_ui.api.errors import fields_as
from functions_ui.api.models import ApiToken
from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
from functions_ui.deploys import instances
from functions_ui.deploys.models import DestinationInstance, InstanceBase
from functions_ui.workspaces.models import Membership, Workspace
from versioning.services import version_save

# Recognisable in logs and by secret scanners; the rest is 256 bits of randomness.
TOKEN_PREFIX = "fui_"
# last_used_at is written at most this often per token, not on every request.
LAST_USED_PRECISION = timedelta(seconds=60)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def api_token_create(
    *, workspace: Workspace, user: User, description: str = ""
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
def api_token_revoke(*, token: ApiToken, user: User | None = None) -> None:
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
    user: User | None,
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


# The deploys services' field names, as the API's requests call them.
INSTANCE_FIELDS = {"name": "name", "sources": "sourceIds", "destination": "destinationId"}


@transaction.atomic
def instance_create(
    *,
    function: Function,
    user: User | None,
    name: str,
    settings: dict[str, Any],
    source_ids: list[str],
    destination_id: str,
    enabled: bool,
    destination_field: str = "destinationId",
) -> InstanceBase:
    """Connect an instance of the function with the deploys service for its type.

    The settings are checked first, on their own, so that every error names its request
    field without doubt (a setting may well be called `name`).
    """
    fields = {**INSTANCE_FIELDS, "destination": destination_field}
    with fields_as({}, others="settings."):
        instances.instance_settings_parse(function=function, raw=settings)
    with fields_as(fields):
        return instances.instance_create(
            function=function,
            user=user,
            name=name,
            raw_settings=settings,
            source_ids=source_ids,
            destination_id=destination_id,
            enabled=enabled,
        )


@transaction.atomic
def instance_patch(
    *,
    instance: InstanceBase,
    name: str | None = None,
    settings: dict[str, Any] | None = None,
    enabled: bool | None = None,
    source_ids: list[str] | None = None,
) -> InstanceBase:
    """Apply an API update all or nothing; None leaves a field as it is.

    `settings` are merged into the stored ones: a setting not named keeps its value, and a
    sensitive one given blank keeps its value too (the deploys service's rule).
    """
    if name is not None:
        with fields_as(INSTANCE_FIELDS):
            instances.instance_rename(instance=instance, name=name)
    if settings is not None:
        with fields_as({}, others="settings."):
            instances.instance_settings_update(
                instance=instance, raw_settings={**instance.setting_values, **settings}
            )
    if enabled is not None and enabled != instance.enabled:
        instances.instance_set_enabled(instance=instance, enabled=enabled)
    if source_ids is not None:
        assert isinstance(instance, DestinationInstance)  # the view refused it for other kinds
        with fields_as(INSTANCE_FIELDS):
            instances.destination_sources_set(instance=instance, source_ids=source_ids)
    return instance
