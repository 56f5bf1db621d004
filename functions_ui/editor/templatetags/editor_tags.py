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


@register.filter
def fetch_waterfall(result: Any) -> list[tuple[dict, float, float]]:
    """Each fetch of a run with where its bar starts and how wide it is, in % of the run."""
    fetches = list(getattr(result, "fetches", None) or [])
    ends = [float(f.get("start_ms") or 0) + float(f.get("duration_ms") or 0) for f in fetches]
    total = max([float(getattr(result, "duration_ms", 0) or 0), *ends, 0.001])
    return [
        (
            fetch,
            round(float(fetch.get("start_ms") or 0) / total * 100, 1),
            max(round(float(fetch.get("duration_ms") or 0) / total * 100, 1), 0.5),
        )
        for fetch in fetches
    ]


@register.filter
def setting_preview(setting: Any) -> str:
    """An Array or Map setting's saved test value as the code receives it: JSON, `[]` or `{}`
    when none is saved."""
    value = setting.test_value
    if value is None:
        value = [] if setting.type == "ARRAY" else {}
    return json.dumps(value, ensure_ascii=False)
