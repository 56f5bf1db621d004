"""The Functions catalog, the create flow, a function's page and its deletion."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from catalog import selectors, services
from catalog.forms import BuildForm, FunctionConfigureForm, add_service_errors
from catalog.kinds import KINDS, KINDS_BY_SLUG
from catalog.models import ResourceType
from catalog.starters import default_code
from functions_ui.deploys import metrics
from functions_ui.deploys.selectors import (
    InstancesHealth,
    instances_health_of,
    unhealthy_instances,
)
from functions_ui.permissions.policy import denied_reason, require
from functions_ui.workspaces.decorators import WorkspaceRequest, workspace_view
from versioning.selectors import version_labels_of

CATALOG_TABS = (("", "All"), *((kind.slug, kind.label) for kind in KINDS))


def _catalog_url(*, type_slug: str, search: str, page: int | None = None) -> str:
    query = {"type": type_slug, "q": search, "page": page}
    return "?" + urlencode({key: value for key, value in query.items() if value})


def _type_from_slug(type_slug: str) -> ResourceType:
    if type_slug not in KINDS_BY_SLUG:
        raise Http404("No such function type.")
    return KINDS_BY_SLUG[type_slug].resource_type


@require_GET
@vary_on_headers("HX-Request")
@workspace_view
def function_list(request: WorkspaceRequest) -> HttpResponse:
    type_slug = request.GET.get("type", "")
    if type_slug not in KINDS_BY_SLUG:
        type_slug = ""
    search = request.GET.get("q", "").strip()[:120]
    functions = selectors.function_list(
        workspace=request.workspace, access=request.access, type_slug=type_slug, search=search
    )
    page = Paginator(functions, settings.CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    on_page = [function.pk for function in page.object_list]
    activity = metrics.activity(function_ids=on_page, now=timezone.now())
    labels = version_labels_of(function_ids=on_page)
    instances = instances_health_of(function_ids=on_page)
    rows = [
        (
            function,
            activity.get(function.pk),
            labels.get(function.pk, {}),
            instances.get(function.pk, InstancesHealth()),
        )
        for function in page.object_list
    ]
    counts = selectors.function_type_counts(
        workspace=request.workspace, access=request.access, search=search
    )
    context = {
        "page": page,
        "rows": rows,
        "type_slug": type_slug,
        "search": search,
        "tabs": [
            {
                "label": label,
                "count": counts[slug or "all"],
                "url": _catalog_url(type_slug=slug, search=search),
                "active": slug == type_slug,
            }
            for slug, label in CATALOG_TABS
        ],
        "previous_url": page.has_previous()
        and _catalog_url(type_slug=type_slug, search=search, page=page.previous_page_number()),
        "next_url": page.has_next()
        and _catalog_url(type_slug=type_slug, search=search, page=page.next_page_number()),
        "can_create": request.access.can("function.create"),
        "has_functions_access": request.access.holds_role_for("function.view"),
        "create_denied_reason": denied_reason("function.create"),
    }
    template = "catalog/_function_results.html" if request.htmx else "catalog/function_list.html"
    return render(request, template, context)


@require_GET
@workspace_view
def function_create_type(request: WorkspaceRequest) -> HttpResponse:
    require(request.access, "function.create")
    return render(request, "catalog/create_type.html", {"step": 1})


@require_http_methods(["GET", "POST"])
@workspace_view
def function_create_build(request: WorkspaceRequest, type_slug: str) -> HttpResponse:
    require(request.access, "function.create")
    resource_type = _type_from_slug(type_slug)
    # A POST comes back from step 3 ("Back") and keeps the code typed so far.
    code = request.POST.get("code", "") if request.method == "POST" else default_code(resource_type)
    return render(
        request,
        "catalog/create_build.html",
        {
            "step": 2,
            "type_slug": type_slug,
            "resource_type": resource_type,
            "form": BuildForm(initial={"code": code}),
            "configure_form": FunctionConfigureForm(initial=request.POST or None),
        },
    )


@require_http_methods(["POST"])
@workspace_view
def function_create_configure(request: WorkspaceRequest, type_slug: str) -> HttpResponse:
    require(request.access, "function.create")
    resource_type = _type_from_slug(type_slug)
    context = {"step": 3, "type_slug": type_slug, "resource_type": resource_type}
    if "create" not in request.POST:
        # Arrived from step 2: show the form, nothing to validate yet.
        form = FunctionConfigureForm(initial=request.POST.dict())
        return render(request, "catalog/create_configure.html", {**context, "form": form})

    form = FunctionConfigureForm(request.POST)
    if form.is_valid():
        try:
            function = services.function_create(
                workspace=request.workspace,
                user=request.user,
                resource_type=resource_type,
                display_name=form.cleaned_data["display_name"],
                description=form.cleaned_data["description"],
                logo_url=form.cleaned_data["logo_url"],
                code=form.cleaned_data["code"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Function “{function.display_name}” created.")
            # Straight on to testing and refining it.
            return redirect("editor:edit", request.workspace.slug, function.public_id)
    return render(request, "catalog/create_configure.html", {**context, "form": form}, status=422)


@require_GET
@workspace_view
def function_detail(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = selectors.function_get_for_user(
        workspace=request.workspace, access=request.access, function_id=function_id
    )
    return render(
        request,
        "catalog/function_detail.html",
        {
            "function": function,
            "function_settings": function.settings.all(),
            "unhealthy": unhealthy_instances(workspace=request.workspace, function=function),
            "can_edit": request.access.can("function.edit", function),
            "can_delete": request.access.can("function.delete", function),
            "delete_denied_reason": denied_reason("function.delete"),
        },
    )


@require_http_methods(["GET", "POST"])
@workspace_view
def function_delete(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = selectors.function_get_for_user(
        workspace=request.workspace,
        access=request.access,
        function_id=function_id,
        action="function.delete",
    )
    if request.method == "POST":
        name = function.display_name
        services.function_delete(function=function)
        messages.success(request, f"Function “{name}” deleted.")
        return redirect(
            reverse("catalog:function_list", kwargs={"workspace_slug": request.workspace.slug})
        )
    return render(request, "catalog/function_delete.html", {"function": function})
