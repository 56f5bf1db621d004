"""Record refused writes in the audit trail, in one place for every view."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from catalog.models import Function
from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AccessDeniedAuditMiddleware:
    """A write the policy refused (PermissionDenied) inside a workspace becomes an
    "access.denied" event; Django then renders the 403 page as usual.

    Objects outside the user's workspace or scope answer 404 and are not recorded: to the
    user they do not exist.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        workspace = getattr(request, "workspace", None)
        if (
            isinstance(exception, PermissionDenied)
            and request.method in WRITE_METHODS
            and workspace is not None
        ):
            route = request.resolver_match
            audit_record(
                workspace=workspace,
                action=AuditAction.ACCESS_DENIED,
                target=_target(workspace, route.kwargs if route else {}),
                details={
                    "method": request.method,
                    "path": request.path,
                    "route": route.view_name if route else "",
                    "reason": str(exception) or "Not allowed.",
                },
            )
        return None


def _target(workspace, kwargs: dict):
    """The function the refused URL is about, when it names one the member can see."""
    function_id = kwargs.get("function_id")
    if function_id:
        function = Function.objects.filter(workspace=workspace, public_id=function_id).first()
        if function is not None:
            return function
    return None
