"""Version history, compare, expand, restore and undo: parse, check, call, render."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from catalog.models import Function
from catalog.selectors import function_get_for_user
from functions_ui.deploys.selectors import instance_names_by_version
from functions_ui.permissions.policy import denied_reason
from functions_ui.suites.selectors import suite_runs_of
from functions_ui.suites.services import suite_payloads
from functions_ui.workspaces.decorators import WorkspaceRequest, workspace_view
from versioning import selectors, services
from versioning.diffing import DiffOptions, expand_chunk, split_rows, unified_rows
from versioning.models import Label, Version

VIEWS = ("split", "unified")
VIEW_COOKIE = "versioning_diff_view"
# Large enough that no unchanged stretch is collapsed: the "show everything" fallback of
# the expand links for browsers without JavaScript.
FULL_CONTEXT = 10**9


def _function(
    request: WorkspaceRequest, function_id: str, action: str = "function.view"
) -> Function:
    return function_get_for_user(
        workspace=request.workspace, access=request.access, function_id=function_id, action=action
    )


@dataclass(frozen=True)
class CompareParams:
    """The view options of a compare URL; `view` falls back to the remembered choice."""

    view: str
    ignore_whitespace: bool
    full: bool

    @classmethod
    def from_request(cls, request: WorkspaceRequest) -> CompareParams:
        view = request.GET.get("view") or request.COOKIES.get(VIEW_COOKIE, "split")
        return cls(
            view=view if view in VIEWS else "split",
            ignore_whitespace=request.GET.get("ws") == "1",
            full=request.GET.get("full") == "1",
        )

    @property
    def options(self) -> DiffOptions:
        return DiffOptions(
            ignore_whitespace=self.ignore_whitespace,
            context_lines=FULL_CONTEXT if self.full else 3,
        )

    def query(self, base: Version, target: Version, /, **changes: object) -> str:
        """The query string of a compare URL for the pair, with `changes` applied."""
        values = {
            "base": base.id,
            "target": target.id,
            "view": self.view,
            "ws": "1" if self.ignore_whitespace else "",
            "full": "1" if self.full else "",
            **changes,
        }
        return urlencode({key: str(value) for key, value in values.items() if value})


def _url(name: str, function: Function, query: str = "", **kwargs: str) -> str:
    url = reverse(
        f"versioning:{name}",
        kwargs={
            "workspace_slug": function.workspace.slug,
            "function_id": function.public_id,
            **kwargs,
        },
    )
    return f"{url}?{query}" if query else url


def _after_restore_url(function: Function) -> str:
    try:
        return reverse(
            "editor:edit",
            kwargs={"workspace_slug": function.workspace.slug, "function_id": function.public_id},
        )
    except NoReverseMatch:
        return _url("history", function)


def _rows(diff, view: str) -> list:
    return split_rows(diff) if view == "split" else unified_rows(diff)


@require_GET
@vary_on_headers("HX-Request")
@workspace_view
def history(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id)
    page = selectors.version_list_for_function(function=function, page=request.GET.get("page"))
    labels = selectors.version_labels(function=function)
    instances = instance_names_by_version(
        function=function, version_ids=[version.id for version in page]
    )
    suite_runs = suite_runs_of(version_ids=[version.id for version in page])
    context = {
        "function": function,
        "page": page,
        "entries": [
            (version, instances.get(version.id, []), suite_runs.get(version.id)) for version in page
        ],
        "has_tests": bool(suite_payloads(function=function)),
        "latest_id": labels.get(Label.LATEST),
        "deployed_id": labels.get(Label.DEPLOYED),
        "undo": selectors.undo_offer(
            session=request.session, function=function, latest_id=labels.get(Label.LATEST)
        ),
        "can_edit": request.access.can("function.edit", function),
        "edit_denied_reason": denied_reason("function.edit"),
        "history_url": _url("history", function),
        "previous_url": page.has_previous()
        and f"{_url('history', function)}?page={page.previous_page_number()}",
        "next_url": page.has_next()
        and f"{_url('history', function)}?page={page.next_page_number()}",
        "compare_url": _url("compare", function),
        "editor_url": _after_restore_url(function),
    }
    template = "versioning/_history.html" if request.htmx else "versioning/history.html"
    return render(request, template, context)


def _compare_pair(request: WorkspaceRequest, function: Function) -> tuple[Version, Version]:
    """The versions a compare URL names: base defaults to LATEST, target to the one before."""
    labels = selectors.version_labels(function=function)
    base_id = request.GET.get("base") or labels.get(Label.LATEST) or ""
    base = selectors.version_get_for_function(function=function, version_id=base_id)
    if request.GET.get("target"):
        target = selectors.version_get_for_function(
            function=function, version_id=request.GET["target"]
        )
    else:
        target = selectors.previous_version(version=base) or base
    return base, target


@require_GET
@workspace_view
def compare(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id)
    base, target = _compare_pair(request, function)
    params = CompareParams.from_request(request)
    diff = selectors.version_diff(base=base, target=target, options=params.options)
    labels = selectors.version_labels(function=function)
    latest_id, deployed_id = labels.get(Label.LATEST), labels.get(Label.DEPLOYED)
    other_view = "unified" if params.view == "split" else "split"
    compare_url = _url("compare", function)
    suite_runs = suite_runs_of(version_ids=[base.id, target.id])
    context = {
        "has_tests": bool(suite_payloads(function=function)),
        "base_suite": suite_runs.get(base.id),
        "target_suite": suite_runs.get(target.id),
        "function": function,
        "base": base,
        "target": target,
        "params": params,
        "diff": diff,
        "rows": _rows(diff, params.view),
        "settings_changes": selectors.settings_schema_diff(
            old=base.settings_schema, new=target.settings_schema
        ),
        "latest_id": latest_id,
        "deployed_id": deployed_id,
        "choices": selectors.version_choices(function=function, include=(base, target)),
        "toggle_view_url": f"{compare_url}?{params.query(base, target, view=other_view)}",
        "other_view": other_view,
        "toggle_ws_url": f"{compare_url}?"
        + params.query(base, target, ws="" if params.ignore_whitespace else "1"),
        "full_url": f"{compare_url}?{params.query(base, target, full='1')}",
        "deployed_url": deployed_id
        and deployed_id != base.id
        and f"{compare_url}?{params.query(base, target, base=deployed_id)}",
        "swap_url": f"{compare_url}?{params.query(base, target, base=target.id, target=base.id)}",
        "expand_url": f"{_url('expand', function)}?{params.query(base, target)}",
        "restore_url": _url("restore", function, version_id=target.id),
        "history_url": _url("history", function),
        "editor_url": _after_restore_url(function),
        "can_edit": request.access.can("function.edit", function),
        "edit_denied_reason": denied_reason("function.edit"),
    }
    response = render(request, "versioning/compare.html", context)
    if request.GET.get("view") in VIEWS:
        response.set_cookie(VIEW_COOKIE, params.view, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@require_GET
@workspace_view
def expand(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id)
    base, target = _compare_pair(request, function)
    params = CompareParams.from_request(request)
    try:
        chunk = expand_chunk(
            base.code,
            target.code,
            params.options,
            old_start=int(request.GET.get("old_start", "")),
            new_start=int(request.GET.get("new_start", "")),
            count=int(request.GET.get("count", "")),
        )
    except ValueError as error:
        return HttpResponseBadRequest(f"Cannot expand: {error}", content_type="text/plain")
    template = f"versioning/_diff_rows_{params.view}.html"
    return render(request, template, {"rows": _rows([chunk], params.view)})


@require_http_methods(["GET", "POST"])
@workspace_view
def restore(request: WorkspaceRequest, function_id: str, version_id: str) -> HttpResponse:
    action = "function.edit" if request.method == "POST" else "function.view"
    function = _function(request, function_id, action)
    version = selectors.version_get_for_function(function=function, version_id=version_id)
    latest = selectors.latest_version(function=function)
    if request.method == "POST":
        restored = services.version_restore(version=version, user=request.user)
        if latest is not None:
            request.session[selectors.undo_session_key(function)] = {
                "previous_id": latest.id,
                "previous_number": latest.number,
                "restored_id": restored.id,
                "restored_number": restored.number,
            }
        messages.success(
            request,
            f"Restored v{version.number} as v{restored.number}, now LATEST. Nothing was deployed.",
        )
        return redirect(_after_restore_url(function))

    params = CompareParams.from_request(request)
    base = latest or version
    diff = selectors.version_diff(base=base, target=version, options=params.options)
    deployed = selectors.deployed_version(function=function)
    context = {
        "function": function,
        "version": version,
        "latest": latest,
        "deployed": deployed,
        "next_number": (latest.number + 1) if latest else 1,
        "base": base,
        "target": version,
        "params": params,
        "diff": diff,
        "rows": _rows(diff, params.view),
        "settings_changes": selectors.settings_schema_diff(
            old=base.settings_schema, new=version.settings_schema
        ),
        "expand_url": f"{_url('expand', function)}?{params.query(base, version)}",
        "full_url": f"{_url('compare', function)}?{params.query(base, version, full='1')}",
        "cancel_url": f"{_url('compare', function)}?{params.query(base, version)}",
        "restore_url": _url("restore", function, version_id=version.id),
        "can_edit": request.access.can("function.edit", function),
        "edit_denied_reason": denied_reason("function.edit"),
    }
    return render(request, "versioning/restore_confirm.html", context)


@require_POST
@workspace_view
def undo(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id, "function.edit")
    offer = selectors.undo_offer(session=request.session, function=function)
    if offer is None:
        messages.error(request, "There is no restore to undo: the function was saved since.")
        return redirect(_after_restore_url(function))
    previous = selectors.version_get_for_function(function=function, version_id=offer.previous_id)
    restored = services.version_restore(
        version=previous,
        user=request.user,
        note=f"Undid the restore of v{offer.restored_number}",
    )
    del request.session[selectors.undo_session_key(function)]
    messages.success(request, f"Undone: v{previous.number} is LATEST again, as v{restored.number}.")
    return redirect(_after_restore_url(function))
