"""A control a person may not use: a real disabled button whose reason screen readers announce."""

from __future__ import annotations

import itertools

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

_ids = itertools.count(1)


@register.simple_tag
def disabled_button(label: str, reason: str, classes: str = "") -> SafeString:
    """`<button disabled>` with the reason as its accessible description (and on hover).

    A disabled button is announced as unavailable, and the description says why; a span with
    aria-disabled could be neither reached by keyboard nor understood by a screen reader.
    """
    reason_id = f"why-disabled-{next(_ids)}"
    return format_html(
        '<button type="button" class="btn {}" disabled aria-describedby="{}" title="{}">{}</button>'
        '<span class="visually-hidden" id="{}">{}</span>',
        classes,
        reason_id,
        reason,
        label,
        reason_id,
        reason,
    )
