"""Deploys, the instances that run a function's deployed code, and what those runs left.

An instance is one use of a function: a source with its own webhook URL, a destination
connected to sources, or an insert function in front of a destination. Each instance runs
the version its last deploy switched it to, never the function's unsaved or LATEST code.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from catalog.models import Function

from catalog.models import new_catalog_id

TOKEN_BYTES = 32


def new_instance_id(prefix: str) -> str:
    return prefix + new_catalog_id()


def new_webhook_token() -> str:
    """An unguessable token: the webhook URL's only credential."""
    return secrets.token_urlsafe(TOKEN_BYTES)


class DeployStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


ACTIVE_DEPLOY_STATUSES = (DeployStatus.QUEUED, DeployStatus.RUNNING)


class Health(models.TextChoices):
    """How an instance's recent runs went, as the health check judges them (health.py)."""

    HEALTHY = "healthy", "Healthy"
    DEGRADED = "degraded", "Degraded"
    PAUSED = "paused", "Paused"


# The claim that holds a paused instance's queued work: no worker claims it until resumed.
HELD = "held"


class InstanceBase(models.Model):
    """What every kind of instance has: a name, setting values and the version it runs."""

    public_id = models.CharField(max_length=40, unique=True, editable=False)
    name = models.CharField(max_length=120)
    version = models.ForeignKey(
        "versioning.Version", null=True, on_delete=models.CASCADE, related_name="+"
    )
    # Values of non-sensitive settings, by setting name.
    setting_values = models.JSONField(default=dict, blank=True)
    # Sensitive values by setting name, each a catalog.secrets token: never plaintext here.
    secret_values = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    # Set by the health check from the error rate of recent runs; a paused instance's work is
    # held (not run, not dropped) until a person resumes it. Inserts count against the
    # destination they sit in front of, so their own health stays healthy.
    health = models.CharField(max_length=16, choices=Health, default=Health.HEALTHY)
    health_reason = models.TextField(blank=True, default="")
    health_changed_at = models.DateTimeField(null=True, blank=True)
    # Runs before this moment no longer count (set on resume: the runs that paused it are
    # not held against it again).
    health_counted_from = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = models.Manager()
    # Each kind declares its own foreign key to its function (with its own related name), its
    # id prefix and its kind's name.
    function: models.ForeignKey[Function, Function]
    function_id: int
    ID_PREFIX: ClassVar[str]
    kind: ClassVar[str]

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SourceInstance(InstanceBase):
    """A source created from a source function; its webhook URL feeds `onRequest`."""

    ID_PREFIX = "src_"
    kind = "source"

    function = models.ForeignKey(
        "catalog.Function", on_delete=models.CASCADE, related_name="source_instances"
    )
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token)
    token_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta(InstanceBase.Meta):
        pass


class DestinationInstance(InstanceBase):
    """A destination function connected to sources: each of their events runs a handler."""

    ID_PREFIX = "dst_"
    kind = "destination"

    function = models.ForeignKey(
        "catalog.Function", on_delete=models.CASCADE, related_name="destination_instances"
    )
    sources = models.ManyToManyField(SourceInstance, related_name="destinations", blank=True)

    class Meta(InstanceBase.Meta):
        pass


class InsertInstance(InstanceBase):
    """An insert function in front of one destination instance (one insert per destination)."""

    ID_PREFIX = "ins_"
    kind = "insert"

    function = models.ForeignKey(
        "catalog.Function", on_delete=models.CASCADE, related_name="insert_instances"
    )
    destination = models.OneToOneField(
        DestinationInstance, on_delete=models.CASCADE, related_name="insert"
    )

    class Meta(InstanceBase.Meta):
        pass


class Deploy(models.Model):
    """One request to run a version on some instances of a function, and how it went."""

    function = models.ForeignKey(
        "catalog.Function", on_delete=models.CASCADE, related_name="deploys"
    )
    version = models.ForeignKey(
        "versioning.Version", on_delete=models.CASCADE, related_name="deploys"
    )
    status = models.CharField(max_length=16, choices=DeployStatus, default=DeployStatus.QUEUED)
    # "All instances" as chosen; the instance lists below are fixed when the deploy starts.
    target_all = models.BooleanField(default=True)
    source_instances = models.ManyToManyField(SourceInstance, blank=True, related_name="+")
    destination_instances = models.ManyToManyField(
        DestinationInstance, blank=True, related_name="+"
    )
    insert_instances = models.ManyToManyField(InsertInstance, blank=True, related_name="+")
    is_rollback = models.BooleanField(default=False)
    message = models.TextField(blank=True)
    problems = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_name = models.CharField(max_length=150, blank=True)
    # How the deploy was asked for (UI or which API token): a worker carries it out later,
    # and the audit trail names the requester, not the worker.
    requested_via = models.CharField(max_length=16, default="ui")
    requested_token_label = models.CharField(max_length=120, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["function", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DeployStatus.values), name="deploy_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Deploy {self.pk} of {self.function_id}: {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_DEPLOY_STATUSES

    @property
    def duration_ms(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.created_at).total_seconds() * 1000)

    @property
    def targets(self) -> list[InstanceBase]:
        """The instances this deploy switches (prefetch the kind's field for lists)."""
        from catalog.kinds import kind_of

        return list(getattr(self, kind_of(self.function.resource_type).deploy_targets).all())


class RunStatus(models.TextChoices):
    """Where one run of an event (or a webhook request) stands."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DELIVERED = "delivered", "Delivered"
    FILTERED = "filtered", "Filtered at insert function"
    UNSUPPORTED = "unsupported", "Unsupported event type"
    REJECTED = "rejected", "Rejected"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"


FINAL_RUN_STATUSES = (
    RunStatus.DELIVERED,
    RunStatus.FILTERED,
    RunStatus.UNSUPPORTED,
    RunStatus.REJECTED,
    RunStatus.FAILED,
)


class WebhookRequest(models.Model):
    """An accepted webhook request waiting for (or between attempts of) its source run.

    The database, not the broker, is the queue of record: a request is stored before the
    sender is answered, so it survives a restart of Redis, of a worker or of the web server.
    Workers claim rows in batches (a claim key and a lease); a row whose lease ran out (its
    worker died) is claimed again. The row goes once its run is final.
    """

    instance = models.ForeignKey(SourceInstance, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    request_id = models.CharField(max_length=32, unique=True)
    body = models.TextField(blank=True)
    # Headers as received, except credentials, which are in `secret_headers`, encrypted.
    headers = models.JSONField(default=dict, blank=True)
    secret_headers = models.JSONField(default=dict, blank=True)
    query = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    claim = models.CharField(max_length=32, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["workspace", "claim", "available_at"], name="webhookrequest_due"),
            models.Index(fields=["lease_until"], name="webhookrequest_lease"),
        ]

    def __str__(self) -> str:
        return f"Request {self.request_id}"


class SourceRun(models.Model):
    """One webhook request a source instance accepted, once a worker has run it."""

    instance = models.ForeignKey(SourceInstance, on_delete=models.CASCADE, related_name="runs")
    # Given at intake: a redelivered task finds its run here instead of running twice.
    request_id = models.CharField(max_length=32, unique=True)
    version = models.ForeignKey(
        "versioning.Version", null=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=16, choices=RunStatus)
    category = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    error = models.JSONField(null=True, blank=True)
    logs = models.JSONField(default=list, blank=True)
    duration_ms = models.FloatField(default=0.0)
    received_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The request as the request debugger shows it: its body and query, its headers with the
    # credential ones masked (their values were never stored in clear), and the run's fetches.
    body = models.TextField(blank=True, default="")
    headers = models.JSONField(default=dict, blank=True)
    query = models.TextField(blank=True, default="")
    fetches = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["instance", "-id"])]

    def __str__(self) -> str:
        return f"Run {self.request_id}: {self.status}"


class SourceEvent(models.Model):
    """An event a source instance's `onRequest` emitted: the instance's event log."""

    instance = models.ForeignKey(SourceInstance, on_delete=models.CASCADE, related_name="events")
    run = models.ForeignKey(SourceRun, on_delete=models.CASCADE, related_name="events")
    index = models.PositiveIntegerField()
    type = models.CharField(max_length=16)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["instance", "-id"])]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="sourceevent_unique_index")
        ]

    def __str__(self) -> str:
        return f"{self.type} event {self.pk}"


class Delivery(models.Model):
    """One event on its way to one destination instance, through its insert function."""

    destination = models.ForeignKey(
        DestinationInstance, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(SourceEvent, on_delete=models.CASCADE, related_name="deliveries")
    # The destination's workspace, kept here so that each workspace's queue is one index range.
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=16, choices=RunStatus, default=RunStatus.QUEUED)
    category = models.CharField(max_length=40, blank=True)
    # Where a final error happened: "insert" or "destination".
    stage = models.CharField(max_length=16, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Queued and retrying deliveries are claimed by a worker from this time on (a claim key
    # and a lease, as for webhook requests).
    available_at = models.DateTimeField(default=timezone.now)
    claim = models.CharField(max_length=32, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    version = models.ForeignKey(
        "versioning.Version", null=True, on_delete=models.CASCADE, related_name="+"
    )
    error = models.JSONField(null=True, blank=True)
    # What the delivery debugger shows of the last attempt: the handler's console (the first
    # LOG_LINES_KEPT lines) and outbound requests, and the event as the insert function
    # returned it (None when no insert function passed it on), secrets masked.
    logs = models.JSONField(default=list, blank=True)
    fetches = models.JSONField(default=list, blank=True)
    insert_output = models.JSONField(null=True, blank=True)
    # One entry per attempt: when, how it ended, how long it took, and why it failed.
    attempt_log = models.JSONField(default=list, blank=True)
    duration_ms = models.FloatField(default=0.0)
    created_at = models.DateTimeField(default=timezone.now)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["destination", "status"]),
            models.Index(fields=["destination", "-id"]),
            models.Index(
                fields=["workspace", "available_at"],
                name="delivery_due",
                condition=models.Q(status__in=["queued", "retrying"], claim=""),
            ),
            models.Index(
                fields=["lease_until"],
                name="delivery_lease",
                condition=models.Q(status="running"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["destination", "event"], name="delivery_unique_event"),
            models.CheckConstraint(
                condition=models.Q(status__in=RunStatus.values), name="delivery_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk}: {self.status}"


class InstanceError(models.Model):
    """A final error of an instance's run, for its Errors view (the newest 100 are kept)."""

    source = models.ForeignKey(
        SourceInstance, null=True, blank=True, on_delete=models.CASCADE, related_name="errors"
    )
    destination = models.ForeignKey(
        DestinationInstance,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="errors",
    )
    category = models.CharField(max_length=40)
    name = models.CharField(max_length=120, blank=True)
    message = models.TextField(blank=True)
    stage = models.CharField(max_length=16, blank=True)
    event_type = models.CharField(max_length=16, blank=True)
    logs = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source__isnull=False, destination__isnull=True)
                | models.Q(source__isnull=True, destination__isnull=False),
                name="instanceerror_one_instance",
            )
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.message[:40]}"


# Upper bounds (ms) of the run-duration histogram each metric bucket keeps; the last is open.
DURATION_BOUNDS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
OUTCOMES = ("delivered", "filtered", "unsupported", "rejected", "retrying", "failed")


class MetricBucket(models.Model):
    """One instance's outcomes and run durations in one minute, written by the pipeline.

    Charts and the metrics API read these rollups, never the raw runs, so they stay fast with
    millions of events and outlive the retention trim of the raw rows. Durations are kept as a
    histogram (counts per DURATION_BOUNDS_MS bin) so that percentiles can be read for any range.
    """

    function = models.ForeignKey(
        "catalog.Function", on_delete=models.CASCADE, related_name="metric_buckets"
    )
    instance_id = models.CharField(max_length=40)  # the instance's public id
    # "m": the row counts one minute; "h": one hour (the same runs again, so that a week's chart
    # sums 168 rows, not 10,080). `minute` is where the row's span starts.
    span = models.CharField(max_length=1, default="m")
    minute = models.DateTimeField()
    delivered = models.PositiveIntegerField(default=0)
    filtered = models.PositiveIntegerField(default=0)
    unsupported = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    retrying = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # Runs per duration bin: d0 up to 1 ms, d1 up to 2 ms, ... d13 past 10 s (DURATION_BOUNDS_MS).
    # Plain columns, so that concurrent writers add to them in one upsert.
    d0 = models.PositiveIntegerField(default=0)
    d1 = models.PositiveIntegerField(default=0)
    d2 = models.PositiveIntegerField(default=0)
    d3 = models.PositiveIntegerField(default=0)
    d4 = models.PositiveIntegerField(default=0)
    d5 = models.PositiveIntegerField(default=0)
    d6 = models.PositiveIntegerField(default=0)
    d7 = models.PositiveIntegerField(default=0)
    d8 = models.PositiveIntegerField(default=0)
    d9 = models.PositiveIntegerField(default=0)
    d10 = models.PositiveIntegerField(default=0)
    d11 = models.PositiveIntegerField(default=0)
    d12 = models.PositiveIntegerField(default=0)
    d13 = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["instance_id", "span", "minute"], name="metric_bucket_span_unique"
            )
        ]
        indexes = [models.Index(fields=["function", "span", "minute"], name="metric_function_span")]

    def __str__(self) -> str:
        return f"{self.instance_id} at {self.minute:%Y-%m-%d %H:%M}"


class CanaryStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PROMOTED = "promoted", "Promoted"
    ROLLED_BACK = "rolled_back", "Rolled back"


class Canary(models.Model):
    """A version tried on a share of one instance's events for a while, beside the one it runs.

    Each run picks its version by a hash of the event's messageId (or the request's id), so a
    retried event keeps its side. The pipeline counts both sides' runs, errors and time here;
    the sweep promotes the canary when its time is up, or rolls it back at once when its error
    rate passes the stable version's by more than the margin (canaries.py).
    """

    function = models.ForeignKey(
        "catalog.Function", on_delete=models.CASCADE, related_name="canaries"
    )
    instance_id = models.CharField(max_length=40)  # the instance's public id
    instance_name = models.CharField(max_length=120)
    stable_version = models.ForeignKey(
        "versioning.Version", on_delete=models.CASCADE, related_name="+"
    )
    canary_version = models.ForeignKey(
        "versioning.Version", on_delete=models.CASCADE, related_name="+"
    )
    percent = models.PositiveSmallIntegerField()
    margin_percent = models.PositiveSmallIntegerField(default=5)
    min_runs = models.PositiveIntegerField(default=20)
    status = models.CharField(max_length=16, choices=CanaryStatus, default=CanaryStatus.RUNNING)
    reason = models.TextField(blank=True, default="")
    stable_runs = models.PositiveBigIntegerField(default=0)
    stable_errors = models.PositiveBigIntegerField(default=0)
    stable_ms = models.FloatField(default=0.0)
    canary_runs = models.PositiveBigIntegerField(default=0)
    canary_errors = models.PositiveBigIntegerField(default=0)
    canary_ms = models.FloatField(default=0.0)
    started_by_name = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance_id"],
                condition=models.Q(status="running"),
                name="canary_one_running_per_instance",
            ),
            models.CheckConstraint(
                condition=models.Q(percent__gte=1, percent__lte=99), name="canary_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Canary of v{self.canary_version_id} on {self.instance_id}: {self.status}"

    @property
    def is_running(self) -> bool:
        return self.status == CanaryStatus.RUNNING

    @staticmethod
    def _rate(errors: int, runs: int) -> float | None:
        return 100 * errors / runs if runs else None

    @property
    def stable_error_percent(self) -> float | None:
        return self._rate(self.stable_errors, self.stable_runs)

    @property
    def canary_error_percent(self) -> float | None:
        return self._rate(self.canary_errors, self.canary_runs)

    @property
    def stable_mean_ms(self) -> float | None:
        return self.stable_ms / self.stable_runs if self.stable_runs else None

    @property
    def canary_mean_ms(self) -> float | None:
        return self.canary_ms / self.canary_runs if self.canary_runs else None
