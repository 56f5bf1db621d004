"""The request a source function's `onRequest` receives: read and built one way for test and
deployed runs.

A deployed source's webhook and the editor's test webhook are both read by `read_webhook`, and
the editor's test request and a deployed source's webhook both go through `source_request`, so
a function that passes its test meets the same request once deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from functions_ui.runtime.types import SOURCE_BODY_LIMIT

WEBHOOK_CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
# Headers the function does not get: the dashboard's cookies and the proxy's own.
WEBHOOK_DROPPED_HEADERS = frozenset({"cookie", "host", "content-length"})
# Headers that carry the sender's credentials: a deployed function may need them (to check who
# is calling), so intake keeps them encrypted; a test capture, shown in the editor, drops them.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-access-token",
    }
)


@dataclass(frozen=True)
class IncomingWebhook:
    body: str
    headers: dict[str, str]
    query: str


class WebhookRefused(Exception):
    """A webhook request that cannot be taken: the HTTP status and a message for the sender."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def read_webhook(request: HttpRequest, *, keep_credentials: bool) -> IncomingWebhook:
    """Check a webhook request (type, size, UTF-8) and read what the function will get."""
    if request.content_type not in WEBHOOK_CONTENT_TYPES:
        raise WebhookRefused(415, "Send application/json or application/x-www-form-urlencoded.")
    too_large = WebhookRefused(413, f"The body is larger than {SOURCE_BODY_LIMIT // 1024} KiB.")
    try:
        declared = int(request.headers.get("content-length") or 0)
    except ValueError:
        declared = 0
    if declared > SOURCE_BODY_LIMIT:
        raise too_large
    try:
        raw = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(raw) > SOURCE_BODY_LIMIT:
        raise too_large
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRefused(400, "The body must be UTF-8 text.") from None
    dropped = (
        WEBHOOK_DROPPED_HEADERS
        if keep_credentials
        else WEBHOOK_DROPPED_HEADERS | CREDENTIAL_HEADERS
    )
    headers = {key: value for key, value in request.headers.items() if key.lower() not in dropped}
    return IncomingWebhook(body=body, headers=headers, query=request.META.get("QUERY_STRING", ""))


# Segment's functions see their webhook under this host; our own webhook URLs differ.
SOURCE_REQUEST_URL = "https://fn.segmentapis.com/"


def source_request(*, body: str, headers: dict[str, str], query: str) -> dict[str, Any]:
    """The runtime payload of one request: the body exactly as sent, headers and URL.

    The query travels in the URL only; `request.url.searchParams` reads it there (repeated keys
    included). A `queryParameters` field is for fixtures that give the query apart.
    """
    query = query.lstrip("?")
    return {
        "body": body,
        "headers": headers,
        "url": SOURCE_REQUEST_URL + (f"?{query}" if query else ""),
    }
