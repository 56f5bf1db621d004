"""Template filters of the deploys pages."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from versioning.highlighting import highlight_lines

register = template.Library()


@register.filter
def highlighted_json(value: Any) -> SafeString:
    """A value as indented JSON, highlighted (every character escaped by highlight_lines)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    # Each line is already escaped HTML; joining them adds only newlines.
    return mark_safe("\n".join(highlight_lines(text)))  # noqa: S308


@register.filter
def highlighted_body(body: str) -> SafeString:
    """A request body: indented and highlighted when it is JSON, else as it came (escaped)."""
    try:
        return highlighted_json(json.loads(body))
    except ValueError:
        return mark_safe("\n".join(highlight_lines(body)))  # noqa: S308


@register.filter
def parse_iso(value: str) -> datetime | None:
    """A timestamp stored as ISO 8601 text (in a JSON column), as a datetime for `date`."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
