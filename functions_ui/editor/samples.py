"""Sample inputs for the Test tab, in the shape of Segment's spec events."""

from __future__ import annotations

import json

_COMMON = {
    "messageId": "test-message-3ve2j8",
    "timestamp": "2026-11-23T10:30:00.000Z",
    "receivedAt": "2026-11-23T10:30:00.412Z",
    "context": {"ip": "203.0.113.7", "library": {"name": "analytics.js", "version": "4.1.0"}},
}

SAMPLE_EVENTS: dict[str, dict] = {
    "track": {
        "type": "track",
        "event": "Order Completed",
        "userId": "user-1234",
        "properties": {"orderId": "o-5678", "revenue": 42.5, "currency": "EUR"},
        **_COMMON,
    },
    "identify": {
        "type": "identify",
        "userId": "user-1234",
        "traits": {"name": "Ada Lovelace", "email": "ada@example.com", "plan": "pro"},
        **_COMMON,
    },
    "page": {
        "type": "page",
        "name": "Pricing",
        "userId": "user-1234",
        "properties": {"url": "https://example.com/pricing", "title": "Pricing"},
        **_COMMON,
    },
    "screen": {
        "type": "screen",
        "name": "Checkout",
        "userId": "user-1234",
        "properties": {"step": 2},
        **_COMMON,
    },
    "group": {
        "type": "group",
        "groupId": "company-42",
        "userId": "user-1234",
        "traits": {"name": "Acme Inc.", "employees": 120},
        **_COMMON,
    },
    "alias": {"type": "alias", "previousId": "anon-9f8e", "userId": "user-1234", **_COMMON},
    "delete": {"type": "delete", "userId": "user-1234", **_COMMON},
}

SAMPLE_REQUEST_BODY = {
    "event": "Ticket Created",
    "userId": "user-1234",
    "properties": {"ticketId": 981, "priority": "high"},
}


def sample_event_json(event_type: str = "track") -> str:
    return json.dumps(SAMPLE_EVENTS[event_type], indent=2)


def sample_batch_json() -> str:
    return json.dumps([SAMPLE_EVENTS["track"], SAMPLE_EVENTS["identify"]], indent=2)


def sample_request_body_json() -> str:
    return json.dumps(SAMPLE_REQUEST_BODY, indent=2)
