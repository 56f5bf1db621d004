"""Deploys and instances pages and the editor's Save & Deploy (the public webhook: webhooks.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from catalog.models import Function, FunctionSetting, SettingType
from catalog.selectors import function_get_for_user
from functions_ui.deploys import canaries, health, instances, metrics, selectors, services
from functions_ui.deploys.models import (
    OUTCOMES,
    DestinationInstance,
    Health,
    InsertInstance,
    InstanceBase,
    SourceInstance,
)
from functions_ui.permissions.policy import (
    SAVE_AND_DEPLOY,
    denied_reason,
    first_denied,
    require_all,
)
from functions_ui.suites.services import DeployBlocked, deploy_gate
from functions_ui.workspaces.decorators import WorkspaceRequest, workspace_view
from versioning.selectors import (
    deployed_version,
    latest_version,
    version_choices,
    version_get_for_function,
)
from versioning.services import StaleVersionError

# Deploys ------------------------------------------------------------------------------------


def _function(
    request: WorkspaceRequest, function_id: str, action: str = "function.view"
) -> Function:
    return function_get_for_user(
        workspace=request.workspace, access=request.access, function_id=function_id, action=action
    )


def _deploys_url(function: Function) -> str:
    return reverse("deploys:function", args=[function.workspace.slug, function.public_id])


def _chosen_instances(request: WorkspaceRequest) -> list[str] | None:
    """None for "all instances", else the ids ticked in the chooser."""
    if request.POST.get("target", "all") == "all":
        return None
    return request.POST.getlist("instances")


def _posted_fields(request: WorkspaceRequest, *skip: str) -> list[tuple[str, str]]:
    """The form as posted, to post it again from a confirmation (a rollback, an override)."""
    return [
        (key, value)
        for key, values in request.POST.lists()
        if key not in ("csrfmiddlewaretoken", *skip)
        for value in values
    ]


def _gate(request: WorkspaceRequest, function: Function, code: str, label: str, action: str):
    """None when the deploy may go on, else the answer that says why not (suites.deploy_gate)."""
    try:
        deploy_gate(
            function=function,
            code=code,
            label=label,
            access=request.access,
            user=request.user,
            override=bool(request.POST.get("override_tests")),
        )
    except DeployBlocked as blocked:
        context = {
            "function": function,
            "message": blocked.messages[0],
            "failures": blocked.outcome.failures,
            "can_override": request.access.can("workspace.manage"),
            "action": action,
            "fields": _posted_fields(request, "override_tests"),
        }
        return render(request, "deploys/_deploy_blocked.html", context)
    return None


def _status_response(
    request: WorkspaceRequest, function: Function, deploy, saved_version=None
) -> HttpResponse:
    context = {"function": function, "deploy": deploy, "saved_version": saved_version}
    response = render(request, "deploys/_deploy_status.html", context)
    trigger_client_event(response, "deploy-started", {"deployId": deploy.pk})
    return response


@require_GET
@workspace_view
def function_deploys(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """A function's instances, its deploy form and the timeline of its deploys."""
    function = _function(request, function_id)
    overview = selectors.deploy_overview(function=function)
    context = {
        "function": function,
        "overview": overview,
        "versions": version_choices(function=function),
        "can_deploy": request.access.can("function.deploy", function),
        "can_connect": request.access.can("instance.connect", function),
        "deploy_denied_reason": denied_reason("function.deploy"),
        "connect_denied_reason": denied_reason("instance.connect"),
    }
    return render(request, "deploys/function_deploys.html", context)


@require_POST
@workspace_view
def deploy_create(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """Deploy a chosen version (an older one is a rollback) to all or chosen instances."""
    function = _function(request, function_id, "function.deploy")
    version_id = request.POST.get("version_id", "")
    version = (
        version_get_for_function(function=function, version_id=version_id)
        if version_id
        else latest_version(function=function)
    )
    if version is None:
        raise Http404("The function has no version to deploy.")
    deployed = deployed_version(function=function)
    if deployed and version.number < deployed.number and not request.POST.get("confirmed"):
        # A rollback changes what runs to older code: the person says so once more.
        context = {
            "function": function,
            "version": version,
            "deployed": deployed,
            "fields": _posted_fields(request, "confirmed"),
        }
        return render(request, "deploys/_rollback_confirm.html", context)
    action = reverse("deploys:deploy_create", args=[function.workspace.slug, function.public_id])
    blocked = _gate(request, function, version.code, f"v{version.number}", action)
    if blocked is not None:
        return blocked
    try:
        deploy = services.deploy_start(
            function=function,
            version=version,
            user=request.user,
            instance_ids=_chosen_instances(request),
            message=request.POST.get("message", ""),
        )
    except ValidationError as error:
        if request.htmx:
            return render(
                request,
                "deploys/_deploy_status.html",
                {"function": function, "errors": error.messages},
            )
        messages.error(request, " ".join(error.messages))
        return redirect(_deploys_url(function))
    if request.htmx:
        return _status_response(request, function, deploy)
    messages.success(request, f"Deploying v{version.number}.")
    return redirect(_deploys_url(function))


@require_GET
@workspace_view
def deploy_chooser(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """The editor's Save & Deploy dialog: which instances get the change."""
    function = _function(request, function_id)
    reason = first_denied(request.access, SAVE_AND_DEPLOY, function)
    latest = latest_version(function=function)
    context = {
        "function": function,
        "instances": selectors.instance_rows(function=function, latest=latest),
        "can_save_and_deploy": reason is None,
        "denied_reason": reason,
    }
    return render(request, "deploys/_save_and_deploy.html", context)


@require_POST
@workspace_view
def save_and_deploy(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """Save the editor's code as a version, then deploy it to the chosen instances."""
    function = _function(request, function_id)
    require_all(request.access, SAVE_AND_DEPLOY, function)
    code = request.POST.get("code", "").replace("\r\n", "\n")
    action = reverse("deploys:save_and_deploy", args=[function.workspace.slug, function.public_id])
    # The code is checked before it is saved: a refused deploy saves nothing either.
    blocked = _gate(request, function, code, "This code", action)
    if blocked is not None:
        return blocked
    try:
        version, deploy = services.save_and_deploy(
            function=function,
            user=request.user,
            code=code,
            base_version_id=request.POST.get("base_version_id") or None,
            note=request.POST.get("note", "").strip()[:200],
            instance_ids=_chosen_instances(request),
        )
    except StaleVersionError as error:
        errors = [f"{error} Reload the editor to see it before deploying."]
    except ValidationError as error:
        errors = error.messages
    else:
        if not request.htmx:
            messages.success(request, f"Saved v{version.number} and started deploying it.")
            return redirect(_deploys_url(function))
        response = _status_response(request, function, deploy, saved_version=version)
        trigger_client_event(
            response, "version-saved", {"versionId": version.public_id, "number": version.number}
        )
        return response
    if not request.htmx:
        messages.error(request, " ".join(errors))
        return redirect(_deploys_url(function))
    # htmx swaps only successful answers: the problem goes where the status would.
    context = {"function": function, "errors": errors}
    return render(request, "deploys/_deploy_status.html", context)


@require_GET
@workspace_view
def deploy_status(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """The newest (or a given) deploy's status; the partial polls itself while it runs."""
    function = _function(request, function_id)
    deploy_id = request.GET.get("deploy")
    deploy = (
        selectors.deploy_get_for_function(function=function, deploy_id=deploy_id)
        if deploy_id
        else selectors.deploy_latest(function=function)
    )
    context = {
        "function": function,
        "deploy": deploy,
        "deployed": deployed_version(function=function),
    }
    response = render(request, "deploys/_deploy_status.html", context)
    if deploy is not None and not deploy.is_active and request.GET.get("was") == "active":
        trigger_client_event(response, "deploy-finished", {"deployId": deploy.pk})
    return response


@require_GET
@workspace_view
def instance_list(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """The function's instances with the deploy summary, or (?part=chooser) the deploy form's
    instance chooser: both refreshed as deploys go."""
    function = _function(request, function_id)
    overview = selectors.deploy_overview(function=function)
    if request.GET.get("part") == "chooser":
        return render(request, "deploys/_instance_chooser.html", {"instances": overview.instances})
    return render(request, "deploys/_instances.html", {"function": function, "overview": overview})


@require_GET
@workspace_view
def deploy_timeline(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    function = _function(request, function_id)
    overview = selectors.deploy_overview(function=function)
    return render(
        request, "deploys/_deploy_timeline.html", {"function": function, "overview": overview}
    )


# Instances ----------------------------------------------------------------------------------


def _raw_settings(request: WorkspaceRequest, function: Function) -> dict[str, object]:
    raw: dict[str, object] = {}
    for setting in FunctionSetting.objects.filter(function=function):
        key = f"setting-{setting.name}"
        if setting.type == SettingType.BOOLEAN:
            raw[setting.name] = key in request.POST
        else:
            raw[setting.name] = request.POST.get(key, "")
    return raw


def _connect_context(request: WorkspaceRequest, function: Function, **extra) -> dict[str, object]:
    return {
        "function": function,
        "function_settings": FunctionSetting.objects.filter(function=function).order_by(
            "position", "id"
        ),
        "sources": selectors.source_choices(workspace=request.workspace),
        "destinations": selectors.destination_choices(workspace=request.workspace),
        "values": {},
        **extra,
    }


def _instance_url(instance: InstanceBase) -> str:
    return reverse("deploys:instance", args=[instance.function.workspace.slug, instance.public_id])


@require_http_methods(["GET", "POST"])
@workspace_view
def instance_connect(request: WorkspaceRequest, function_id: str) -> HttpResponse:
    """Connect Source / connect a destination / attach an insert function: a new instance."""
    function = _function(request, function_id, "instance.connect")
    if request.method == "GET":
        return render(request, "deploys/instance_connect.html", _connect_context(request, function))
    name = request.POST.get("name", "")
    raw = _raw_settings(request, function)
    try:
        instance = instances.instance_create(
            function=function,
            user=request.user,
            name=name,
            raw_settings=raw,
            source_ids=request.POST.getlist("sources"),
            destination_id=request.POST.get("destination", ""),
            enabled="enabled" in request.POST,
        )
    except ValidationError as error:
        # A rejected form never echoes a secret back into the page.
        sensitive_keys = {
            f"setting-{name}"
            for name in function.settings.filter(sensitive=True).values_list("name", flat=True)
        }
        context = _connect_context(
            request,
            function,
            errors=error.message_dict if hasattr(error, "error_dict") else {"": error.messages},
            values={k: v for k, v in request.POST.items() if k not in sensitive_keys},
            name=name,
        )
        return render(request, "deploys/instance_connect.html", context, status=422)
    messages.success(request, f"Connected “{instance.name}”.")
    return redirect(_instance_url(instance))


def _instance(request: WorkspaceRequest, instance_id: str, action: str = "function.view"):
    return selectors.instance_get_for_user(
        workspace=request.workspace, access=request.access, instance_id=instance_id, action=action
    )


def _instance_context(request: WorkspaceRequest, instance: InstanceBase, **extra) -> dict:
    """The whole instance page: its facts and every live part its kind has."""
    function = instance.function
    latest = latest_version(function=function)
    number = instance.version.number if instance.version else 0
    context = {
        "instance": instance,
        "function": function,
        "latest": latest,
        "behind": max((latest.number if latest else 0) - number, 0),
        "settings_rows": selectors.instance_settings_rows(instance=instance),
        "can_connect": request.access.can("instance.connect", function),
        "connect_denied_reason": denied_reason("instance.connect"),
        "held": health.held_count(instance=instance) if instance.health == Health.PAUSED else 0,
        "hold_limit": settings.HEALTH_HOLD_LIMIT,
        **extra,
    }
    for part in INSTANCE_PARTS[type(instance)]:
        context.update(_part_context(request, instance, part))
    # The replay card chooses among the same versions as the canary form (one query for both).
    context["versions"] = context["canary_versions"] or version_choices(function=function)
    if isinstance(instance, SourceInstance):
        context["webhook_url"] = webhook_url(request, instance)
        context["connected"] = list(instance.destinations.select_related("function"))
    elif isinstance(instance, DestinationInstance):
        context["connected"] = list(instance.sources.select_related("function"))
        context["insert"] = InsertInstance.objects.filter(destination=instance).first()
        context["source_choices"] = selectors.source_choices(workspace=request.workspace)
    return context


# The live parts of each kind's page; each polls for itself and is built alone when it does.
INSTANCE_PARTS: dict[type, tuple[str, ...]] = {
    SourceInstance: ("metrics", "requests", "events", "errors", "canary"),
    DestinationInstance: ("metrics", "delivery", "errors", "canary"),
    InsertInstance: ("metrics", "errors", "canary"),
}


def _part_context(request: WorkspaceRequest, instance: InstanceBase, part: str) -> dict:
    """What one live part of the instance page shows (nothing of the other parts)."""
    status = request.GET.get("status", "")
    if part == "canary":
        return _canary_context(request, instance)
    if part == "metrics":
        return _metrics_context(request, instance)
    if part == "errors":
        return {
            "errors_list": selectors.error_list(instance=instance),
            "retrying": selectors.retrying_count(instance=instance),
        }
    if part == "events":
        assert isinstance(instance, SourceInstance)
        return {"events": selectors.source_event_list(instance=instance)}
    if part == "requests":
        assert isinstance(instance, SourceInstance)
        search = request.GET.get("q", "")[:32]
        try:
            before = _utc(request.GET["before"]) if request.GET.get("before") else None
        except ValueError:
            before = None
        return {
            "request_status": status if status in selectors.REQUEST_FILTERS else "",
            "request_search": search,
            "request_before": before,
            "requests": selectors.request_list(
                instance=instance, search=search, status=status, before=before
            ),
        }
    assert isinstance(instance, DestinationInstance)
    return {
        "delivery_status": status if status in selectors.DELIVERY_FILTERS else "",
        "counts": selectors.delivery_counts(destination=instance),
        "deliveries": selectors.delivery_list(destination=instance, status=status),
    }


def _canary_context(request: WorkspaceRequest, instance: InstanceBase, **extra) -> dict:
    function = instance.function
    canary = selectors.canaries_running(instance_ids=[instance.public_id]).get(instance.public_id)
    return {
        "canary": canary,
        "past_canaries": [
            c
            for c in selectors.canary_list(function=function, instance_id=instance.public_id)
            if not c.is_running
        ][:5],
        "can_deploy": request.access.can("function.deploy", function),
        "deploy_denied_reason": denied_reason("function.deploy"),
        # The start form's version choices: a running canary's live part, polled every 2 s,
        # needs none.
        "canary_versions": [] if canary else version_choices(function=function),
        "latest": latest_version(function=function),
        **extra,
    }


def _canary_part(request: WorkspaceRequest, instance: InstanceBase, **extra) -> HttpResponse:
    context = {"instance": instance, **_canary_context(request, instance, **extra)}
    return render(request, "deploys/_instance_canary.html", context)


@require_POST
@workspace_view
def canary_start(request: WorkspaceRequest, instance_id: str) -> HttpResponse:
    """Try a version on a share of the instance's events for a while."""
    instance = _instance(request, instance_id, "function.deploy")
    version = version_get_for_function(
        function=instance.function, version_id=request.POST.get("version", "")
    )
    try:
        canaries.canary_start(
            instance=instance,
            version=version,
            percent=_int(request.POST.get("percent"), 10),
            minutes=_int(request.POST.get("minutes"), 30),
            margin_percent=_int(request.POST.get("margin"), 5),
            user=request.user,
        )
    except ValidationError as error:
        if not request.htmx:
            messages.error(request, " ".join(error.messages))
            return redirect(_instance_url(instance))
        return _canary_part(request, instance, canary_errors=error.messages)
    if not request.htmx:
        return redirect(_instance_url(instance))
    return _canary_part(request, instance)


@require_POST
@workspace_view
def canary_finish(request: WorkspaceRequest, instance_id: str) -> HttpResponse:
    """Promote the running canary now (a deploy of its version), or roll it back."""
    instance = _instance(request, instance_id, "function.deploy")
    running = selectors.canaries_running(instance_ids=[instance.public_id])
    canary = running.get(instance.public_id)
    if canary is not None:
        promote = bool(request.POST.get("promote"))
        who = request.user.get_username()
        canaries.canary_finish(
            canary=canary,
            promote=promote,
            reason=f"{'promoted' if promote else 'rolled back'} by {who}",
            user=request.user,
        )
    if not request.htmx:
        return redirect(_instance_url(instance))
    response = _canary_part(request, instance)
    trigger_client_event(response, "deploy-started", {})
    return response


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


# Time ranges of the metrics card, and the bucket each is drawn in.
METRIC_RANGES = {
    "1h": ("Last hour", timedelta(hours=1), "MINUTE"),
    "24h": ("24 hours", timedelta(days=1), "HOUR"),
    "7d": ("7 days", timedelta(days=7), "HOUR"),
}


def _metric_range(request: WorkspaceRequest) -> tuple[str, datetime, datetime, str]:
    """The chosen range (a preset, or custom from `start` to `end`, UTC), and a problem."""
    key = request.GET.get("range", "24h")
    end = timezone.now()
    if key == "custom":
        try:
            start = _utc(request.GET.get("start", ""))
            chosen_end = _utc(request.GET.get("end", ""))
        except ValueError:
            return "24h", end - timedelta(days=1), end, "Give a start and an end, both dates."
        if start >= chosen_end:
            return "24h", end - timedelta(days=1), end, "The start must come before the end."
        # No range is longer than the metrics are kept (nor its chart wider than a few
        # hundred days).
        longest = timedelta(days=settings.METRICS_RETENTION_DAYS)
        return "custom", max(start, chosen_end - longest), chosen_end, ""
    key = key if key in METRIC_RANGES else "24h"
    return key, end - METRIC_RANGES[key][1], end, ""


def _utc(value: str) -> datetime:
    """An ISO 8601 date and time (a browser's datetime-local, read as UTC)."""
    moment = datetime.fromisoformat(value.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _metrics_context(request: WorkspaceRequest, instance: InstanceBase) -> dict[str, object]:
    key, start, end, range_problem = _metric_range(request)
    granularity = (
        METRIC_RANGES[key][2] if key in METRIC_RANGES else metrics.granularity_for(end - start)
    )
    series = metrics.series(
        function=instance.function,
        instance_id=instance.public_id,
        start=start,
        end=end,
        granularity=granularity,
    )
    totals = {name: sum(point[name] for point in series) for name in OUTCOMES}
    runs = sum(totals.values()) - totals["retrying"]
    errors = totals["failed"] + totals["rejected"]
    return {
        "metric_ranges": [(k, label) for k, (label, _, _) in METRIC_RANGES.items()],
        "metric_range": key,
        "metric_start": start,
        "metric_end": end,
        "metric_range_problem": range_problem,
        "metric_granularity": granularity,
        "metric_series": series,
        "metric_series_id": f"metrics-{instance.public_id}",
        "metric_outcomes": [(name, name.capitalize()) for name in OUTCOMES],
        "metric_totals": totals,
        "metric_error_rate": f"{errors / runs:.1%}" if runs else "—",
        "flow": _flow(instance, start, end),
    }


def _flow(instance: InstanceBase, start: datetime, end: datetime) -> list[dict[str, object]]:
    """The paths events take through the instance: source → insert → destination, each stage
    with its outcome counts over the range (a destination's include its insert's drops)."""
    if isinstance(instance, SourceInstance):
        sources = [instance]
        destinations = list(instance.destinations.select_related("insert"))
    elif isinstance(instance, DestinationInstance):
        sources = list(instance.sources.all())
        destinations = [instance]
    else:
        return []
    counted = metrics.totals(
        instance_ids=[i.public_id for i in (*sources, *destinations)], start=start, end=end
    )
    paths = []
    for source in sources:
        for destination in destinations:
            insert = getattr(destination, "insert", None)
            paths.append(
                {
                    "source": source,
                    "source_counts": counted[source.public_id],
                    "insert": insert if insert is not None and insert.enabled else None,
                    "destination": destination,
                    "counts": counted[destination.public_id],
                }
            )
    return paths


def webhook_url(request: WorkspaceRequest, instance: SourceInstance) -> str:
    path = reverse("instance_webhook", args=[instance.webhook_token])
    base = settings.DEPLOYS_WEBHOOK_BASE_URL.rstrip("/")
    return base + path if base else request.build_absolute_uri(path)


@require_GET
@workspace_view
def instance_detail(request: WorkspaceRequest, instance_id: str) -> HttpResponse:
    """An instance: its version, webhook URL, settings, event log or deliveries, errors."""
    instance = _instance(request, instance_id)
    part = request.GET.get("part")
    if request.htmx and part in INSTANCE_PARTS[type(instance)]:
        # A live part polling: build that part only, not the whole page.
        context = {"instance": instance, **_part_context(request, instance, part)}
        return render(request, f"deploys/_instance_{part}.html", context)
    return render(request, "deploys/instance_detail.html", _instance_context(request, instance))


def _after_change(request: WorkspaceRequest, instance: InstanceBase, message: str) -> HttpResponse:
    messages.success(request, message)
    if request.htmx:
        return HttpResponseClientRedirect(_instance_url(instance))
    return redirect(_instance_url(instance))


@require_POST
@workspace_view
def instance_settings(request: WorkspaceRequest, instance_id: str) -> HttpResponse:
    instance = _instance(request, instance_id, "instance.connect")
    try:
        instances.instance_settings_update(
            instance=instance, raw_settings=_raw_settings(request, instance.function)
        )
    except ValidationError as error:
        context = _instance_context(request, instance, settings_errors=error.message_dict)
        return render(request, "deploys/instance_detail.html", context, status=422)
    return _after_change(request, instance, "Settings saved.")


@require_POST
@workspace_view
def instance_rotate(request: WorkspaceRequest, instance_id: str) -> HttpResponse:
    instance = _instance(request, instance_id, "instance.connect")
    if not isinstance(instance, SourceInstance):
        raise Http404("Only sources have a webhook URL.")
    instances.source_instance_rotate_token(instance=instance)
    return _after_change(request, instance, "New webhook URL: the old one no longer works.")


@require_POST
@workspace_view
def instance_enable(request: WorkspaceRequest, instance_id: str) -> HttpResponse:
    instance = _instance(request, instance_id, "instance.connect")
    enabled = request.POST.get("enabled") == "on"
    instances.instance_set_enabled(instance=instance, enabled=enabled)
    return _after_change(request, instance, "Enabled." if enabled else "Disabled.")


@require_POST
@workspace_view
def instance_resume(request: WorkspaceRequest, instance_id: str) -> HttpResponse:
    """Resume a paused instance: what it held runs now."""
    instance = _instance(request, instance_id, "instance.connect")
    if instance.health != Health.PAUSED:
        return _after_change(request, instance, "The instance is not paused.")
    released = health.instance_resume(instance=instance, user=request.user)
    noun = "request" if isinstance(instance, SourceInstance) else "event"
    return _after_change(
        request, instance, f"Resumed: {released} held {noun}{'s' if released != 1 else ''} run now."
    )


@require_POST
@workspace_view
def instance_sources(request: WorkspaceRequest, instance_id: str) -> HttpResponse:
    instance = _instance(request, instance_id, "instance.connect")
    if not isinstance(instance, DestinationInstance):
        raise Http404("Only destinations connect to sources.")
    try:
        instances.destination_sources_set(
            instance=instance, source_ids=request.POST.getlist("sources")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_instance_url(instance))
    return _after_change(request, instance, "Sources saved.")


@require_POST
@workspace_view
def instance_delete(request: WorkspaceRequest, instance_id: str) -> HttpResponse:
    instance = _instance(request, instance_id, "instance.connect")
    function = instance.function
    instances.instance_delete(instance=instance)
    messages.success(request, f"Removed “{instance.name}”.")
    return redirect(_deploys_url(function))
