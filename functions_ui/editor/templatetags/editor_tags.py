"""Formatting helpers for the editor's templates."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON text; the template's autoescaping escapes it."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@register.filter
def get_item(mapping: dict | None, key: Any) -> Any:
    """mapping[key] for templates, or an empty list when absent."""
    return (mapping or {}).get(key, [])


@register.filter
def value_as_lines(value: Any) -> str:
    """An Array setting as one item per line, a Map as key=value lines: how the form edits them."""
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    if isinstance(value, dict):
        return "\n".join(f"{key}={item}" for key, item in value.items())
    return ""
