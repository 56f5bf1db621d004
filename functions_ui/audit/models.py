"""The audit trail: an append-only record of who changed what in a workspace."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ImmutableAuditEventError(Exception):
    """Raised on an attempt to change or delete a recorded audit event."""


class AuditAction(models.TextChoices):
    FUNCTION_CREATE = "function.create", "Function created"
    FUNCTION_SAVE = "function.save", "Function saved"
    FUNCTION_UPDATE = "function.update", "Function details changed"
    FUNCTION_DELETE = "function.delete", "Function deleted"
    SETTINGS_CHANGE = "settings.change", "Settings changed"
    VERSION_RESTORE = "version.restore", "Version restored"
    FUNCTION_DEPLOY = "function.deploy", "Function deployed"
    DEPLOY_FAIL = "deploy.fail", "Deploy failed"
    DEPLOY_OVERRIDE = "deploy.override", "Deployed past failing tests"
    CANARY_START = "canary.start", "Canary started"
    CANARY_PROMOTE = "canary.promote", "Canary promoted"
    CANARY_ROLLBACK = "canary.rollback", "Canary rolled back"
    INSTANCE_CONNECT = "instance.connect", "Instance connected"
    INSTANCE_UPDATE = "instance.update", "Instance changed"
    INSTANCE_DELETE = "instance.delete", "Instance removed"
    INSTANCE_HEALTH = "instance.health", "Instance health changed"
    WORKSPACE_UPDATE = "workspace.update", "Workspace settings changed"
    ROLE_CHANGE = "role.change", "Roles changed"
    MEMBER_ADD = "member.add", "Member added"
    MEMBER_REMOVE = "member.remove", "Member removed"
    TOKEN_CREATE = "token.create", "API token created"
    TOKEN_REVOKE = "token.revoke", "API token revoked"
    ACCESS_DENIED = "access.denied", "Access denied"


class Via(models.TextChoices):
    UI = "ui", "UI"
    API = "api", "API token"
    SYSTEM = "system", "System"


class AuditEventQuerySet(models.QuerySet):
    """Reads only: bulk updates and deletes are refused like single ones."""

    def update(self, **kwargs):
        raise ImmutableAuditEventError("Audit events cannot be changed.")

    def delete(self):
        raise ImmutableAuditEventError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """One recorded action. Rows are only ever inserted, by `audit_record`.

    The actor's name, the target's label and the token's label are snapshots, so the trail
    still reads right after a user, a function or a token is gone; `actor` is the one column
    written later, set to NULL by the database when its user is deleted. `details` holds
    names and flags, never a setting's value or a token's secret.
    """

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    via = models.CharField(max_length=8, choices=Via, default=Via.UI)
    # Which API token (its label or prefix, never its secret); empty unless via is "api".
    api_token_label = models.CharField(max_length=120, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Ids of the versions involved, oldest first: the compare link shows the last against the
    # first (a save: [previous, new]; a restore: [previous LATEST, restored copy]).
    version_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="audit_ws_recent"),
            models.Index(fields=["workspace", "action", "-created_at"], name="audit_ws_action"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values), name="audit_action_valid"
            ),
            models.CheckConstraint(condition=models.Q(via__in=Via.values), name="audit_via_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ImmutableAuditEventError("A recorded audit event cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableAuditEventError("A recorded audit event cannot be deleted.")

    @property
    def detail_items(self) -> list[tuple[str, str]]:
        """The details as (key, text) pairs for display."""
        items = []
        for key, value in (self.details or {}).items():
            if isinstance(value, list | tuple):
                text = ", ".join(str(item) for item in value) or "—"
            elif isinstance(value, dict):
                text = ", ".join(f"{k}: {v}" for k, v in value.items()) or "—"
            else:
                text = str(value)
            items.append((key.replace("_", " "), text))
        return items
