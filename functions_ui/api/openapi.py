"""The OpenAPI document of the public API, generated from its routes and schemas.

Served at /api/openapi.json and shown at /api/docs/. Nothing here describes an operation or a
shape: routes.py and schemas.py do, and this module only writes them in OpenAPI's form. Every
2xx body is {"data": ...} and every other answer is the error envelope (the default response).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from functions_ui.api import schemas
from functions_ui.api.endpoint import MEDIA_TYPES
from functions_ui.api.routes import PATH_PARAMETERS, ROUTES, Route

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"schema": {"type": "string"}, "description": "requests per window"},
    "X-RateLimit-Consumed": {"schema": {"type": "string"}},
    "X-RateLimit-Remaining": {"schema": {"type": "string"}},
    "X-RateLimit-Reset": {"schema": {"type": "string"}, "description": "RFC 5322 date"},
}
ERRORS_DESCRIPTION = (
    "An error: 400 malformed JSON, 401 no or bad token, 403 forbidden, 404 not found, 405 wrong "
    "method, 413 body too large, 415 wrong content type, 422 invalid field, 429 rate limited "
    "(with Retry-After)."
)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _untitled(schema: Any) -> Any:
    """Pydantic's generated titles repeat the field names; the document goes without them."""
    if isinstance(schema, dict):
        return {
            key: (
                {name: _untitled(value) for name, value in item.items()}
                if key == "properties"
                else _untitled(item)
            )
            for key, item in schema.items()
            if not (key == "title" and isinstance(item, str))
        }
    if isinstance(schema, list):
        return [_untitled(item) for item in schema]
    return schema


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or text, never null: drop the null option."""
    options = [option for option in schema.get("anyOf", []) if option.get("type") != "null"]
    if len(options) == 1:
        rest = {key: value for key, value in schema.items() if key not in ("anyOf", "default")}
        return {**options[0], **rest}
    return {key: value for key, value in schema.items() if key != "default"}


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {media_type: {"schema": schema} for media_type in MEDIA_TYPES}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = _untitled(model.model_json_schema(mode="validation"))
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = _not_null(prop)
        parameter = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            parameter["description"] = prop.pop("description")
        parameters.append({**parameter, "schema": prop})
    return parameters


def _operation(route: Route) -> dict[str, Any]:
    envelope = {
        "type": "object",
        "properties": {"data": _ref(route.data)},
        "required": ["data"],
        "additionalProperties": False,
    }
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": ["Functions"],
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": schemas.ID_MAX_LENGTH},
                "description": PATH_PARAMETERS[name],
            }
            for name in route.path_parameters
        ]
        + (_query_parameters(route.query) if route.query else []),
        "responses": {
            "200": {
                "description": "OK",
                "headers": RATE_LIMIT_HEADERS,
                "content": _content(envelope),
            },
            "default": {
                "description": ERRORS_DESCRIPTION,
                "content": _content(_ref(schemas.ErrorEnvelope)),
            },
        },
    }
    if route.description:
        operation["description"] = route.description
    if route.body is not None:
        operation["requestBody"] = {
            "required": route.body_required,
            "content": _content(_ref(route.body)),
        }
    return operation


def _components() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (schemas.ErrorEnvelope, "serialization")
    ]
    for route in ROUTES:
        models.append((route.data, "serialization"))
        if route.body is not None:
            models.append((route.body, "validation"))
    _, document = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    components: dict[str, Any] = _untitled(document["$defs"])
    return components


@cache
def _document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "functions_ui Public API",
            "version": "1.0.0",
            "description": "Segment's Public API for Functions, field for field, at /api/v1. "
            "Send Authorization: Bearer <token> (owners create tokens under the workspace's "
            "API tokens page). Bodies and answers are application/json or Segment's "
            "application/vnd.segment.v1+json, v1beta+json and v1alpha+json.",
        },
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": _components(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def openapi_document(*, server_url: str = "/api/v1") -> dict[str, Any]:
    """The whole document; a fresh copy, so callers may change it."""
    document = copy.deepcopy(_document())
    # The page size limit is a setting: read when the document is asked for.
    for methods in document["paths"].values():
        for operation in methods.values():
            for parameter in operation["parameters"]:
                if parameter["name"] == "pagination.count":
                    schemas.page_size_limit(parameter["schema"])
    return {**document, "servers": [{"url": server_url}]}


# The readable docs page -----------------------------------------------------------------


def _type_text(schema: dict[str, Any]) -> str:
    """A short human description of a schema: "string", "array of Version", ..."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        text = " | ".join(_type_text(option) for option in options)
        return text + (" or null" if len(options) < len(schema["anyOf"]) else "")
    kind = schema.get("type", "any")
    if "const" in schema:
        return str(schema["const"])
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    if kind == "array":
        return f"array of {_type_text(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_type_text(schema['additionalProperties'])}"
    limits = [
        f"{label} {schema[key]}"
        for key, label in (
            ("minimum", "≥"),
            ("maximum", "≤"),
            ("minLength", "length ≥"),
            ("maxLength", "length ≤"),
            ("pattern", "matching"),
        )
        if key in schema
    ]
    return str(kind) + (f" ({', '.join(limits)})" if limits else "")


def _fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
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
    components = document["components"]["schemas"]
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
            data = components[ok["properties"]["data"]["$ref"].rsplit("/", 1)[-1]]
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
    return {
        "openapi": document["openapi"],
        "info": document["info"],
        "operations": operations,
        "schemas": [
            {"name": name, "fields": _fields(schema)} for name, schema in components.items()
        ],
    }
