"""Workspaces and who belongs to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Workspace(models.Model):
    """A tenant: every function, instance and token belongs to exactly one workspace."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    # The health check of deployed instances (functions_ui/deploys/health.py): an instance
    # whose error rate over the window reaches the first threshold is degraded, the second
    # paused (0 never pauses); fewer runs than the minimum in the window prove nothing.
    health_window_minutes = models.PositiveSmallIntegerField(default=5)
    health_min_runs = models.PositiveIntegerField(default=20)
    health_degraded_percent = models.PositiveSmallIntegerField(default=25)
    health_pause_percent = models.PositiveSmallIntegerField(default=75)
    # Deploys (UI, Save & Deploy, API) of code whose test suite fails are refused; a Workspace
    # Owner may deploy anyway, and that is audited.
    block_failing_deploys = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(slug=""), name="workspace_slug_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:function_list", kwargs={"workspace_slug": self.slug})


class Membership(models.Model):
    """A user's place in a workspace; what they may do comes from their role grants."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace}"
