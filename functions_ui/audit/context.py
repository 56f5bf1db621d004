"""Who is acting, and through what: the request's channel, read by `audit_record`.

Services take no extra parameter for this. The web middleware marks every request as "ui"
with the signed-in user; the API's token authentication wraps its views in
`audit_via("api", token_label=..., user=...)`; anything outside a request (a Celery task,
a management command) is "system" unless it says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

VIA_UI = "ui"
VIA_API = "api"
VIA_SYSTEM = "system"
VIAS = (VIA_UI, VIA_API, VIA_SYSTEM)


@dataclass(frozen=True)
class AuditContext:
    via: str = VIA_SYSTEM
    token_label: str = ""
    # The acting user when a service is not told one; may be a lazy request.user.
    user: User | AnonymousUser | Any | None = None


_OUTSIDE_REQUESTS = AuditContext()
_current: ContextVar[AuditContext | None] = ContextVar("audit_context", default=None)


def audit_context() -> AuditContext:
    """The channel and actor of the code running now."""
    return _current.get() or _OUTSIDE_REQUESTS


@contextmanager
def audit_via(
    via: str,
    *,
    token_label: str = "",
    user: User | AnonymousUser | None = None,
) -> Iterator[AuditContext]:
    """Record everything done inside the block as done through `via` (and `token_label`)."""
    if via not in VIAS:
        raise ValueError(f"Unknown audit channel {via!r}; expected one of {VIAS}.")
    context = AuditContext(via=via, token_label=token_label[:120], user=user)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
