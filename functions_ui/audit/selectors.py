"""Reads of the audit trail."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.http import urlencode

from catalog.models import Function
from functions_ui.audit.models import AuditEvent
from functions_ui.workspaces.models import Workspace

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    via: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    target_url: str
    compare_url: str


def audit_events(*, workspace: Workspace, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """A workspace's events matching the filters, newest first."""
    events = AuditEvent.objects.filter(workspace=workspace)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.actor:
        events = events.filter(actor_name=filters.actor)
    if filters.via:
        events = events.filter(via=filters.via)
    if filters.date_from:
        events = events.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        events = events.filter(created_at__date__lte=filters.date_to)
    return events.order_by("-created_at", "-id")


def audit_actor_names(*, workspace: Workspace) -> list[str]:
    """Everyone who appears in the workspace's trail, for the actor filter."""
    names = (
        AuditEvent.objects.filter(workspace=workspace)
        .exclude(actor_name="")
        .order_by("actor_name")
        .values_list("actor_name", flat=True)
        .distinct()
    )
    return list(names)


def _rows(workspace: Workspace, events: list[AuditEvent]) -> list[AuditRow]:
    # Links only to functions that still exist; versions go with their function.
    function_ids = {e.target_id for e in events if e.target_type == "function"}
    existing = set(
        Function.objects.filter(workspace=workspace, public_id__in=function_ids).values_list(
            "public_id", flat=True
        )
    )
    rows = []
    for event in events:
        target_url = compare_url = ""
        if event.target_type == "function" and event.target_id in existing:
            kwargs = {"workspace_slug": workspace.slug, "function_id": event.target_id}
            target_url = reverse("catalog:function_detail", kwargs=kwargs)
            if event.version_ids:
                first, last = event.version_ids[0], event.version_ids[-1]
                query = {"base": last, "target": first} if first != last else {"base": last}
                compare_url = f"{reverse('versioning:compare', kwargs=kwargs)}?{urlencode(query)}"
        rows.append(AuditRow(event=event, target_url=target_url, compare_url=compare_url))
    return rows


def audit_event_page(
    *, workspace: Workspace, filters: AuditFilters, page_number: str | int | None
) -> tuple[Page, list[AuditRow]]:
    """One page of the trail, with each row's links resolved (a constant number of queries)."""
    events = audit_events(workspace=workspace, filters=filters)
    page = Paginator(events, PAGE_SIZE).get_page(page_number)
    return page, _rows(workspace, list(page.object_list))
