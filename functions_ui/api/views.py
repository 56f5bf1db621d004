"""The public API's operations, and its two pages: the readable docs and the token page.

Each operation parses its input, asks the permission policy (through the catalog's
`function_get_for_user`), calls a service or selector, and returns the `data` object;
`endpoint.endpoint` does authentication, limits, errors and rendering around it.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from catalog.models import Function, ResourceType
from functions_ui.api import selectors, serializers, services
from functions_ui.api.auth import ApiContext
from functions_ui.api.endpoint import Result, json_body, query_param
from functions_ui.api.errors import not_found, validation_failure
from functions_ui.api.openapi import docs_sections, openapi_document
from functions_ui.api.pagination import page_request, paginate
from functions_ui.permissions.policy import require
from functions_ui.workspaces.decorators import workspace_view
from versioning import selectors as version_selectors
from versioning import services as version_services
from versioning.diffing import DiffOptions, unified_text

COMPARE_MAX_CONTEXT = 1000


def _function(api: ApiContext, function_id: str, action: str = "function.view") -> Function:
    return catalog_selectors.function_get_for_user(
        workspace=api.workspace, access=api.access, function_id=function_id, action=action
    )


def _page_params(request: HttpRequest) -> dict[str, str | None]:
    return {
        "count": query_param(request, "pagination.count"),
        "cursor": query_param(request, "pagination.cursor"),
    }


def _function_data(request: HttpRequest, function: Function) -> dict[str, Any]:
    token = selectors.preview_webhook_token(function=function)
    preview_url = (
        request.build_absolute_uri(reverse("webhook_capture", kwargs={"token": token}))
        if token
        else ""
    )
    return serializers.function_to_dict(
        function,
        settings=selectors.function_settings(function=function),
        labels=selectors.label_state(function=function),
        preview_webhook_url=preview_url,
    )


# Functions --------------------------------------------------------------------------------


def function_list(request: HttpRequest, api: ApiContext) -> Result:
    resource_type = query_param(request, "resourceType")
    if resource_type is None:
        raise validation_failure("resourceType is required.", field="resourceType")
    if resource_type not in ResourceType.values:
        raise validation_failure(
            f"resourceType must be one of {', '.join(ResourceType.values)}.",
            field="resourceType",
        )
    page = paginate(
        selectors.function_list_for_api(
            workspace=api.workspace, access=api.access, resource_type=ResourceType(resource_type)
        ),
        request=page_request(_page_params(request)),
        kind="f",
        key="id",
    )
    return Result(
        {
            "functions": [serializers.function_list_item(f) for f in page.items],
            "pagination": page.pagination(),
        }
    )


def function_create(request: HttpRequest, api: ApiContext) -> Result:
    require(api.access, "function.create")
    given = serializers.function_create_input(json_body(request))
    function = catalog_services.function_create(
        workspace=api.workspace,
        user=api.user,
        resource_type=given.resource_type,
        display_name=given.display_name,
        description=given.description,
        logo_url=given.logo_url,
        code=given.code,
        settings=given.settings,
    )
    return Result({"function": _function_data(request, function)})


def function_get(request: HttpRequest, api: ApiContext, function_id: str) -> Result:
    return Result({"function": _function_data(request, _function(api, function_id))})


def function_update(request: HttpRequest, api: ApiContext, function_id: str) -> Result:
    function = _function(api, function_id, "function.edit")
    given = serializers.function_update_input(json_body(request))
    if given.resource_type is not None and given.resource_type != function.resource_type:
        raise validation_failure(
            "resourceType cannot be changed; create a new function instead.",
            field="resourceType",
        )
    services.function_patch(
        function=function,
        user=api.user,
        display_name=given.display_name,
        description=given.description,
        logo_url=given.logo_url,
        code=given.code,
        settings=given.settings,
    )
    return Result({"function": _function_data(request, function)})


def function_delete(request: HttpRequest, api: ApiContext, function_id: str) -> Result:
    catalog_services.function_delete(function=_function(api, function_id, "function.delete"))
    return Result({"status": "SUCCESS"})


# Versions -------------------------------------------------------------------------------


def version_list(request: HttpRequest, api: ApiContext, function_id: str) -> Result:
    function = _function(api, function_id)
    labels = selectors.label_state(function=function)
    page = paginate(
        selectors.version_list_for_api(function=function),
        request=page_request(_page_params(request)),
        kind="v",
        key="number",
        descending=True,
    )
    return Result(
        {
            "versions": [serializers.version_to_dict(v, labels=labels) for v in page.items],
            "pagination": page.pagination(),
        }
    )


def version_get(request: HttpRequest, api: ApiContext, function_id: str, version_id: str) -> Result:
    function = _function(api, function_id)
    version = version_selectors.version_get_for_function(function=function, version_id=version_id)
    labels = selectors.label_state(function=function)
    return Result({"version": serializers.version_to_dict(version, labels=labels)})


def version_restore(request: HttpRequest, api: ApiContext, function_id: str) -> Result:
    function = _function(api, function_id, "function.edit")
    version_id = serializers.version_restore_input(json_body(request))
    try:
        version = version_selectors.version_get_for_function(
            function=function, version_id=version_id
        )
    except Http404 as error:
        raise validation_failure(
            "No version of this function has this id.", field="versionId"
        ) from error
    restored = version_services.version_restore(version=version, user=api.user)
    labels = selectors.label_state(function=function)
    return Result({"version": serializers.version_to_dict(restored, labels=labels)})


def _context_lines(request: HttpRequest) -> int:
    raw = query_param(request, "context")
    if raw is None:
        return 3
    if not raw.isascii() or not raw.isdigit() or int(raw) > COMPARE_MAX_CONTEXT:
        raise validation_failure(
            f"context must be a whole number from 0 to {COMPARE_MAX_CONTEXT}.", field="context"
        )
    return int(raw)


def _flag(request: HttpRequest, name: str) -> bool:
    raw = query_param(request, name)
    if raw is None:
        return False
    if raw not in ("true", "false"):
        raise validation_failure(f"{name} must be true or false.", field=name)
    return raw == "true"


def version_compare(
    request: HttpRequest, api: ApiContext, function_id: str, base_id: str, target_id: str
) -> Result:
    function = _function(api, function_id)
    base = version_selectors.version_get_for_function(function=function, version_id=base_id)
    target = version_selectors.version_get_for_function(function=function, version_id=target_id)
    context = _context_lines(request)
    options = DiffOptions(
        context_lines=context,
        ignore_whitespace=_flag(request, "ignoreWhitespace"),
        highlight=False,
        intraline=False,
    )
    diff = version_selectors.version_diff(base=base, target=target, options=options)
    unified = unified_text(
        base.code, target.code, f"v{base.number}", f"v{target.number}", context_lines=context
    )
    return Result(
        {"diff": serializers.diff_to_dict(diff, base=base, target=target, unified=unified)}
    )


# Deploys and instances ------------------------------------------------------------------


def _deploy_input(body: dict[str, Any]) -> tuple[str | None, list[str] | None, str]:
    unknown = sorted(set(body) - {"versionId", "instanceIds", "message"})
    if unknown:
        raise validation_failure(f"Unknown field {unknown[0]!r}.", field=unknown[0])
    version_id = serializers.optional_string(body, "versionId")
    message = serializers.optional_string(body, "message") or ""
    instance_ids = body.get("instanceIds")
    if instance_ids is not None:
        if not isinstance(instance_ids, list) or not all(
            isinstance(item, str) for item in instance_ids
        ):
            raise validation_failure("instanceIds must be a list of strings.", field="instanceIds")
        instance_ids = [serializers.clean_text(item, "instanceIds") for item in instance_ids]
    return version_id, instance_ids, message


def function_deploy(request: HttpRequest, api: ApiContext, function_id: str) -> Result:
    """Deploy LATEST (or `versionId`) to all instances (or `instanceIds`), of any type."""
    from functions_ui.deploys.services import deploy_start

    function = _function(api, function_id, "function.deploy")
    version_id, instance_ids, message = _deploy_input(json_body(request))
    if version_id is None:
        version = version_selectors.latest_version(function=function)
        if version is None:
            raise validation_failure("The function has no version to deploy.", field="versionId")
    else:
        try:
            version = version_selectors.version_get_for_function(
                function=function, version_id=version_id
            )
        except Http404 as error:
            raise validation_failure(
                "No version of this function has this id.", field="versionId"
            ) from error
    deploy = deploy_start(
        function=function,
        version=version,
        user=api.user,
        instance_ids=instance_ids,
        message=message,
    )
    return Result({"functionDeployment": serializers.deploy_to_dict(deploy)})


def deploy_get(request: HttpRequest, api: ApiContext, function_id: str, deploy_id: str) -> Result:
    from functions_ui.deploys.selectors import deploy_get_for_function

    function = _function(api, function_id)
    deploy = deploy_get_for_function(function=function, deploy_id=deploy_id)
    return Result({"functionDeployment": serializers.deploy_to_dict(deploy)})


def instance_list(request: HttpRequest, api: ApiContext, function_id: str) -> Result:
    from functions_ui.deploys.selectors import instance_rows

    function = _function(api, function_id)
    settings = selectors.function_settings(function=function)
    rows = instance_rows(
        function=function, latest=version_selectors.latest_version(function=function)
    )
    return Result(
        {
            "instances": [
                serializers.instance_to_dict(row.instance, settings=settings) for row in rows
            ]
        }
    )


def _function_instance(api: ApiContext, function_id: str, instance_id: str, action: str) -> Any:
    """The function's instance (else 404), checked for `action` (else 403)."""
    from functions_ui.deploys.selectors import instance_get_for_user

    function = _function(api, function_id)
    instance = instance_get_for_user(
        workspace=api.workspace, access=api.access, instance_id=instance_id
    )
    if instance.function_id != function.pk:
        raise not_found()
    require(api.access, action, function)
    return instance


def _instance_data(instance: Any) -> dict[str, Any]:
    settings = selectors.function_settings(function=instance.function)
    return {"instance": serializers.instance_to_dict(instance, settings=settings)}


def instance_get(
    request: HttpRequest, api: ApiContext, function_id: str, instance_id: str
) -> Result:
    instance = _function_instance(api, function_id, instance_id, "function.view")
    return Result(_instance_data(instance))


def instance_create(request: HttpRequest, api: ApiContext, function_id: str) -> Result:
    """Connect an instance of the function, whatever its type."""
    function = _function(api, function_id, "instance.connect")
    given = serializers.instance_create_input(
        json_body(request),
        function=function,
        declared=selectors.function_settings(function=function),
    )
    instance = services.instance_create(
        function=function,
        user=api.user,
        name=given.name or "",
        settings=given.settings or {},
        source_ids=given.source_ids or [],
        destination_id=given.destination_id or "",
        enabled=given.enabled is not False,
    )
    return Result(_instance_data(instance))


def instance_update(
    request: HttpRequest, api: ApiContext, function_id: str, instance_id: str
) -> Result:
    instance = _function_instance(api, function_id, instance_id, "instance.connect")
    given = serializers.instance_update_input(
        json_body(request),
        function=instance.function,
        declared=selectors.function_settings(function=instance.function),
    )
    services.instance_patch(
        instance=instance,
        name=given.name,
        settings=given.settings,
        enabled=given.enabled,
        source_ids=given.source_ids,
    )
    return Result(_instance_data(instance))


def instance_delete(
    request: HttpRequest, api: ApiContext, function_id: str, instance_id: str
) -> Result:
    from functions_ui.deploys.instances import instance_delete as deploys_instance_delete

    deploys_instance_delete(
        instance=_function_instance(api, function_id, instance_id, "instance.connect")
    )
    return Result({"status": "SUCCESS"})


# Insert function instances, as Segment's paths name them ----------------------------------


def _insert_function(api: ApiContext, function_id: str, action: str) -> Function:
    """The insert function of a `functionId` (404 when unseen, 422 when of another type)."""
    function = _function(api, function_id)
    if function.resource_type != ResourceType.INSERT_DESTINATION:
        raise validation_failure("functionId must be an insert function's id.", field="functionId")
    require(api.access, action, function)
    return function


def _insert_instance(api: ApiContext, instance_id: str, action: str) -> Any:
    from functions_ui.deploys.models import InsertInstance
    from functions_ui.deploys.selectors import instance_get_for_user

    instance = instance_get_for_user(
        workspace=api.workspace, access=api.access, instance_id=instance_id
    )
    if not isinstance(instance, InsertInstance):
        raise not_found()
    require(api.access, action, instance.function)
    return instance


def _insert_instance_data(instance: Any) -> dict[str, Any]:
    settings = selectors.function_settings(function=instance.function)
    return {"instance": serializers.insert_instance_to_dict(instance, settings=settings)}


def insert_instance_list(request: HttpRequest, api: ApiContext) -> Result:
    function_id = serializers.insert_function_id({"functionId": query_param(request, "functionId")})
    function = _insert_function(api, function_id, "function.view")
    settings = selectors.function_settings(function=function)
    page = paginate(
        selectors.insert_instance_list_for_api(function=function),
        request=page_request(_page_params(request)),
        kind="i",
        key="id",
    )
    return Result(
        {
            "instances": [
                serializers.insert_instance_to_dict(instance, settings=settings)
                for instance in page.items
            ],
            "pagination": page.pagination(),
        }
    )


def insert_instance_create(request: HttpRequest, api: ApiContext) -> Result:
    """createInsertFunctionInstance: an insert function in front of a destination instance."""
    body = json_body(request)
    function = _insert_function(api, serializers.insert_function_id(body), "instance.connect")
    given = serializers.insert_instance_create_input(
        body, function=function, declared=selectors.function_settings(function=function)
    )
    instance = services.instance_create(
        function=function,
        user=api.user,
        name=given.name or "",
        settings=given.settings or {},
        source_ids=[],
        destination_id=given.destination_id or "",
        enabled=given.enabled is not False,
        destination_field="integrationId",
    )
    return Result(_insert_instance_data(instance))


def insert_instance_get(request: HttpRequest, api: ApiContext, instance_id: str) -> Result:
    return Result(_insert_instance_data(_insert_instance(api, instance_id, "function.view")))


def insert_instance_update(request: HttpRequest, api: ApiContext, instance_id: str) -> Result:
    instance = _insert_instance(api, instance_id, "instance.connect")
    given = serializers.instance_update_input(
        json_body(request),
        function=instance.function,
        declared=selectors.function_settings(function=instance.function),
    )
    services.instance_patch(
        instance=instance, name=given.name, settings=given.settings, enabled=given.enabled
    )
    return Result(_insert_instance_data(instance))


def insert_instance_delete(request: HttpRequest, api: ApiContext, instance_id: str) -> Result:
    from functions_ui.deploys.instances import instance_delete as deploys_instance_delete

    deploys_instance_delete(instance=_insert_instance(api, instance_id, "instance.connect"))
    return Result({"status": "SUCCESS"})


# The OpenAPI document and the pages -------------------------------------------------------


@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document(server_url=request.build_absolute_uri("/api/v1")))


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "api/docs.html",
        {"docs": docs_sections(), "server_url": request.build_absolute_uri("/api/v1")},
    )


@require_http_methods(["GET", "POST"])
@workspace_view
def token_list(request: HttpRequest) -> HttpResponse:
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
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    require(request.access, "workspace.manage")
    token = selectors.api_token_get(workspace=request.workspace, token_id=token_id)
    if token is None:
        raise Http404("No such token.")
    services.api_token_revoke(token=token, user=request.user)
    return redirect("api_tokens:list", workspace_slug=request.workspace.slug)
