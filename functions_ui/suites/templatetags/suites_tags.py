"""Template filters of the behaviour and test-suite partials."""

from __future__ import annotations

from django import template

from functions_ui.runtime.types import STATUS_LABELS

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    """A run's status as people read it ("Message Rejected", not "message_rejected")."""
    return STATUS_LABELS.get(status, status)
