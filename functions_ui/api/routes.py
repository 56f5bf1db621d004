"""Every operation of the public API, described once.

A route names its method and path (Segment's, in OpenAPI's form), the operation that answers
it, and the shapes it takes and gives (schemas.py). The URL map (urls.py) and the OpenAPI
document (openapi.py) are both made from this list, so neither can name an operation the
other lacks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from functions_ui.api import schemas, views
from functions_ui.api.endpoint import Result

CONNECT_NOTE = "Needs Workspace Owner or Source Admin."
# Path parameters: what each is, for the document.
PATH_PARAMETERS = {
    "functionId": "the function's id, e.g. sfnc_...",
    "instanceId": "the instance's id: src_, dst_ or ins_...",
    "deployId": "a deploy's id, as the deploy call answered it",
    "versionId": "a version's id",
    "baseVersionId": "the version compared from",
    "targetVersionId": "the version compared to",
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation: Callable[..., Result]
    operation_id: str
    summary: str
    data: type[schemas.Output]
    body: type[schemas.Input] | None = None
    body_required: bool = True
    query: type[schemas.Query] | None = None
    description: str = ""

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


def snake_case(name: str) -> str:
    """functionId -> function_id."""
    return re.sub(r"([A-Z])", lambda match: "_" + match.group(1).lower(), name)


def django_path(path: str) -> str:
    """/functions/{functionId} -> functions/<str:function_id> (the view's keyword)."""
    return re.sub(r"{(\w+)}", lambda m: f"<str:{snake_case(m.group(1))}>", path.lstrip("/"))


FUNCTION = "/functions/{functionId}"

ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/functions",
        views.function_list,
        "listFunctions",
        "List the functions of one type",
        schemas.FunctionListData,
        query=schemas.FunctionListQuery,
        description="Oldest first. Cursors are keyset positions: functions created or deleted "
        "between two pages never make another one repeat or go missing.",
    ),
    Route(
        "POST",
        "/functions",
        views.function_create,
        "createFunction",
        "Create a function (its version 1)",
        schemas.FunctionData,
        body=schemas.CreateFunctionV1Input,
        description="Answers 200, as Segment does. Needs Workspace Owner or Functions Admin.",
    ),
    Route(
        "GET",
        FUNCTION,
        views.function_get,
        "getFunction",
        "Get a function with its code and settings",
        schemas.FunctionData,
    ),
    Route(
        "PATCH",
        FUNCTION,
        views.function_update,
        "updateFunction",
        "Update a function",
        schemas.FunctionData,
        body=schemas.UpdateFunctionV1Input,
        description="All or nothing. New code or settings save a new LATEST version, as a "
        "save in the editor does; nothing is deployed.",
    ),
    Route(
        "DELETE",
        FUNCTION,
        views.function_delete,
        "deleteFunction",
        "Delete a function",
        schemas.DeletedData,
    ),
    Route(
        "POST",
        f"{FUNCTION}/deploy",
        views.function_deploy,
        "createFunctionDeployment",
        "Deploy a version to the function's instances",
        schemas.DeploymentData,
        body=schemas.DeployInput,
        body_required=False,
        description="Without a body: LATEST to every instance (Segment's call). Beyond "
        "Segment: any function type, a chosen versionId and chosen instanceIds. The deploy "
        "runs in the background; follow it at .../deploys/{deployId}.",
    ),
    Route(
        "GET",
        f"{FUNCTION}/deploys/{{deployId}}",
        views.deploy_get,
        "getFunctionDeployment",
        "How a deploy went (addition)",
        schemas.DeploymentData,
    ),
    Route(
        "GET",
        f"{FUNCTION}/instances",
        views.instance_list,
        "listFunctionInstances",
        "List the function's instances (addition)",
        schemas.InstanceListData,
    ),
    Route(
        "POST",
        f"{FUNCTION}/instances",
        views.instance_create,
        "createFunctionInstance",
        "Connect an instance of the function (addition)",
        schemas.InstanceData,
        body=schemas.CreateInstanceInput,
        description="A source (with its own webhook URL), a destination connected to "
        "sourceIds, or an insert function before destinationId, by the function's type; a "
        "field of another type is a 422. It runs the deployed version (or LATEST before any "
        f"deploy). {CONNECT_NOTE}",
    ),
    Route(
        "GET",
        f"{FUNCTION}/instances/{{instanceId}}",
        views.instance_get,
        "getFunctionInstance",
        "Get one instance (addition)",
        schemas.InstanceData,
    ),
    Route(
        "PATCH",
        f"{FUNCTION}/instances/{{instanceId}}",
        views.instance_update,
        "updateFunctionInstance",
        "Change an instance (addition)",
        schemas.InstanceData,
        body=schemas.UpdateInstanceInput,
        description=f"All or nothing; fields left out stay as they are. {CONNECT_NOTE}",
    ),
    Route(
        "DELETE",
        f"{FUNCTION}/instances/{{instanceId}}",
        views.instance_delete,
        "deleteFunctionInstance",
        "Remove an instance (addition)",
        schemas.DeletedData,
        description=CONNECT_NOTE,
    ),
    Route(
        "GET",
        f"{FUNCTION}/metrics",
        views.function_metrics,
        "getFunctionMetrics",
        "Runs of all the function's instances over time, by outcome, with durations (addition)",
        schemas.MetricsSeries,
        query=schemas.MetricsQuery,
        description="Read from per-minute rollups the pipeline writes, so any range answers "
        "fast and outlives the retention of raw runs. Durations are percentiles of each "
        "bucket's runs (the upper bound of a histogram bin).",
    ),
    Route(
        "GET",
        f"{FUNCTION}/instances/{{instanceId}}/metrics",
        views.instance_metrics,
        "getFunctionInstanceMetrics",
        "Runs of one instance over time, by outcome, with durations (addition)",
        schemas.MetricsSeries,
        query=schemas.MetricsQuery,
    ),
    Route(
        "GET",
        f"{FUNCTION}/versions",
        views.version_list,
        "listFunctionVersions",
        "List versions, newest first",
        schemas.VersionListData,
        query=schemas.PageQuery,
    ),
    Route(
        "POST",
        f"{FUNCTION}/versions",
        views.version_restore,
        "restoreFunctionVersion",
        "Restore an old version as the latest version",
        schemas.VersionData,
        body=schemas.RestoreVersionInput,
        description="Copies the version (code and settings) into a new LATEST version; "
        "deploys nothing.",
    ),
    Route(
        "GET",
        f"{FUNCTION}/versions/{{versionId}}",
        views.version_get,
        "getFunctionVersion",
        "Get a version with its code",
        schemas.VersionData,
    ),
    Route(
        "GET",
        f"{FUNCTION}/versions/{{baseVersionId}}/compare/{{targetVersionId}}",
        views.version_compare,
        "compareFunctionVersions",
        "Compare two versions (addition)",
        schemas.DiffData,
        query=schemas.CompareQuery,
    ),
    Route(
        "POST",
        f"{FUNCTION}/versions/{{versionId}}/behaviour",
        views.version_behaviour,
        "compareFunctionVersionBehaviour",
        "Compare what two versions do with the same payloads (addition)",
        schemas.BehaviourData,
        body=schemas.BehaviourInput,
        description="Runs each payload through the against version (left) and this version "
        "(right) in the sandbox, with the function's test settings and fetch mocked: nothing is "
        "delivered or saved. Message ids and timestamps are left out of the comparison; secret "
        "test values are masked.",
    ),
    # Segment's own paths for insert function instances (its alpha API).
    Route(
        "GET",
        "/insert-function-instances",
        views.insert_instance_list,
        "listInsertFunctionInstances",
        "List an insert function's instances",
        schemas.InsertInstanceListData,
        query=schemas.InsertInstanceListQuery,
        description="Segment's alpha path; the same instances as "
        "/functions/{functionId}/instances, in Segment's shape.",
    ),
    Route(
        "POST",
        "/insert-function-instances",
        views.insert_instance_create,
        "createInsertFunctionInstance",
        "Put an insert function before a destination instance",
        schemas.InsertInstanceData,
        body=schemas.CreateInsertFunctionInstanceInput,
        description=f"One insert function per destination instance. {CONNECT_NOTE}",
    ),
    Route(
        "GET",
        "/insert-function-instances/{instanceId}",
        views.insert_instance_get,
        "getInsertFunctionInstance",
        "Get an insert function instance",
        schemas.InsertInstanceData,
    ),
    Route(
        "PATCH",
        "/insert-function-instances/{instanceId}",
        views.insert_instance_update,
        "updateInsertFunctionInstance",
        "Change an insert function instance",
        schemas.InsertInstanceData,
        body=schemas.UpdateInsertFunctionInstanceInput,
        description=f"All or nothing; fields left out stay as they are. {CONNECT_NOTE}",
    ),
    Route(
        "DELETE",
        "/insert-function-instances/{instanceId}",
        views.insert_instance_delete,
        "deleteInsertFunctionInstance",
        "Remove an insert function instance",
        schemas.DeletedData,
        description=CONNECT_NOTE,
    ),
)


def routes_by_path() -> dict[str, dict[str, Route]]:
    """Path -> method -> route, in the order of ROUTES."""
    grouped: dict[str, dict[str, Route]] = {}
    for route in ROUTES:
        grouped.setdefault(route.path, {})[route.method] = route
    return grouped
