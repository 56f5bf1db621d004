"""Reads about deploys and instances: overviews, timelines, event logs and deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from catalog.kinds import KINDS, kind_of
from catalog.models import Function, FunctionSetting
from functions_ui.deploys import metrics
from functions_ui.deploys.models import (
    ACTIVE_DEPLOY_STATUSES,
    Canary,
    CanaryStatus,
    Delivery,
    Deploy,
    DestinationInstance,
    Health,
    InsertInstance,
    InstanceBase,
    InstanceError,
    RunStatus,
    SourceEvent,
    SourceInstance,
    SourceRun,
)
from functions_ui.permissions.policy import MemberAccess, require
from functions_ui.runtime.masking import MASK
from functions_ui.workspaces.models import Workspace
from versioning.models import Version
from versioning.selectors import deployed_version, latest_version

TIMELINE_LENGTH = 20
DELIVERY_FILTERS = ("delivered", "filtered", "unsupported", "rejected", "retrying", "failed")


@dataclass(frozen=True)
class InstanceRow:
    instance: InstanceBase
    behind: int  # how many versions LATEST is ahead of the instance's version
    on_deployed: bool = False  # whether it runs the DEPLOYED version
    activity: metrics.Activity | None = None  # its last 24 hours
    canary: Canary | None = None  # a canary running on it


@dataclass(frozen=True)
class DeployOverview:
    function: Function
    latest: Version | None
    deployed: Version | None
    instances: list[InstanceRow]
    mixed_versions: bool
    deploys: list[Deploy]
    active: Deploy | None
    canaries: list[Canary] = field(default_factory=list)

    @property
    def current(self) -> Deploy | None:
        """The deploy whose status the page shows: the running one, else the newest."""
        return self.active or (self.deploys[0] if self.deploys else None)

    @property
    def on_deployed(self) -> int:
        """How many instances run DEPLOYED."""
        return sum(1 for row in self.instances if row.on_deployed)

    @property
    def elsewhere(self) -> list[tuple[int, int]]:
        """(version number, instances) of the versions instances run besides DEPLOYED."""
        counts: dict[int, int] = {}
        for row in self.instances:
            if not row.on_deployed and row.instance.version is not None:
                number = row.instance.version.number
                counts[number] = counts.get(number, 0) + 1
        return sorted(counts.items(), reverse=True)


def _instances(function: Function) -> QuerySet[InstanceBase]:
    model = kind_of(function.resource_type).instance_model
    return (
        model.objects.filter(function=function)
        .select_related("version")
        .defer("version__code", "version__settings_schema")
        .order_by("name", "id")
    )


def instance_names_by_version(
    *, function: Function, version_ids: list[str]
) -> dict[str, list[str]]:
    """Which instances run each of these versions (one query, whatever the count)."""
    model = kind_of(function.resource_type).instance_model
    rows = (
        model.objects.filter(function=function, version_id__in=version_ids)
        .order_by("name", "id")
        .values_list("version_id", "name")
    )
    names: dict[str, list[str]] = {}
    for version_id, name in rows:
        names.setdefault(version_id, []).append(name)
    return names


def instance_rows(
    *,
    function: Function,
    latest: Version | None,
    deployed: Version | None = None,
    with_activity: bool = False,
) -> list[InstanceRow]:
    """The function's instances with how far each one's version is behind LATEST, whether it
    runs DEPLOYED, and (with_activity) its last 24 hours."""
    rows = []
    instances = list(_instances(function))
    activity = (
        metrics.instance_activity(instance_ids=[i.public_id for i in instances], now=timezone.now())
        if with_activity
        else {}
    )
    running = canaries_running(instance_ids=[i.public_id for i in instances])
    for instance in instances:
        number = instance.version.number if instance.version else 0
        rows.append(
            InstanceRow(
                instance,
                max((latest.number if latest else 0) - number, 0),
                deployed is not None and instance.version_id == deployed.pk,
                activity.get(instance.public_id),
                running.get(instance.public_id),
            )
        )
    return rows


def deploy_timeline(*, function: Function, limit: int = TIMELINE_LENGTH) -> list[Deploy]:
    """The function's newest deploys first, with their versions (not their code)."""
    return list(
        Deploy.objects.filter(function=function)
        .select_related("version", "function")
        .prefetch_related(kind_of(function.resource_type).deploy_targets)
        .defer("version__code", "version__settings_schema")
        .order_by("-id")[:limit]
    )


def deploy_overview(*, function: Function) -> DeployOverview:
    """Everything the deploy labels say, from one place: LATEST, DEPLOYED (the version of the
    function's newest successful deploy, to all or chosen instances), what each instance runs,
    and the deploys themselves."""
    latest = latest_version(function=function)
    deployed = deployed_version(function=function)
    rows = instance_rows(function=function, latest=latest, deployed=deployed, with_activity=True)
    deploys = deploy_timeline(function=function)
    active = next((d for d in deploys if d.status in ACTIVE_DEPLOY_STATUSES), None)
    return DeployOverview(
        function=function,
        latest=latest,
        deployed=deployed,
        instances=rows,
        mixed_versions=len({row.instance.version_id for row in rows}) > 1,
        deploys=deploys,
        active=active,
        canaries=canary_list(function=function),
    )


def deploy_get_for_function(*, function: Function, deploy_id: int | str) -> Deploy:
    deploy = (
        Deploy.objects.filter(function=function, pk=deploy_id).select_related("version").first()
        # ASCII digits only: "²".isdigit() is true, and int("²") fails.
        if str(deploy_id).isascii() and str(deploy_id).isdigit()
        else None
    )
    if deploy is None:
        raise Http404("No such deploy.")
    return deploy


def deploy_latest(*, function: Function) -> Deploy | None:
    deploys = Deploy.objects.filter(function=function).select_related("version")
    return deploys.order_by("-id").first()


def instance_get_for_user(
    *,
    workspace: Workspace,
    access: MemberAccess,
    instance_id: str,
    action: str = "function.view",
) -> InstanceBase:
    """An instance of the workspace whose function the member may see (else 404)."""
    models = (kind.instance_model for kind in KINDS)
    model = next((m for m in models if instance_id.startswith(m.ID_PREFIX)), None)
    instance = None
    if model is not None:
        instance = (
            model.objects.filter(public_id=instance_id, function__workspace=workspace)
            .select_related("function__workspace", "version")
            .first()
        )
    if instance is None or not access.can("function.view", instance.function):
        raise Http404("No such instance.")
    require(access, action, instance.function)
    return instance


def source_choices(*, workspace: Workspace) -> list[SourceInstance]:
    """Source instances a destination can connect to."""
    return list(
        SourceInstance.objects.filter(function__workspace=workspace)
        .select_related("function")
        .order_by("name")
    )


def destination_choices(*, workspace: Workspace) -> list[DestinationInstance]:
    """Destination instances without an insert function yet."""
    return list(
        DestinationInstance.objects.filter(function__workspace=workspace, insert__isnull=True)
        .select_related("function")
        .order_by("name")
    )


def instance_settings_rows(*, instance: InstanceBase) -> list[dict[str, Any]]:
    """The instance's settings for display: sensitive values only ever as the mask."""
    rows = []
    for setting in FunctionSetting.objects.filter(function_id=instance.function_id).order_by(
        "position", "id"
    ):
        if setting.sensitive:
            shown = MASK if setting.name in instance.secret_values else ""
        else:
            value = instance.setting_values.get(setting.name)
            shown = value
        rows.append({"setting": setting, "value": shown, "is_set": shown not in (None, "")})
    return rows


def source_event_list(*, instance: SourceInstance, limit: int = 50) -> list[SourceEvent]:
    return list(SourceEvent.objects.filter(instance=instance).order_by("-id")[:limit])


REQUEST_FILTERS = {
    "ok": (RunStatus.DELIVERED,),
    "errors": (RunStatus.FAILED, RunStatus.REJECTED),
    "retrying": (RunStatus.RETRYING,),
}


def request_list(
    *,
    instance: SourceInstance,
    search: str = "",
    status: str = "",
    before: datetime | None = None,
    limit: int = 50,
) -> list[SourceRun]:
    """The source's webhook requests, newest first, with what each one emitted and where that
    went (a constant number of queries). `search` finds a request id (what the sender got);
    `before` shows those received before a moment."""
    runs = SourceRun.objects.filter(instance=instance).select_related("version")
    if before is not None:
        runs = runs.filter(received_at__lt=before)
    if search.strip():
        runs = runs.filter(request_id__startswith=search.strip().lower()[:32])
    if status in REQUEST_FILTERS:
        runs = runs.filter(status__in=REQUEST_FILTERS[status])
    return list(
        runs.defer("version__code", "version__settings_schema")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=SourceEvent.objects.order_by("index").prefetch_related(
                    Prefetch(
                        "deliveries",
                        queryset=Delivery.objects.select_related("destination").only(
                            "id",
                            "status",
                            "event_id",
                            "destination__name",
                            "destination__public_id",
                        ),
                    )
                ),
            )
        )
        .order_by("-id")[:limit]
    )


def delivery_counts(*, destination: DestinationInstance) -> dict[str, int]:
    """How many deliveries of the destination are in each state (one query)."""
    return Delivery.objects.filter(destination=destination).aggregate(
        total=Count("id"),
        **{name: Count("id", filter=Q(status=name)) for name in DELIVERY_FILTERS},
        waiting=Count("id", filter=Q(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])),
    )


def delivery_list(
    *, destination: DestinationInstance, status: str = "", limit: int = 50
) -> list[Delivery]:
    deliveries = (
        Delivery.objects.filter(destination=destination)
        .select_related("event", "version")
        .defer("version__code", "version__settings_schema")
    )
    if status in DELIVERY_FILTERS:
        deliveries = deliveries.filter(status=status)
    return list(deliveries.order_by("-id")[:limit])


def retrying_count(*, instance: InstanceBase) -> int:
    """Runs of the instance that failed and will be tried again: not errors (yet)."""
    if isinstance(instance, SourceInstance):
        return SourceRun.objects.filter(instance=instance, status=RunStatus.RETRYING).count()
    if isinstance(instance, DestinationInstance):
        return Delivery.objects.filter(destination=instance, status=RunStatus.RETRYING).count()
    return 0


def error_list(*, instance: InstanceBase, limit: int = 100) -> list[InstanceError]:
    if isinstance(instance, SourceInstance):
        errors = InstanceError.objects.filter(source=instance)
    elif isinstance(instance, DestinationInstance):
        errors = InstanceError.objects.filter(destination=instance)
    else:
        assert isinstance(instance, InsertInstance)
        # Only the insert function's own errors: the destination's are behind a scope the
        # viewer of the insert function may not have.
        errors = InstanceError.objects.filter(
            destination_id=instance.destination_id, stage="insert"
        )
    return list(errors.order_by("-id")[:limit])


def unhealthy_instances(
    *, workspace: Workspace, function: Function | None = None
) -> list[InstanceBase]:
    """The workspace's (or one function's) degraded and paused instances, paused first."""
    found: list[InstanceBase] = []
    for model in (SourceInstance, DestinationInstance):
        instances = model.objects.filter(function__workspace=workspace).exclude(
            health=Health.HEALTHY
        )
        if function is not None:
            instances = instances.filter(function=function)
        found += instances.select_related("function")
    return sorted(found, key=lambda i: (i.health != Health.PAUSED, i.name))


@dataclass(frozen=True)
class InstancesHealth:
    """How many instances a function has, and how many are degraded or paused."""

    count: int = 0
    degraded: int = 0
    paused: int = 0


def instances_health_of(*, function_ids: list[int]) -> dict[int, InstancesHealth]:
    """Each function's instance count and health, for the catalog (one query per kind)."""
    counted: dict[int, dict[str, int]] = {}
    for kind in KINDS:
        rows = (
            kind.instance_model.objects.filter(function_id__in=function_ids)
            .values("function_id", "health")
            .annotate(n=Count("id"))
        )
        for row in rows:
            counts = counted.setdefault(row["function_id"], {})
            counts[row["health"]] = counts.get(row["health"], 0) + row["n"]
    return {
        pk: InstancesHealth(
            count=sum(counts.values()),
            degraded=counts.get(Health.DEGRADED, 0),
            paused=counts.get(Health.PAUSED, 0),
        )
        for pk, counts in counted.items()
    }


CANARY_FIELDS = ("stable_version", "canary_version")


def canaries_running(*, instance_ids: list[str]) -> dict[str, Canary]:
    """The canaries running on these instances, by public id (one query)."""
    running = Canary.objects.filter(status=CanaryStatus.RUNNING, instance_id__in=instance_ids)
    return {
        c.instance_id: c
        for c in running.select_related(*CANARY_FIELDS).defer(
            "stable_version__code", "canary_version__code"
        )
    }


def canary_list(
    *, function: Function, instance_id: str | None = None, limit: int = 20
) -> list[Canary]:
    """A function's (or one instance's) canaries, newest first."""
    found = Canary.objects.filter(function=function)
    if instance_id is not None:
        found = found.filter(instance_id=instance_id)
    return list(
        found.select_related(*CANARY_FIELDS).defer("stable_version__code", "canary_version__code")[
            :limit
        ]
    )
