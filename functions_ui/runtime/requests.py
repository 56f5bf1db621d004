"""The request a source function's `onRequest` receives: built one way for test and deployed runs.

The editor's test request and a deployed source's webhook both go through `source_request`,
so a function that passes its test meets the same request once deployed.
"""

from __future__ import annotations

from typing import Any

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
