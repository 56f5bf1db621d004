"""Functions and the settings they declare."""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

BASE62 = string.digits + string.ascii_letters
DISPLAY_NAME_MAX_LENGTH = 120  # Segment's own limit; longer names used to fail with a 500 there.
SETTING_NAME_PATTERN = r"^[a-z][a-zA-Z0-9]*$"


class ResourceType(models.TextChoices):
    SOURCE = "SOURCE", "Source"
    DESTINATION = "DESTINATION", "Destination"
    INSERT_DESTINATION = "INSERT_DESTINATION", "Insert"


def new_catalog_id() -> str:
    """A 22-character base62 id, like the suffix of Segment's function ids."""
    return "".join(secrets.choice(BASE62) for _ in range(22))


class Function(models.Model):
    """A function class of a workspace: its code, metadata and settings schema."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="functions"
    )
    public_id = models.CharField(max_length=40, unique=True, editable=False)
    resource_type = models.CharField(max_length=32, choices=ResourceType)
    display_name = models.CharField(max_length=DISPLAY_NAME_MAX_LENGTH)
    description = models.TextField(blank=True)
    logo_url = models.URLField(max_length=500, blank=True)
    # LATEST's code, kept here for the catalog and editor to read; versioning's services are
    # its only writer (a save or restore appends a version and sets it in one transaction).
    code = models.TextField(blank=True)
    # Test values of settings a restore removed, by setting name (a sensitive one still only as
    # its encrypted token): they come back when a setting of that name, type and sensitivity
    # does, so that Restore then Undo loses nothing.
    parked_test_values = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "resource_type", "-updated_at"]),
            models.Index(fields=["workspace", "-updated_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                "workspace", Lower("display_name"), name="function_unique_name_in_workspace"
            ),
            models.CheckConstraint(
                condition=models.Q(resource_type__in=ResourceType.values),
                name="function_resource_type_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(display_name=""), name="function_display_name_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse(
            "catalog:function_detail",
            kwargs={"workspace_slug": self.workspace.slug, "function_id": self.public_id},
        )

    @property
    def catalog_id(self) -> str:
        """The id without its type prefix, as Segment's `catalogId`."""
        return self.public_id.split("_", 1)[1]

    @property
    def type_slug(self) -> str:
        from catalog.kinds import kind_of  # kinds imports this module

        return kind_of(self.resource_type).slug


class SettingType(models.TextChoices):
    STRING = "STRING", "String"
    BOOLEAN = "BOOLEAN", "Boolean"
    ARRAY = "ARRAY", "Array"
    TEXT_MAP = "TEXT_MAP", "Map"


class FunctionSetting(models.Model):
    """One setting a function declares; instances and test runs supply its value."""

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="settings")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=100)
    label = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=16, choices=SettingType, default=SettingType.STRING)
    required = models.BooleanField(default=False)
    sensitive = models.BooleanField(default=False)
    # The value used by editor test runs: plain JSON, or for a sensitive setting a token of
    # catalog.secrets, kept apart so that the plaintext never reaches a page, a version or a log.
    test_value = models.JSONField(null=True, blank=True)
    test_value_encrypted = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["function", "name"], name="setting_unique_name"),
            models.CheckConstraint(
                condition=models.Q(type__in=SettingType.values), name="setting_type_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(name__regex=SETTING_NAME_PATTERN), name="setting_name_camelcase"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.function}: {self.name}"

    @property
    def has_test_value(self) -> bool:
        return bool(self.test_value_encrypted) if self.sensitive else self.test_value is not None
