"""Test suites: what each saved version did with the function's expectations."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SuiteStatus(models.TextChoices):
    PASSED = "passed", "Tests pass"
    FAILED = "failed", "Tests fail"
    ERROR = "error", "Tests could not run"


class SuiteRun(models.Model):
    """The latest run of a function's test suite (its payloads with expectations) on a version."""

    version = models.OneToOneField(
        "versioning.Version", on_delete=models.CASCADE, related_name="suite_run"
    )
    status = models.CharField(max_length=16, choices=SuiteStatus)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # [{"name": payload name, "problems": ["events[0].event: expected ..., got ..."]}]
    failures = models.JSONField(default=list, blank=True)
    duration_ms = models.FloatField(default=0.0)
    ran_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=SuiteStatus.values), name="suiterun_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version_id}: {self.status} ({self.passed} passed, {self.failed} failed)"

    @property
    def total(self) -> int:
        return self.passed + self.failed
