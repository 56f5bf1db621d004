"""What the editor keeps besides the code: saved test inputs and captured webhooks."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


class PayloadKind(models.TextChoices):
    REQUEST = "request", "Webhook request"
    EVENT = "event", "Event"

    @classmethod
    def for_type(cls, type_slug: str) -> PayloadKind:
        """A source is tried on webhook requests; destinations and inserts on events."""
        return cls.REQUEST if type_slug == "source" else cls.EVENT


class SavedPayload(models.Model):
    """A named test input a user saved to run again later."""

    function = models.ForeignKey(
        "catalog.Function", on_delete=models.CASCADE, related_name="saved_payloads"
    )
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=PayloadKind)
    data = models.JSONField()
    # What a run of this payload must do to pass the function's test suite (suites/expectations
    # .py): None, it is an input only.
    expect = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["function", "name"], name="savedpayload_unique_name"),
            models.CheckConstraint(
                condition=models.Q(kind__in=PayloadKind.values), name="savedpayload_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


def new_capture_token() -> str:
    return secrets.token_urlsafe(24)


class TestWebhook(models.Model):
    """The per-function test URL whose next POST fills the editor's request builder."""

    function = models.OneToOneField(
        "catalog.Function", on_delete=models.CASCADE, related_name="test_webhook"
    )
    token = models.CharField(max_length=64, unique=True, default=new_capture_token)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"test webhook of {self.function}"


class CapturedRequest(models.Model):
    """A request that arrived at a test webhook; only the newest few are kept."""

    webhook = models.ForeignKey(TestWebhook, on_delete=models.CASCADE, related_name="captures")
    headers = models.JSONField()
    query = models.CharField(max_length=2048, blank=True)
    body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"capture {self.pk} of {self.webhook.function}"
