"""Public API tokens: one workspace each, stored only as a hash of the secret."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token acting as its user, with that user's roles, in one workspace.

    The secret is shown once, when it is made; only its SHA-256 is kept. A token this high in
    entropy needs no slow hash: nobody can guess one from its digest.
    """

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="api_tokens"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    description = models.CharField(max_length=200, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the secret, so that owners can tell their tokens apart.
    hint = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.workspace})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
