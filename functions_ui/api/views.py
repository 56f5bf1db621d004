"""The public API's operations, and its two pages: the readable docs and the token page.

Each operation gets its path's ids and its query and body already checked against the
route's schemas (routes.py), asks the permission policy (through the catalog's
`function_get_for_user`), calls a service or selector, and returns the route's `data` model;
`endpoint.endpoint` does authentication, limits, errors and rendering around it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from catalog.models import Function, ResourceType
from functions_ui.api import schemas, selectors, serializers, services
from functions_ui.api.auth import ApiContext
from functions_ui.api.endpoint import Result
from functions_ui.api.errors import not_found, validation_failure
from functions_ui.api.pagination import PageRequest, paginate
from functions_ui.deploys import instances as deploys_instances
from functions_ui.deploys import metrics
from functions_ui.deploys import selectors as deploys_selectors
from functions_ui.deploys import services as deploy_services
from functions_ui.deploys.models import InsertInstance
from functions_ui.permissions.policy import require
from functions_ui.suites import behaviour
from functions_ui.suites import services as suite_services
from functions_ui.workspaces.decorators import WorkspaceRequest, workspace_view
from versioning import selectors as version_selectors
from versioning import services as version_services
from versioning.diffing import DiffOptions, unified_text


def _function(api: ApiContext, function_id: str, action: str = "function.view") -> Function:
    return catalog_selectors.function_get_for_user(
        workspace=api.workspace, access=api.access, function_id=function_id, action=action
    )


def _page(query: schemas.PageQuery) -> PageRequest:
    return PageRequest.checked(count=query.count, cursor=query.cursor)


def _function_data(request: HttpRequest, function: Function) -> schemas.FunctionData:
    token = selectors.preview_webhook_token(function=function)
    preview_url = (
        request.build_absolute_uri(reverse("webhook_capture", kwargs={"token": token}))
        if token
        else ""
    )
    return schemas.FunctionData(
        function=serializers.function_out(
            function,
            settings=selectors.function_settings(function=function),
            labels=selectors.label_state(function=function),
            preview_webhook_url=preview_url,
        )
    )


def _version_of(function: Function, version_id: str) -> Any:
    """The function's version named in a body: an unknown id is the field's fault (422)."""
    try:
        return version_selectors.version_get_for_function(function=function, version_id=version_id)
    except Http404 as error:
        raise validation_failure(
            "No version of this function has this id.", field="versionId"
        ) from error


# Functions --------------------------------------------------------------------------------


def function_list(
    request: HttpRequest, api: ApiContext, *, query: schemas.FunctionListQuery
) -> Result:
    page = paginate(
        selectors.function_list_for_api(
            workspace=api.workspace,
            access=api.access,
            resource_type=ResourceType(query.resource_type),
        ),
        request=_page(query),
        kind="f",
        key="id",
    )
    return Result(
        schemas.FunctionListData(
            functions=[serializers.function_list_item(f) for f in page.items],
            pagination=page.pagination(),
        )
    )


def function_create(
    request: HttpRequest, api: ApiContext, *, body: schemas.CreateFunctionV1Input
) -> Result:
    require(api.access, "function.create")
    function = catalog_services.function_create(
        workspace=api.workspace,
        user=api.user,
        resource_type=body.resource_type,
        display_name=body.display_name,
        description=body.description or "",
        logo_url=body.logo_url or "",
        code=body.code,
        settings=[setting.as_service_dict() for setting in body.settings or []],
    )
    return Result(_function_data(request, function))


def function_get(request: HttpRequest, api: ApiContext, function_id: str) -> Result:
    return Result(_function_data(request, _function(api, function_id)))


def function_update(
    request: HttpRequest, api: ApiContext, function_id: str, *, body: schemas.UpdateFunctionV1Input
) -> Result:
    function = _function(api, function_id, "function.edit")
    if body.resource_type is not None and body.resource_type != function.resource_type:
        raise validation_failure(
            "resourceType cannot be changed; create a new function instead.",
            field="resourceType",
        )
    services.function_patch(
        function=function,
        user=api.user,
        display_name=body.display_name,
        description=body.description,
        logo_url=body.logo_url,
        code=body.code,
        settings=None
        if body.settings is None
        else [setting.as_service_dict() for setting in body.settings],
    )
    return Result(_function_data(request, function))


def function_delete(request: HttpRequest, api: ApiContext, function_id: str) -> Result:
    catalog_services.function_delete(function=_function(api, function_id, "function.delete"))
    return Result(schemas.DeletedData(status="SUCCESS"))


# Versions -------------------------------------------------------------------------------


def version_list(
    request: HttpRequest, api: ApiContext, function_id: str, *, query: schemas.PageQuery
) -> Result:
    function = _function(api, function_id)
    labels = selectors.label_state(function=function)
    page = paginate(
        selectors.version_list_for_api(function=function),
        request=_page(query),
        kind="v",
        key="number",
        descending=True,
    )
    return Result(
        schemas.VersionListData(
            versions=[serializers.version_out(v, labels=labels) for v in page.items],
            pagination=page.pagination(),
        )
    )


def version_get(request: HttpRequest, api: ApiContext, function_id: str, version_id: str) -> Result:
    function = _function(api, function_id)
    version = version_selectors.version_get_for_function(function=function, version_id=version_id)
    labels = selectors.label_state(function=function)
    return Result(schemas.VersionData(version=serializers.version_out(version, labels=labels)))


def version_restore(
    request: HttpRequest, api: ApiContext, function_id: str, *, body: schemas.RestoreVersionInput
) -> Result:
    function = _function(api, function_id, "function.edit")
    version = _version_of(function, body.version_id)
    restored = version_services.version_restore(version=version, user=api.user)
    labels = selectors.label_state(function=function)
    return Result(schemas.VersionData(version=serializers.version_out(restored, labels=labels)))


def version_compare(
    request: HttpRequest,
    api: ApiContext,
    function_id: str,
    base_version_id: str,
    target_version_id: str,
    *,
    query: schemas.CompareQuery,
) -> Result:
    function = _function(api, function_id)
    base = version_selectors.version_get_for_function(function=function, version_id=base_version_id)
    target = version_selectors.version_get_for_function(
        function=function, version_id=target_version_id
    )
    options = DiffOptions(
        context_lines=query.context,
        ignore_whitespace=query.ignore_whitespace == "true",
        highlight=False,
        intraline=False,
    )
    diff = version_selectors.version_diff(base=base, target=target, options=options)
    unified = unified_text(
        base.code, target.code, f"v{base.number}", f"v{target.number}", context_lines=query.context
    )
    return Result(
        schemas.DiffData(diff=serializers.diff_out(diff, base=base, target=target, unified=unified))
    )


def version_behaviour(
    request: HttpRequest,
    api: ApiContext,
    function_id: str,
    version_id: str,
    *,
    body: schemas.BehaviourInput,
) -> Result:
    """Payloads run through the against version (left) and this one (right), side by side."""
    function = _function(api, function_id)
    right = version_selectors.version_get_for_function(function=function, version_id=version_id)
    left = version_selectors.version_get_for_function(
        function=function, version_id=body.against_version_id
    )
    payloads = (
        behaviour.saved_payloads(function=function)
        if body.payloads == "saved"
        else [behaviour.Payload(f"payload {n}", data) for n, data in enumerate(body.payloads, 1)]
    )
    comparisons = behaviour.behaviour_compare(
        function=function, left_code=left.code, right_code=right.code, payloads=payloads
    )
    return Result(
        schemas.BehaviourData(
            payloads=[
                schemas.BehaviourPayload(
                    name=c.payload.name,
                    same=c.same,
                    differs=list(c.differs),
                    left=schemas.BehaviourSide(**c.left),
                    right=schemas.BehaviourSide(**c.right),
                )
                for c in comparisons
            ],
            differing=sum(1 for c in comparisons if not c.same),
        )
    )


# Deploys and instances ------------------------------------------------------------------


def function_deploy(
    request: HttpRequest, api: ApiContext, function_id: str, *, body: schemas.DeployInput
) -> Result:
    """Deploy LATEST (or `versionId`) to all instances (or `instanceIds`), of any type."""
    function = _function(api, function_id, "function.deploy")
    if body.version_id is None:
        version = version_selectors.latest_version(function=function)
        if version is None:
            raise validation_failure("The function has no version to deploy.", field="versionId")
    else:
        version = _version_of(function, body.version_id)
    try:
        suite_services.deploy_gate(
            function=function,
            code=version.code,
            label=f"v{version.number}",
            access=api.access,
            user=api.user,
            override=bool(body.override_tests),
        )
    except suite_services.DeployBlocked as blocked:
        failures = "; ".join(
            f"{f['name']}: {', '.join(f['problems'])}" for f in blocked.outcome.failures
        )
        raise validation_failure(
            f"{blocked.messages[0]} {failures}", field="overrideTests"
        ) from blocked
    deploy = deploy_services.deploy_start(
        function=function,
        version=version,
        user=api.user,
        instance_ids=body.instance_ids,
        message=body.message or "",
    )
    return Result(schemas.DeploymentData(function_deployment=serializers.deploy_out(deploy)))


def deploy_get(request: HttpRequest, api: ApiContext, function_id: str, deploy_id: str) -> Result:
    function = _function(api, function_id)
    deploy = deploys_selectors.deploy_get_for_function(function=function, deploy_id=deploy_id)
    return Result(schemas.DeploymentData(function_deployment=serializers.deploy_out(deploy)))


def instance_list(request: HttpRequest, api: ApiContext, function_id: str) -> Result:
    function = _function(api, function_id)
    settings = selectors.function_settings(function=function)
    rows = deploys_selectors.instance_rows(
        function=function, latest=version_selectors.latest_version(function=function)
    )
    return Result(
        schemas.InstanceListData(
            instances=[serializers.instance_out(row.instance, settings=settings) for row in rows]
        )
    )


def _function_instance(api: ApiContext, function_id: str, instance_id: str, action: str) -> Any:
    """The function's instance (else 404), checked for `action` (else 403)."""
    function = _function(api, function_id)
    instance = deploys_selectors.instance_get_for_user(
        workspace=api.workspace, access=api.access, instance_id=instance_id
    )
    if instance.function_id != function.pk:
        raise not_found()
    require(api.access, action, function)
    return instance


def _instance_data(instance: Any) -> schemas.InstanceData:
    settings = selectors.function_settings(function=instance.function)
    return schemas.InstanceData(instance=serializers.instance_out(instance, settings=settings))


def instance_get(
    request: HttpRequest, api: ApiContext, function_id: str, instance_id: str
) -> Result:
    instance = _function_instance(api, function_id, instance_id, "function.view")
    return Result(_instance_data(instance))


def instance_create(
    request: HttpRequest, api: ApiContext, function_id: str, *, body: schemas.CreateInstanceInput
) -> Result:
    """Connect an instance of the function, whatever its type."""
    function = _function(api, function_id, "instance.connect")
    serializers.fields_of_type(body, function)
    instance = services.instance_create(
        function=function,
        user=api.user,
        name=body.name,
        settings=serializers.instance_settings_input(
            body.settings, declared=selectors.function_settings(function=function)
        )
        or {},
        source_ids=body.source_ids or [],
        destination_id=body.destination_id or "",
        enabled=body.enabled is not False,
    )
    return Result(_instance_data(instance))


def instance_update(
    request: HttpRequest,
    api: ApiContext,
    function_id: str,
    instance_id: str,
    *,
    body: schemas.UpdateInstanceInput,
) -> Result:
    instance = _function_instance(api, function_id, instance_id, "instance.connect")
    serializers.fields_of_type(body, instance.function, always=frozenset({"enabled"}))
    services.instance_patch(
        instance=instance,
        name=body.name,
        settings=serializers.instance_settings_input(
            body.settings, declared=selectors.function_settings(function=instance.function)
        ),
        enabled=body.enabled,
        source_ids=body.source_ids,
    )
    return Result(_instance_data(instance))


def instance_delete(
    request: HttpRequest, api: ApiContext, function_id: str, instance_id: str
) -> Result:
    deploys_instances.instance_delete(
        instance=_function_instance(api, function_id, instance_id, "instance.connect")
    )
    return Result(schemas.DeletedData(status="SUCCESS"))


# Metrics ----------------------------------------------------------------------------------


def _metrics(
    function: Function, instance_id: str | None, query: schemas.MetricsQuery
) -> schemas.MetricsSeries:
    end = _utc(query.end_time) if query.end_time else timezone.now()
    start = _utc(query.start_time) if query.start_time else end - timedelta(days=1)
    if start >= end:
        raise validation_failure("startTime must be before endTime.", field="startTime")
    buckets = (end - start) / metrics.GRANULARITIES[query.granularity]
    if buckets > schemas.METRICS_MAX_POINTS:
        raise validation_failure(
            f"The range holds {int(buckets)} buckets of this granularity; at most "
            f"{schemas.METRICS_MAX_POINTS} fit one answer.",
            field="granularity",
        )
    points = metrics.series(
        function=function,
        instance_id=instance_id,
        start=start,
        end=end,
        granularity=query.granularity,
    )
    return schemas.MetricsSeries(
        series=[
            schemas.MetricsPoint(**{**point, "time": serializers.timestamp(point["time"])})
            for point in points
        ]
    )


def _utc(moment: datetime) -> datetime:
    """A time without a zone is read as UTC, as Segment's API reads it."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def function_metrics(
    request: HttpRequest, api: ApiContext, function_id: str, *, query: schemas.MetricsQuery
) -> Result:
    return Result(_metrics(_function(api, function_id), None, query))


def instance_metrics(
    request: HttpRequest,
    api: ApiContext,
    function_id: str,
    instance_id: str,
    *,
    query: schemas.MetricsQuery,
) -> Result:
    instance = _function_instance(api, function_id, instance_id, "function.view")
    return Result(_metrics(instance.function, instance.public_id, query))


# Insert function instances, as Segment's paths name them ----------------------------------


def _insert_function(api: ApiContext, function_id: str, action: str) -> Function:
    """The insert function of a `functionId` (404 when unseen, 422 when of another type)."""
    function = _function(api, serializers.insert_function_id(function_id))
    if function.resource_type != ResourceType.INSERT_DESTINATION:
        raise validation_failure("functionId must be an insert function's id.", field="functionId")
    require(api.access, action, function)
    return function


def _insert_instance(api: ApiContext, instance_id: str, action: str) -> Any:
    instance = deploys_selectors.instance_get_for_user(
        workspace=api.workspace, access=api.access, instance_id=instance_id
    )
    if not isinstance(instance, InsertInstance):
        raise not_found()
    require(api.access, action, instance.function)
    return instance


def _insert_instance_data(instance: Any) -> schemas.InsertInstanceData:
    settings = selectors.function_settings(function=instance.function)
    return schemas.InsertInstanceData(
        instance=serializers.insert_instance_out(instance, settings=settings)
    )


def insert_instance_list(
    request: HttpRequest, api: ApiContext, *, query: schemas.InsertInstanceListQuery
) -> Result:
    function = _insert_function(api, query.function_id, "function.view")
    settings = selectors.function_settings(function=function)
    page = paginate(
        selectors.insert_instance_list_for_api(function=function),
        request=_page(query),
        kind="i",
        key="id",
    )
    return Result(
        schemas.InsertInstanceListData(
            instances=[
                serializers.insert_instance_out(instance, settings=settings)
                for instance in page.items
            ],
            pagination=page.pagination(),
        )
    )


def insert_instance_create(
    request: HttpRequest,
    api: ApiContext,
    *,
    body: schemas.CreateInsertFunctionInstanceInput,
) -> Result:
    """createInsertFunctionInstance: an insert function in front of a destination instance."""
    function = _insert_function(api, body.function_id, "instance.connect")
    instance = services.instance_create(
        function=function,
        user=api.user,
        name=body.name,
        settings=serializers.instance_settings_input(
            body.settings, declared=selectors.function_settings(function=function)
        )
        or {},
        source_ids=[],
        destination_id=body.integration_id,
        enabled=body.enabled is not False,
        destination_field="integrationId",
    )
    return Result(_insert_instance_data(instance))


def insert_instance_get(request: HttpRequest, api: ApiContext, instance_id: str) -> Result:
    return Result(_insert_instance_data(_insert_instance(api, instance_id, "function.view")))


def insert_instance_update(
    request: HttpRequest,
    api: ApiContext,
    instance_id: str,
    *,
    body: schemas.UpdateInsertFunctionInstanceInput,
) -> Result:
    instance = _insert_instance(api, instance_id, "instance.connect")
    services.instance_patch(
        instance=instance,
        name=body.name,
        settings=serializers.instance_settings_input(
            body.settings, declared=selectors.function_settings(function=instance.function)
        ),
        enabled=body.enabled,
    )
    return Result(_insert_instance_data(instance))


def insert_instance_delete(request: HttpRequest, api: ApiContext, instance_id: str) -> Result:
    deploys_instances.instance_delete(
        instance=_insert_instance(api, instance_id, "instance.connect")
    )
    return Result(schemas.DeletedData(status="SUCCESS"))


# The OpenAPI document and the pages -------------------------------------------------------


@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    # openapi reads routes, which name this module's views: imported when asked for.
    from functions_ui.api.openapi import openapi_document

    return JsonResponse(openapi_document(server_url=request.build_absolute_uri("/api/v1")))


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    from functions_ui.api.openapi import docs_sections

    return render(
        request,
        "api/docs.html",
        {"docs": docs_sections(), "server_url": request.build_absolute_uri("/api/v1")},
    )


@require_http_methods(["GET", "POST"])
@workspace_view
def token_list(request: WorkspaceRequest) -> HttpResponse:
    """The owners' token page: create (the secret shown once, in this response), list."""
    require(request.access, "workspace.manage")
    created = None
    errors: list[str] = []
    if request.method == "POST":
        description = request.POST.get("description", "").strip()
        if len(description) > 200:
            errors.append("The description can be at most 200 characters long.")
        else:
            token, raw = services.api_token_create(
                workspace=request.workspace, user=request.user, description=description
            )
            created = {"token": token, "raw": raw}
    return render(
        request,
        "api/token_list.html",
        {
            "tokens": selectors.api_tokens_for_workspace(workspace=request.workspace),
            "created": created,
            "errors": errors,
            "api_base": request.build_absolute_uri("/api/v1"),
        },
        status=422 if errors else 200,
    )


@require_POST
@workspace_view
def token_revoke(request: WorkspaceRequest, token_id: int) -> HttpResponse:
    require(request.access, "workspace.manage")
    token = selectors.api_token_get(workspace=request.workspace, token_id=token_id)
    if token is None:
        raise Http404("No such token.")
    services.api_token_revoke(token=token, user=request.user)
    return redirect("api_tokens:list", workspace_slug=request.workspace.slug)
