"""The OpenAPI 3 document of the public API, served at /api/openapi.json and shown at /api/docs/.

Written by hand, schema by schema, after Segment's Public API (FunctionV1, Version, ...),
with this API's additions marked in their descriptions. Every 2xx body is {"data": ...} and
every other answer is the error envelope (the default response).
"""

from __future__ import annotations

import copy
from typing import Any

from catalog.models import DISPLAY_NAME_MAX_LENGTH, ResourceType, SettingType
from catalog.services import CODE_MAX_BYTES
from functions_ui.api.endpoint import MEDIA_TYPES
from functions_ui.runtime.masking import MASK

RESOURCE_TYPES = list(ResourceType.values)
SETTING_TYPES = list(SettingType.values)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _object(
    properties: dict[str, Any], required: list[str] | None = None, *, closed: bool = False
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return schema


STRING = {"type": "string"}
TIMESTAMP = {"type": "string", "format": "date-time"}
BOOLEAN = {"type": "boolean"}
INSTANCE_NAME_MAX_LENGTH = 120
SETTING_VALUES = {
    "type": "object",
    "description": "values by setting name: a string, true or false, a list of strings or an "
    "object of strings, as the setting's type says. Sensitive values are write-only.",
}

SCHEMAS: dict[str, Any] = {
    "FunctionSettingV1": _object(
        {
            "name": {**STRING, "description": "camelCase; the key the code reads"},
            "label": STRING,
            "description": STRING,
            "type": {"type": "string", "enum": SETTING_TYPES},
            "required": BOOLEAN,
            "sensitive": {**BOOLEAN, "description": "its values are write-only, never returned"},
        },
        ["name", "label", "description", "type", "required", "sensitive"],
    ),
    "FunctionSettingInput": _object(
        {
            "name": {"type": "string", "pattern": "^[a-z][a-zA-Z0-9]*$", "maxLength": 100},
            "label": {"type": "string", "minLength": 1, "maxLength": 100},
            "description": STRING,
            "type": {"type": "string", "enum": SETTING_TYPES},
            "required": BOOLEAN,
            "sensitive": BOOLEAN,
        },
        ["name", "label", "type"],
        closed=True,
    ),
    "ListFunctionItemV1": _object(
        {
            "id": {**STRING, "description": "sfnc_, dfn_ or ifnd_ and the catalogId"},
            "resourceType": {"type": "string", "enum": RESOURCE_TYPES},
            "createdAt": TIMESTAMP,
            "createdBy": _nullable({**STRING, "description": "the creating user's id"}),
            "displayName": STRING,
            "description": STRING,
            "logoUrl": STRING,
            "catalogId": STRING,
        },
        ["id", "resourceType", "createdAt", "displayName", "catalogId"],
    ),
    "FunctionV1": {
        "allOf": [
            _ref("ListFunctionItemV1"),
            _object(
                {
                    "workspaceId": {**STRING, "description": "the workspace's slug"},
                    "code": STRING,
                    "settings": {"type": "array", "items": _ref("FunctionSettingV1")},
                    "previewWebhookUrl": STRING,
                    "batchMaxCount": {"type": "number"},
                    "deployedAt": _nullable(TIMESTAMP),
                    "isLatestVersion": {
                        **BOOLEAN,
                        "description": "whether the deployed version is the latest one",
                    },
                    "latestVersionId": _nullable({**STRING, "description": "(addition)"}),
                    "deployedVersionId": _nullable({**STRING, "description": "(addition)"}),
                },
                ["code", "settings", "isLatestVersion"],
            ),
        ]
    },
    "CreateFunctionV1Input": _object(
        {
            "code": {**STRING, "description": f"at most {CODE_MAX_BYTES // 1024} KiB of UTF-8"},
            "displayName": {"type": "string", "maxLength": DISPLAY_NAME_MAX_LENGTH},
            "resourceType": {"type": "string", "enum": RESOURCE_TYPES},
            "settings": {"type": "array", "items": _ref("FunctionSettingInput")},
            "logoUrl": {**STRING, "description": "an http(s) URL, or empty"},
            "description": STRING,
        },
        ["code", "displayName", "resourceType"],
        closed=True,
    ),
    "UpdateFunctionV1Input": _object(
        {
            "code": STRING,
            "displayName": {"type": "string", "maxLength": DISPLAY_NAME_MAX_LENGTH},
            "settings": {
                "type": "array",
                "items": _ref("FunctionSettingInput"),
                "description": "replaces the whole list; settings keep their test values by name",
            },
            "logoUrl": STRING,
            "description": STRING,
            "resourceType": {
                "type": "string",
                "enum": RESOURCE_TYPES,
                "description": "immutable: accepted only when equal to the current type",
            },
        },
        closed=True,
    ),
    "Version": _object(
        {
            "id": {**STRING, "description": "27 characters, sortable by time"},
            "author": _nullable(STRING),
            "code": STRING,
            "isDeployed": BOOLEAN,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "deployedAt": _nullable(TIMESTAMP),
            "isLatest": {**BOOLEAN, "description": "(addition)"},
            "number": {"type": "integer", "description": "(addition) 1, 2, 3, ..."},
            "note": {**STRING, "description": "(addition)"},
            "restoredFrom": _nullable({**STRING, "description": "(addition) a version id"}),
            "settings": {
                "type": "array",
                "items": _ref("FunctionSettingV1"),
                "description": "(addition) the settings declared in this version",
            },
        },
        ["id", "code"],
    ),
    "RestoreVersionInput": _object({"versionId": STRING}, ["versionId"], closed=True),
    "Pagination": _object(
        {
            "current": STRING,
            "next": _nullable({**STRING, "description": "null on the last page"}),
            "previous": _nullable({**STRING, "description": "null on the first page"}),
            "totalEntries": {"type": "integer"},
        },
        ["current"],
    ),
    "DiffLine": _object(
        {
            "type": {"type": "string", "enum": ["context", "insert", "delete"]},
            "oldNumber": _nullable({"type": "integer"}),
            "newNumber": _nullable({"type": "integer"}),
            "text": STRING,
        },
        ["type", "oldNumber", "newNumber", "text"],
    ),
    "DiffHunk": _object(
        {
            "oldStart": {"type": "integer"},
            "oldLines": {"type": "integer"},
            "newStart": {"type": "integer"},
            "newLines": {"type": "integer"},
            "lines": {"type": "array", "items": _ref("DiffLine")},
        },
        ["oldStart", "oldLines", "newStart", "newLines", "lines"],
    ),
    "VersionDiff": _object(
        {
            "base": STRING,
            "target": STRING,
            "identical": BOOLEAN,
            "added": {"type": "integer"},
            "removed": {"type": "integer"},
            "hunks": {"type": "array", "items": _ref("DiffHunk")},
            "unified": {**STRING, "description": "the same diff as git-style text"},
        },
        ["base", "target", "identical", "added", "removed", "hunks", "unified"],
    ),
    "DeployInput": _object(
        {
            "versionId": {**STRING, "description": "default: the LATEST version"},
            "instanceIds": {
                "type": "array",
                "items": STRING,
                "description": "default: every instance of the function",
            },
            "message": STRING,
        },
        closed=True,
    ),
    "FunctionDeployment": _object(
        {
            "status": {
                "type": "string",
                "enum": ["SUCCESS"],
                "description": "Segment's field: the deploy was accepted",
            },
            "id": STRING,
            "deployStatus": {
                "type": "string",
                "enum": ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"],
            },
            "versionId": STRING,
            "allInstances": BOOLEAN,
            "isRollback": BOOLEAN,
            "message": STRING,
            "createdAt": TIMESTAMP,
            "finishedAt": _nullable(TIMESTAMP),
        },
        ["status"],
    ),
    "Instance": _object(
        {
            "id": STRING,
            "kind": {"type": "string", "enum": ["SOURCE", "DESTINATION", "INSERT"]},
            "name": STRING,
            "enabled": BOOLEAN,
            "versionId": _nullable(STRING),
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "settings": {"type": "object", "description": "values of non-sensitive settings"},
            "sensitiveSettings": {
                "type": "array",
                "items": STRING,
                "description": "names of sensitive settings that have a value; never the value",
            },
        },
        ["id", "kind", "name", "enabled"],
    ),
    "CreateInstanceInput": _object(
        {
            "name": {"type": "string", "maxLength": INSTANCE_NAME_MAX_LENGTH},
            "settings": SETTING_VALUES,
            "sourceIds": {
                "type": "array",
                "items": STRING,
                "description": "destination functions only: the source instances to connect",
            },
            "destinationId": {
                **STRING,
                "description": "insert functions only: the destination instance to sit before",
            },
            "enabled": {**BOOLEAN, "description": "insert functions only; default true"},
        },
        ["name"],
        closed=True,
    ),
    "UpdateInstanceInput": _object(
        {
            "name": {"type": "string", "maxLength": INSTANCE_NAME_MAX_LENGTH},
            "settings": {
                **SETTING_VALUES,
                "description": "merged into the stored values; a sensitive value left out, "
                "null or empty keeps the stored one",
            },
            "enabled": BOOLEAN,
            "sourceIds": {
                "type": "array",
                "items": STRING,
                "description": "destination functions only: replaces the connected sources",
            },
        },
        closed=True,
    ),
    "InsertFunctionInstanceAlpha": _object(
        {
            "id": STRING,
            "name": STRING,
            "integrationId": {**STRING, "description": "the destination instance's id"},
            "classId": {**STRING, "description": "the insert function's id without ifnd_"},
            "functionId": {**STRING, "description": "(addition) the insert function's id"},
            "enabled": BOOLEAN,
            "versionId": _nullable({**STRING, "description": "(addition) the version it runs"}),
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "settings": {"type": "object", "description": "values of non-sensitive settings"},
            "encryptedSettings": {
                "type": "object",
                "additionalProperties": {"type": "string", "enum": [MASK]},
                "description": "names of sensitive settings that have a value, each mapped to "
                "a mask; never the value",
            },
        },
        [
            "id",
            "integrationId",
            "classId",
            "enabled",
            "createdAt",
            "updatedAt",
            "settings",
            "encryptedSettings",
        ],
    ),
    "CreateInsertFunctionInstanceInput": _object(
        {
            "functionId": {
                **STRING,
                "description": "the insert function's id, with or without its ifnd_ prefix",
            },
            "integrationId": {**STRING, "description": "the destination instance's id"},
            "name": {"type": "string", "maxLength": INSTANCE_NAME_MAX_LENGTH},
            "settings": SETTING_VALUES,
            "enabled": {**BOOLEAN, "description": "default true"},
        },
        ["functionId", "integrationId", "name"],
        closed=True,
    ),
    "UpdateInsertFunctionInstanceInput": _object(
        {
            "name": {"type": "string", "maxLength": INSTANCE_NAME_MAX_LENGTH},
            "settings": {
                **SETTING_VALUES,
                "description": "merged into the stored values; a sensitive value left out, "
                "null or empty keeps the stored one",
            },
            "enabled": BOOLEAN,
        },
        closed=True,
    ),
    "RequestError": _object(
        {
            "type": STRING,
            "message": STRING,
            "field": {**STRING, "description": "the request field at fault, when there is one"},
            "data": {"type": "object"},
        },
        ["type"],
    ),
    "ErrorEnvelope": _object(
        {"errors": {"type": "array", "items": _ref("RequestError"), "minItems": 1}},
        ["errors"],
        closed=True,
    ),
}

RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"schema": {"type": "string"}, "description": "requests per window"},
    "X-RateLimit-Consumed": {"schema": {"type": "string"}},
    "X-RateLimit-Remaining": {"schema": {"type": "string"}},
    "X-RateLimit-Reset": {"schema": {"type": "string"}, "description": "RFC 5322 date"},
}


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {media_type: {"schema": schema} for media_type in MEDIA_TYPES}


def _ok(data_properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    envelope = _object({"data": _object(data_properties, required)}, ["data"], closed=True)
    return {"description": "OK", "headers": RATE_LIMIT_HEADERS, "content": _content(envelope)}


ERRORS = {
    "description": "An error: 400 malformed JSON, 401 no or bad token, 403 forbidden, 404 not "
    "found, 405 wrong method, 413 body too large, 415 wrong content type, 422 invalid "
    "field, 429 rate limited (with Retry-After).",
    "content": _content(_ref("ErrorEnvelope")),
}

PAGE_PARAMETERS = [
    {
        "name": "pagination.count",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
        "description": "page size (default 200); pagination[count] is read too",
    },
    {
        "name": "pagination.cursor",
        "in": "query",
        "schema": {"type": "string"},
        "description": "an opaque cursor from a previous page's pagination; "
        "pagination[cursor] is read too",
    },
]


def _path_parameter(name: str, description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": description,
    }


FUNCTION_ID = _path_parameter("functionId", "the function's id, e.g. sfnc_...")
INSTANCE_ID = _path_parameter("instanceId", "the instance's id: src_, dst_ or ins_...")
INSERT_INSTANCE_ID = _path_parameter("instanceId", "the insert function instance's id, ins_...")
INSTANCE_OK = _ok({"instance": _ref("Instance")}, ["instance"])
INSERT_INSTANCE_OK = _ok({"instance": _ref("InsertFunctionInstanceAlpha")}, ["instance"])
DELETED_OK = _ok({"status": {"type": "string", "enum": ["SUCCESS"]}}, ["status"])
CONNECT_NOTE = "Needs Workspace Owner or Source Admin."


def _operation(
    operation_id: str,
    summary: str,
    ok: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
    body_required: bool = True,
    description: str = "",
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["Functions"],
        "parameters": parameters or [],
        "responses": {"200": ok, "default": ERRORS},
    }
    if description:
        operation["description"] = description
    if body:
        operation["requestBody"] = {"required": body_required, "content": _content(_ref(body))}
    return operation


PATHS: dict[str, Any] = {
    "/functions": {
        "get": _operation(
            "listFunctions",
            "List the functions of one type",
            _ok(
                {
                    "functions": {"type": "array", "items": _ref("ListFunctionItemV1")},
                    "pagination": _ref("Pagination"),
                },
                ["functions", "pagination"],
            ),
            parameters=[
                {
                    "name": "resourceType",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "enum": RESOURCE_TYPES},
                },
                *PAGE_PARAMETERS,
            ],
            description="Oldest first. Cursors are keyset positions: functions created or "
            "deleted between two pages never make another one repeat or go missing.",
        ),
        "post": _operation(
            "createFunction",
            "Create a function (its version 1)",
            _ok({"function": _ref("FunctionV1")}, ["function"]),
            body="CreateFunctionV1Input",
            description="Answers 200, as Segment does. Needs Workspace Owner or Functions Admin.",
        ),
    },
    "/functions/{functionId}": {
        "get": _operation(
            "getFunction",
            "Get a function with its code and settings",
            _ok({"function": _ref("FunctionV1")}, ["function"]),
            parameters=[FUNCTION_ID],
        ),
        "patch": _operation(
            "updateFunction",
            "Update a function",
            _ok({"function": _ref("FunctionV1")}, ["function"]),
            parameters=[FUNCTION_ID],
            body="UpdateFunctionV1Input",
            description="All or nothing. New code or settings save a new LATEST version, as "
            "a save in the editor does; nothing is deployed.",
        ),
        "delete": _operation(
            "deleteFunction",
            "Delete a function",
            _ok({"status": {"type": "string", "enum": ["SUCCESS"]}}, ["status"]),
            parameters=[FUNCTION_ID],
        ),
    },
    "/functions/{functionId}/deploy": {
        "post": _operation(
            "createFunctionDeployment",
            "Deploy a version to the function's instances",
            _ok({"functionDeployment": _ref("FunctionDeployment")}, ["functionDeployment"]),
            parameters=[FUNCTION_ID],
            body="DeployInput",
            body_required=False,
            description="Without a body: LATEST to every instance (Segment's call). Beyond "
            "Segment: any function type, a chosen versionId and chosen instanceIds. The "
            "deploy runs in the background; follow it at .../deploys/{deployId}.",
        ),
    },
    "/functions/{functionId}/deploys/{deployId}": {
        "get": _operation(
            "getFunctionDeployment",
            "How a deploy went (addition)",
            _ok({"functionDeployment": _ref("FunctionDeployment")}, ["functionDeployment"]),
            parameters=[FUNCTION_ID, _path_parameter("deployId")],
        ),
    },
    "/functions/{functionId}/instances": {
        "get": _operation(
            "listFunctionInstances",
            "List the function's instances (addition)",
            _ok({"instances": {"type": "array", "items": _ref("Instance")}}, ["instances"]),
            parameters=[FUNCTION_ID],
        ),
        "post": _operation(
            "createFunctionInstance",
            "Connect an instance of the function (addition)",
            INSTANCE_OK,
            parameters=[FUNCTION_ID],
            body="CreateInstanceInput",
            description="A source (with its own webhook URL), a destination connected to "
            "sourceIds, or an insert function before destinationId, by the function's type; "
            "a field of another type is a 422. It runs the deployed version (or LATEST "
            f"before any deploy). {CONNECT_NOTE}",
        ),
    },
    "/functions/{functionId}/instances/{instanceId}": {
        "get": _operation(
            "getFunctionInstance",
            "Get one instance (addition)",
            INSTANCE_OK,
            parameters=[FUNCTION_ID, INSTANCE_ID],
        ),
        "patch": _operation(
            "updateFunctionInstance",
            "Change an instance (addition)",
            INSTANCE_OK,
            parameters=[FUNCTION_ID, INSTANCE_ID],
            body="UpdateInstanceInput",
            description=f"All or nothing; fields left out stay as they are. {CONNECT_NOTE}",
        ),
        "delete": _operation(
            "deleteFunctionInstance",
            "Remove an instance (addition)",
            DELETED_OK,
            parameters=[FUNCTION_ID, INSTANCE_ID],
            description=CONNECT_NOTE,
        ),
    },
    "/functions/{functionId}/versions": {
        "get": _operation(
            "listFunctionVersions",
            "List versions, newest first",
            _ok(
                {
                    "versions": {"type": "array", "items": _ref("Version")},
                    "pagination": _ref("Pagination"),
                },
                ["versions", "pagination"],
            ),
            parameters=[FUNCTION_ID, *PAGE_PARAMETERS],
        ),
        "post": _operation(
            "restoreFunctionVersion",
            "Restore an old version as the latest version",
            _ok({"version": _ref("Version")}, ["version"]),
            parameters=[FUNCTION_ID],
            body="RestoreVersionInput",
            description="Copies the version (code and settings) into a new LATEST version; "
            "deploys nothing.",
        ),
    },
    "/functions/{functionId}/versions/{versionId}": {
        "get": _operation(
            "getFunctionVersion",
            "Get a version with its code",
            _ok({"version": _ref("Version")}, ["version"]),
            parameters=[FUNCTION_ID, _path_parameter("versionId")],
        ),
    },
    "/functions/{functionId}/versions/{baseVersionId}/compare/{targetVersionId}": {
        "get": _operation(
            "compareFunctionVersions",
            "Compare two versions (addition)",
            _ok({"diff": _ref("VersionDiff")}, ["diff"]),
            parameters=[
                FUNCTION_ID,
                _path_parameter("baseVersionId"),
                _path_parameter("targetVersionId"),
                {
                    "name": "context",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 1000},
                    "description": "unchanged lines around each change (default 3)",
                },
                {
                    "name": "ignoreWhitespace",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["true", "false"]},
                },
            ],
        ),
    },
    "/insert-function-instances": {
        "get": _operation(
            "listInsertFunctionInstances",
            "List an insert function's instances",
            _ok(
                {
                    "instances": {
                        "type": "array",
                        "items": _ref("InsertFunctionInstanceAlpha"),
                    },
                    "pagination": _ref("Pagination"),
                },
                ["instances", "pagination"],
            ),
            parameters=[
                {
                    "name": "functionId",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    "description": "the insert function's id, with or without ifnd_",
                },
                *PAGE_PARAMETERS,
            ],
            description="Segment's alpha path; the same instances as "
            "/functions/{functionId}/instances, in Segment's shape.",
        ),
        "post": _operation(
            "createInsertFunctionInstance",
            "Put an insert function before a destination instance",
            INSERT_INSTANCE_OK,
            body="CreateInsertFunctionInstanceInput",
            description=f"One insert function per destination instance. {CONNECT_NOTE}",
        ),
    },
    "/insert-function-instances/{instanceId}": {
        "get": _operation(
            "getInsertFunctionInstance",
            "Get an insert function instance",
            INSERT_INSTANCE_OK,
            parameters=[INSERT_INSTANCE_ID],
        ),
        "patch": _operation(
            "updateInsertFunctionInstance",
            "Change an insert function instance",
            INSERT_INSTANCE_OK,
            parameters=[INSERT_INSTANCE_ID],
            body="UpdateInsertFunctionInstanceInput",
            description=f"All or nothing; fields left out stay as they are. {CONNECT_NOTE}",
        ),
        "delete": _operation(
            "deleteInsertFunctionInstance",
            "Remove an insert function instance",
            DELETED_OK,
            parameters=[INSERT_INSTANCE_ID],
            description=CONNECT_NOTE,
        ),
    },
}


def openapi_document(*, server_url: str = "/api/v1") -> dict[str, Any]:
    """The whole document; a fresh copy, so callers may change it."""
    return copy.deepcopy(
        {
            "openapi": "3.0.3",
            "info": {
                "title": "functions_ui Public API",
                "version": "1.0.0",
                "description": "Segment's Public API for Functions, field for field, at "
                "/api/v1. Send Authorization: Bearer <token> (owners create tokens under "
                "the workspace's API tokens page). Bodies and answers are application/json or "
                "Segment's application/vnd.segment.v1+json, v1beta+json and v1alpha+json.",
            },
            "servers": [{"url": server_url}],
            "security": [{"bearerAuth": []}],
            "paths": PATHS,
            "components": {
                "schemas": SCHEMAS,
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
        }
    )


# The readable docs page -----------------------------------------------------------------


def _type_text(schema: dict[str, Any]) -> str:
    """A short human description of a schema: "string", "array of Version", ..."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "allOf" in schema:
        return " + ".join(_type_text(part) for part in schema["allOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        text = f"array of {_type_text(schema.get('items', {}))}"
    elif "enum" in schema:
        text = " | ".join(str(value) for value in schema["enum"])
    else:
        text = kind
        limits = [
            f"{label} {schema[key]}"
            for key, label in (
                ("minimum", "≥"),
                ("maximum", "≤"),
                ("minLength", "length ≥"),
                ("maxLength", "length ≤"),
            )
            if key in schema
        ]
        if limits:
            text += f" ({', '.join(limits)})"
    return text + (" or null" if schema.get("nullable") else "")


def _fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    if "allOf" in schema:
        return [field for part in schema["allOf"] for field in _fields(part)]
    if "$ref" in schema:
        return [{"name": "(all of)", "type": _type_text(schema), "required": True}]
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": _type_text(prop),
            "required": name in required,
            "description": prop.get("description", ""),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def docs_sections() -> dict[str, Any]:
    """The document as rows for the docs template: operations, then schemas."""
    document = openapi_document()
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
            data = ok["properties"]["data"]
            body = operation.get("requestBody")
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": operation["operationId"],
                    "summary": operation["summary"],
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": parameter["name"],
                            "in": parameter["in"],
                            "required": parameter.get("required", False),
                            "type": _type_text(parameter["schema"]),
                            "description": parameter.get("description", ""),
                        }
                        for parameter in operation["parameters"]
                    ],
                    "body": _type_text(body["content"]["application/json"]["schema"])
                    if body
                    else "",
                    "body_required": bool(body and body["required"]),
                    "data": _fields(data),
                }
            )
    schemas = [
        {"name": name, "fields": _fields(schema)}
        for name, schema in document["components"]["schemas"].items()
    ]
    return {
        "openapi": document["openapi"],
        "info": document["info"],
        "operations": operations,
        "schemas": schemas,
    }
