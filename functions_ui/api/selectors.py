"""Reads for the API: tokens, and functions and versions as the API shows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from catalog.models import Function, FunctionSetting, ResourceType
from functions_ui.api.models import ApiToken
from functions_ui.api.services import hash_token
from functions_ui.deploys.models import InsertInstance
from functions_ui.editor.models import TestWebhook
from functions_ui.permissions.policy import MemberAccess, filter_visible_functions
from functions_ui.workspaces.models import Workspace
from versioning.models import Label, Version, VersionLabel

LIST_ITEM_FIELDS = (
    "id",
    "public_id",
    "resource_type",
    "created_at",
    "created_by_id",
    "display_name",
    "description",
    "logo_url",
)


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The active token with this secret, with its workspace and user (one query)."""
    return (
        ApiToken.objects.filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .select_related("workspace", "user")
        .first()
    )


def api_tokens_for_workspace(*, workspace: Workspace) -> QuerySet[ApiToken]:
    """Every token of the workspace, newest first, revoked ones included."""
    return ApiToken.objects.filter(workspace=workspace).select_related("user")


def api_token_get(*, workspace: Workspace, token_id: int) -> ApiToken | None:
    return ApiToken.objects.filter(workspace=workspace, pk=token_id).first()


def function_list_for_api(
    *, workspace: Workspace, access: MemberAccess, resource_type: ResourceType
) -> QuerySet[Function]:
    """The functions of one type the member may see, oldest first, without code."""
    functions = Function.objects.filter(workspace=workspace, resource_type=resource_type)
    return filter_visible_functions(functions, access).only(*LIST_ITEM_FIELDS)


@dataclass(frozen=True)
class LabelState:
    """Where LATEST and DEPLOYED point, and when DEPLOYED last moved."""

    latest_id: str | None
    deployed_id: str | None
    deployed_at: datetime | None


def label_state(*, function: Function) -> LabelState:
    """The function's LATEST and DEPLOYED labels (one query)."""
    rows = {
        label: (version_id, moved_at)
        for label, version_id, moved_at in VersionLabel.objects.filter(
            function=function
        ).values_list("label", "version_id", "moved_at")
    }
    latest = rows.get(Label.LATEST)
    deployed = rows.get(Label.DEPLOYED)
    return LabelState(
        latest_id=latest[0] if latest else None,
        deployed_id=deployed[0] if deployed else None,
        deployed_at=deployed[1] if deployed else None,
    )


def function_settings(*, function: Function) -> list[FunctionSetting]:
    """The declared settings in their order; values are never read for the API."""
    return list(
        FunctionSetting.objects.filter(function=function)
        .only("name", "label", "description", "type", "required", "sensitive", "position")
        .order_by("position", "id")
    )


def preview_webhook_token(*, function: Function) -> str | None:
    """The token of the source function's test webhook, if the editor has made one."""
    if function.resource_type != ResourceType.SOURCE:
        return None
    return TestWebhook.objects.filter(function=function).values_list("token", flat=True).first()


def version_list_for_api(*, function: Function) -> QuerySet[Version]:
    """The function's versions, with code, as the API lists them."""
    return Version.objects.filter(function=function)


def insert_instance_list_for_api(*, function: Function) -> QuerySet:
    """The insert function's instances, with their destinations, oldest first."""
    return InsertInstance.objects.filter(function=function).select_related(
        "destination", "function"
    )
