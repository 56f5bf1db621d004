"""Role grants: what a member may do with the functions of a workspace."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    WORKSPACE_OWNER = "workspace_owner", "Workspace Owner"
    FUNCTIONS_ADMIN = "functions_admin", "Functions Admin"
    FUNCTIONS_READ_ONLY = "functions_read_only", "Functions Read-only"
    SOURCE_ADMIN = "source_admin", "Source Admin"


class RoleGrant(models.Model):
    """One role held by a member; roles are additive and the highest access wins."""

    membership = models.ForeignKey(
        "workspaces.Membership", on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField(max_length=32, choices=Role)
    # "All current and future functions" (Segment's default scope) unless a list is chosen.
    all_functions = models.BooleanField(default=True)
    functions = models.ManyToManyField("catalog.Function", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "role"], name="rolegrant_unique_role"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="rolegrant_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership}: {self.get_role_display()}"


class PasswordChangeDue(models.Model):
    """An account signed in with a one-time password that was handed over: until its owner sets
    a password of their own, every page leads to the change-password page."""

    user = models.OneToOneField(
        "auth.User", on_delete=models.CASCADE, related_name="password_change_due"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} must change the one-time password"
