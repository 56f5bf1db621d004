"""Diffs of JSON values (an event in and out of an insert function, two versions' outputs)."""

from __future__ import annotations

import json
from typing import Any

from django import template

from versioning.diffing import DiffOptions, compute_diff, unified_rows

register = template.Library()

# A value's whole text is shown around the changes, nothing folded away: values are short.
_WHOLE_VALUE = DiffOptions(context_lines=100_000)


@register.inclusion_tag("versioning/_json_diff.html")
def json_diff(before: Any, after: Any, unchanged: str = "No difference.") -> dict[str, Any]:
    """A unified diff of two values' indented JSON; only what changed is marked."""
    old = json.dumps(before, indent=2, ensure_ascii=False, default=str)
    new = json.dumps(after, indent=2, ensure_ascii=False, default=str)
    rows = unified_rows(compute_diff(old, new, _WHOLE_VALUE))
    changed = sum(1 for row in rows if getattr(row, "kind", "equal") != "equal")
    return {"rows": rows, "changed": changed, "unchanged": unchanged}
