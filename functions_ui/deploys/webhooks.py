"""The public webhook of source instances: the HTTP edge of intake (see intake.py).

No session, no workspace: the token in the URL is the only credential. Every answer is JSON.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from functions_ui.deploys.intake import webhook_accept
from functions_ui.runtime.types import SOURCE_BODY_LIMIT

WEBHOOK_BODY_MAX_BYTES = SOURCE_BODY_LIMIT
WEBHOOK_CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
# Headers the function does not get: the dashboard's cookies and the proxy's own.
WEBHOOK_DROPPED_HEADERS = frozenset({"cookie", "host", "content-length"})


# Webhook intake -----------------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, token: str) -> HttpResponse:
    """A source instance's webhook: check the request, queue it, answer at once."""
    if request.content_type not in WEBHOOK_CONTENT_TYPES:
        return JsonResponse(
            {"error": "Send application/json or application/x-www-form-urlencoded."}, status=415
        )
    too_large = JsonResponse({"error": "The body is larger than 512 KiB."}, status=413)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > WEBHOOK_BODY_MAX_BYTES:
        return too_large
    try:
        raw = request.body
    except RequestDataTooBig:
        return too_large
    if len(raw) > WEBHOOK_BODY_MAX_BYTES:
        return too_large
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return JsonResponse({"error": "The body must be UTF-8 text."}, status=400)
    headers = {
        key: value
        for key, value in request.headers.items()
        if key.lower() not in WEBHOOK_DROPPED_HEADERS
    }
    try:
        request_id = webhook_accept(
            token=token,
            body=body,
            headers=headers,
            query=request.META.get("QUERY_STRING", ""),
        )
    except DatabaseError:
        return _busy()
    if request_id is None:
        return JsonResponse({"error": "Unknown webhook."}, status=404)
    return JsonResponse({"status": "queued", "requestId": request_id})


def _busy() -> HttpResponse:
    """The database cannot take the request now: nothing was stored, the sender tries again."""
    response = JsonResponse({"error": "Busy: try again later."}, status=503)
    response["Retry-After"] = str(settings.DEPLOYS_WEBHOOK_RETRY_AFTER)
    return response
