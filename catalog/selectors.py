"""Reads about functions."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from catalog.kinds import KINDS, KINDS_BY_SLUG
from catalog.models import Function
from functions_ui.permissions.policy import MemberAccess, filter_visible_functions, require
from functions_ui.workspaces.models import Workspace


def function_list(
    *, workspace: Workspace, access: MemberAccess, type_slug: str = "", search: str = ""
) -> QuerySet[Function]:
    """The catalog: functions the member may see, newest saved first, filtered."""
    functions = filter_visible_functions(
        Function.objects.filter(workspace=workspace), access
    ).select_related("workspace", "updated_by", "created_by")
    if type_slug in KINDS_BY_SLUG:
        functions = functions.filter(resource_type=KINDS_BY_SLUG[type_slug].resource_type)
    if search:
        functions = functions.filter(display_name__icontains=search)
    return functions.defer("code").order_by("-updated_at", "-id")


def function_type_counts(
    *, workspace: Workspace, access: MemberAccess, search: str = ""
) -> dict[str, int]:
    """How many visible functions each catalog tab holds, in one query."""
    functions = filter_visible_functions(Function.objects.filter(workspace=workspace), access)
    if search:
        functions = functions.filter(display_name__icontains=search)
    counts = functions.aggregate(
        all=Count("id"),
        **{k.slug: Count("id", filter=Q(resource_type=k.resource_type)) for k in KINDS},
    )
    return counts


def function_get_for_user(
    *, workspace: Workspace, access: MemberAccess, function_id: str, action: str = "function.view"
) -> Function:
    """A function the member may see (else 404), checked for `action` (else 403)."""
    function = (
        Function.objects.filter(workspace=workspace, public_id=function_id)
        .select_related("workspace", "created_by", "updated_by")
        .first()
    )
    if function is None or not access.can("function.view", function):
        raise Http404("No such function.")
    require(access, action, function)
    return function


def function_name_taken(
    *, workspace: Workspace, display_name: str, exclude_pk: int | None = None
) -> bool:
    """Whether another function of the workspace already has this name (case-insensitive)."""
    functions = Function.objects.filter(workspace=workspace, display_name__iexact=display_name)
    if exclude_pk is not None:
        functions = functions.exclude(pk=exclude_pk)
    return functions.exists()
