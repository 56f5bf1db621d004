"""Mark each web request as done "through the UI" by its signed-in user."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from functions_ui.audit.context import VIA_UI, audit_via


class AuditContextMiddleware:
    """Sets the audit context for the request; the API's token layer overrides it inside."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # request.user stays lazy: nothing is loaded unless an audit row is written.
        with audit_via(VIA_UI, user=getattr(request, "user", None)):
            return self.get_response(request)
