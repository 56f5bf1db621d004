"""Retention: webhook runs, their events and deliveries go after DELIVERY_RETENTION_DAYS."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from functions_ui.deploys.models import FINAL_RUN_STATUSES, Delivery, MetricBucket, SourceRun


def delivery_records_trim(*, now: datetime | None = None) -> int:
    """Delete webhook runs (with their events and deliveries) older than the retention period.

    A run is kept while any of its deliveries may still happen (queued, running, retrying),
    however old it is. Returns how many runs went.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DELIVERY_RETENTION_DAYS)
    pending = Delivery.objects.exclude(status__in=FINAL_RUN_STATUSES).values("event__run_id")
    old_runs = SourceRun.objects.filter(received_at__lt=cutoff).exclude(pk__in=pending)
    deleted = 0
    # In slices, so that one sweep never holds a long write lock.
    while ids := list(old_runs.values_list("pk", flat=True)[:500]):
        SourceRun.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    # The metrics outlive the raw rows: they are small, and charts reach further back.
    MetricBucket.objects.filter(
        minute__lt=now - timedelta(days=settings.METRICS_RETENTION_DAYS)
    ).delete()
    return deleted
