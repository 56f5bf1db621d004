"""Immutable versions of a function's code and settings schema, and the labels on them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from versioning.ids import ID_LENGTH, new_version_id


class ImmutableVersionError(Exception):
    """Raised on an attempt to change or delete a saved version."""


class Version(models.Model):
    """One saved state of a function: its code and settings schema, never a setting's value.

    History is append-only: services only ever insert versions, and restoring one copies it
    into a new version. `save()` of an existing row and `delete()` raise as a last line of
    defence, because a rewritten version would make every compare and label built on it lie.
    Versions go only with their function, through the database cascade.
    """

    id = models.CharField(
        primary_key=True, max_length=ID_LENGTH, default=new_version_id, editable=False
    )
    function = models.ForeignKey(
        "catalog.Function", on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    code = models.TextField(blank=True)
    # [{name, label, description, type, required, sensitive}, ...]: the declared settings.
    settings_schema = models.JSONField(default=list, blank=True)
    # The name is kept as it was at save time, so history still reads right after a user
    # is renamed or removed (which sets `author` to NULL: the one column ever written later).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)
    # RESTRICT: a version cannot go while a newer one says it was restored from it, except
    # together with it when the whole function is deleted.
    restored_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )

    class Meta:
        ordering = ["function", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["function", "number"], name="version_unique_number"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="version_number_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.function_id} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ImmutableVersionError("A saved version cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableVersionError("A version cannot be deleted on its own.")

    @property
    def label(self) -> str:
        return f"v{self.number}"

    @property
    def public_id(self) -> str:
        """The id the API and URLs show (Segment's `Version.id`)."""
        return self.id


class Label(models.TextChoices):
    LATEST = "LATEST", "Latest"
    DEPLOYED = "DEPLOYED", "Deployed"


class VersionLabel(models.Model):
    """Where LATEST or DEPLOYED of a function points; moving a label never touches a version."""

    function = models.ForeignKey(
        "catalog.Function", on_delete=models.CASCADE, related_name="version_labels"
    )
    label = models.CharField(max_length=16, choices=Label)
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="labels")
    moved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["function", "label"], name="version_label_unique"),
            models.CheckConstraint(
                condition=models.Q(label__in=Label.values), name="version_label_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} of {self.function_id}: {self.version_id}"
