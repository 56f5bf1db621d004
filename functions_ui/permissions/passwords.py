"""Passwords of one's own: every member can change theirs, and one handed over as a one-time
password must be changed at first sign-in."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy

from functions_ui.permissions.models import PasswordChangeDue

# Where a person who must change their password may still go.
ALLOWED_WHILE_DUE = ("password_change", "logout")


class PasswordChange(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("workspaces:pick")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        PasswordChangeDue.objects.filter(user__pk=self.request.user.pk or 0).delete()
        messages.success(self.request, "Your password is changed.")
        return response


class PasswordChangeRequiredMiddleware:
    """Send someone whose one-time password is still their password to change it first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path not in {reverse(name) for name in ALLOWED_WHILE_DUE}
            and not request.path.startswith(("/static/", "/hooks/", "/api/"))
            and PasswordChangeDue.objects.filter(user=user).exists()
        ):
            return redirect("password_change")
        return self.get_response(request)
