"""Template filters of the deploys pages."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from versioning.diffing import DiffOptions, compute_diff, unified_rows
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


# An event is short: its whole text is shown around the changes, nothing folded away.
_WHOLE_EVENT = DiffOptions(context_lines=100_000)


@register.inclusion_tag("deploys/_insert_diff.html")
def insert_diff(event_in: Any, event_out: Any) -> dict[str, Any]:
    """The insert function's change to an event, as a unified diff of their indented JSON."""
    before = json.dumps(event_in, indent=2, ensure_ascii=False, default=str)
    after = json.dumps(event_out, indent=2, ensure_ascii=False, default=str)
    diff = compute_diff(before, after, _WHOLE_EVENT)
    rows = unified_rows(diff)
    changed = sum(1 for row in rows if getattr(row, "kind", "equal") != "equal")
    return {"rows": rows, "changed": changed}


@register.filter
def parse_iso(value: str) -> datetime | None:
    """A timestamp stored as ISO 8601 text (in a JSON column), as a datetime for `date`."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
