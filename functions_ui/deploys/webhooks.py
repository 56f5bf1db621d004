"""The public webhook of source instances: the HTTP edge of intake (see intake.py).

No session, no workspace: the token in the URL is the only credential. Every answer is JSON.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from functions_ui.deploys.intake import HoldLimitReached, webhook_accept
from functions_ui.runtime.requests import WebhookRefused, read_webhook

# Webhook intake -----------------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, token: str) -> HttpResponse:
    """A source instance's webhook: check the request, queue it, answer at once."""
    try:
        incoming = read_webhook(request, keep_credentials=True)
    except WebhookRefused as refused:
        return JsonResponse({"error": str(refused)}, status=refused.status)
    try:
        request_id = webhook_accept(
            token=token, body=incoming.body, headers=incoming.headers, query=incoming.query
        )
    except HoldLimitReached:
        return _busy("This source is paused and holds as many requests as it may: try again later.")
    except DatabaseError:
        return _busy("Busy: try again later.")
    if request_id is None:
        return JsonResponse({"error": "Unknown webhook."}, status=404)
    return JsonResponse({"status": "queued", "requestId": request_id})


def _busy(message: str) -> HttpResponse:
    """The request cannot be taken now: nothing was stored, the sender tries again."""
    response = JsonResponse({"error": message}, status=503)
    response["Retry-After"] = str(settings.DEPLOYS_WEBHOOK_RETRY_AFTER)
    return response


class WebhookLane:
    """Middleware: a source's webhook skips the middleware that serves people (sessions, users,
    CSRF, messages, htmx, audit), which cost a quarter of a webhook's CPU and do nothing for
    it: its token is its only credential. Placed right after SecurityMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and match.func is webhook:
                request.resolver_match = match
                response = webhook(request, *match.args, **match.kwargs)
                # As CommonMiddleware would: a sized answer, not a chunked one.
                response.headers["Content-Length"] = str(len(response.content))
                return response
        return self.get_response(request)
