"""Writes to the audit trail: one function, called by every service that changes something."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from functions_ui.audit.context import VIA_API, audit_context
from functions_ui.audit.models import AuditAction, AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import Model

    from functions_ui.workspaces.models import Workspace

# Keys that must never reach the trail, whatever a caller passes in `details`.
FORBIDDEN_DETAIL_KEYS = frozenset(
    {"value", "test_value", "secret", "password", "token", "key", "plaintext"}
)


def _target_fields(target: Model | tuple[str, str, str] | None) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, tuple):
        target_type, target_id, label = target
        return target_type, str(target_id), str(label)
    target_type = target._meta.model_name or ""
    target_id = getattr(target, "public_id", None) or target.pk
    label = getattr(target, "display_name", None) or str(target)
    return target_type, str(target_id), str(label)


def _actor(user: User | AnonymousUser | None) -> tuple[Any, str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    return user, user.get_username()


def audit_record(
    *,
    workspace: Workspace,
    action: str,
    user: User | AnonymousUser | None = None,
    target: Model | tuple[str, str, str] | None = None,
    details: Mapping[str, Any] | None = None,
    versions: Iterable[str | None] = (),
) -> AuditEvent:
    """Append an event: who (`user`, else the context's), through what, did `action` to what.

    `target` is a model instance (a Function, a Membership, ...) or a
    (type, id, label) tuple. `versions` are version ids, oldest first; Nones are skipped.
    """
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    details = dict(details or {})
    leaked = FORBIDDEN_DETAIL_KEYS & set(details)
    if leaked:
        raise ValueError(f"Audit details must not carry values: {sorted(leaked)}.")
    context = audit_context()
    actor, actor_name = _actor(user if user is not None else context.user)
    if not actor_name and context.via == VIA_API:
        actor_name = f"API token {context.token_label}"
    target_type, target_id, target_label = _target_fields(target)
    event = AuditEvent(
        workspace=workspace,
        actor=actor,
        actor_name=actor_name[:150],
        via=context.via,
        api_token_label=context.token_label if context.via == VIA_API else "",
        action=action,
        target_type=target_type[:32],
        target_id=target_id[:64],
        target_label=target_label[:200],
        details=details,
        version_ids=[version_id for version_id in versions if version_id],
    )
    event.save(force_insert=True)
    return event
