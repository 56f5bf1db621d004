"""Template filters of the behaviour and test-suite partials."""

from __future__ import annotations

from typing import Any

from django import template

from functions_ui.runtime.types import STATUS_LABELS
from functions_ui.suites import expectations

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    """A run's status as people read it ("Message Rejected", not "message_rejected")."""
    return STATUS_LABELS.get(status, status)


@register.filter
def test_checks(expect: dict[str, Any] | None) -> str:
    """What a saved payload's test checks: "ran without error" or "matched N expectations"."""
    return expectations.checked(expect)


@register.filter
def test_kind(expect: dict[str, Any] | None) -> str:
    """A saved payload as a test: "" (not one), "smoke" (must run without error) or "expects"."""
    if expect is None:
        return ""
    return "expects" if expectations.aspects_of(expect) else "smoke"
