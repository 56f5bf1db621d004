"""The owners' audit trail page: read-only, filterable, newest first."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from functions_ui.audit import selectors
from functions_ui.audit.forms import AuditFilterForm
from functions_ui.permissions.policy import require
from functions_ui.workspaces.decorators import WorkspaceRequest, workspace_view


@require_GET
@vary_on_headers("HX-Request")
@workspace_view
def audit_list(request: WorkspaceRequest) -> HttpResponse:
    require(request.access, "workspace.manage")
    form = AuditFilterForm(
        request.GET or None,
        actor_names=selectors.audit_actor_names(workspace=request.workspace),
    )
    filters = form.filters() if form.is_bound else selectors.AuditFilters()
    page, rows = selectors.audit_event_page(
        workspace=request.workspace, filters=filters, page_number=request.GET.get("page")
    )
    query: dict[str, str | int] = {k: str(v) for k, v in request.GET.items() if k != "page" and v}
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "filtered": bool(query),
        "previous_url": page.has_previous()
        and "?" + urlencode({**query, "page": page.previous_page_number()}),
        "next_url": page.has_next() and "?" + urlencode({**query, "page": page.next_page_number()}),
    }
    template = "audit/_event_results.html" if request.htmx else "audit/event_list.html"
    return render(request, template, context)
