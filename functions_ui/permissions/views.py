"""The members page: Workspace Owners add people, set their roles and scopes, remove them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.forms import add_service_errors
from functions_ui.permissions import selectors, services
from functions_ui.permissions.forms import MemberAccessForm, MemberAddForm
from functions_ui.permissions.policy import require
from functions_ui.workspaces.decorators import WorkspaceRequest, workspace_view


def _list_url(request: WorkspaceRequest) -> str:
    return reverse("members:list", kwargs={"workspace_slug": request.workspace.slug})


def _list_page(
    request: WorkspaceRequest, add_form: MemberAddForm, status: int = 200, **extra
) -> HttpResponse:
    context = {
        "rows": selectors.member_rows(workspace=request.workspace),
        "add_form": add_form,
        "last_owner_reason": services.LAST_OWNER_MESSAGE,
        **extra,
    }
    return render(request, "permissions/member_list.html", context, status=status)


@require_GET
@workspace_view
def member_list(request: WorkspaceRequest) -> HttpResponse:
    require(request.access, "workspace.manage")
    choices = selectors.function_choices(workspace=request.workspace)
    return _list_page(request, MemberAddForm(function_choices=choices))


@require_POST
@workspace_view
def member_add(request: WorkspaceRequest) -> HttpResponse:
    require(request.access, "workspace.manage")
    choices = selectors.function_choices(workspace=request.workspace)
    form = MemberAddForm(request.POST, function_choices=choices)
    if form.is_valid():
        try:
            _, password = services.membership_invite(
                workspace=request.workspace,
                username=form.cleaned_data["username"],
                grants=form.grants(),
                by=request.user,
                create_account=form.cleaned_data["create_account"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            username = form.cleaned_data["username"]
            if password:
                # Shown on this response only: never redirected through a message cookie.
                fresh = MemberAddForm(function_choices=choices)
                return _list_page(request, fresh, new_account=(username, password))
            messages.success(request, f"{username} is now a member.")
            return redirect(_list_url(request))
    return _list_page(request, form, status=422)


@require_http_methods(["GET", "POST"])
@workspace_view
def member_edit(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    require(request.access, "workspace.manage")
    member = selectors.member_row_get(workspace=request.workspace, membership_id=membership_id)
    choices = selectors.function_choices(workspace=request.workspace)
    if request.method == "POST":
        form = MemberAccessForm(request.POST, function_choices=choices, member=member)
        if form.is_valid():
            try:
                services.role_grants_set(
                    membership=member.membership, grants=form.grants(), by=request.user
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                name = member.membership.user.get_username()
                messages.success(request, f"Saved the roles of {name}.")
                return redirect(_list_url(request))
    else:
        form = MemberAccessForm(function_choices=choices, member=member)
    return render(
        request,
        "permissions/member_edit.html",
        {"member": member, "form": form, "last_owner_reason": services.LAST_OWNER_MESSAGE},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@workspace_view
def member_remove(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    require(request.access, "workspace.manage")
    member = selectors.member_row_get(workspace=request.workspace, membership_id=membership_id)
    error = ""
    if request.method == "POST":
        name = member.membership.user.get_username()
        removed_self = member.membership.user_id == request.user.pk
        try:
            services.membership_remove(membership=member.membership, by=request.user)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            messages.success(request, f"{name} is no longer a member.")
            if removed_self:
                return redirect("workspaces:pick")
            return redirect(_list_url(request))
    return render(
        request,
        "permissions/member_remove.html",
        {"member": member, "error": error, "last_owner_reason": services.LAST_OWNER_MESSAGE},
        status=422 if error else 200,
    )
