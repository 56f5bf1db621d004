"""What every API endpoint does around its operation: the HTTP side of the public API.

`endpoint({"GET": route, ...})` builds one Django view per path from its routes (routes.py).
In order, it authenticates the bearer token (401), counts the request against the token's
rate limit (429), checks the method (405), checks the query string against the route's query
schema and the body against its body schema (media type 415, size 413, JSON 400, fields 422),
runs the operation, and renders its `data` model as `{"data": ...}`, or `{"errors": [...]}`,
with the rate-limit headers on every response to an authenticated request. It is CSRF-exempt
and never touches the session.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel
from pydantic import ValidationError as SchemaError

from functions_ui.api.auth import ApiContext, authenticate
from functions_ui.api.errors import ApiError, from_validation_error, not_found
from functions_ui.api.ratelimit import RateLimit, rate_limit_hit
from functions_ui.api.schemas import error_message, field_path
from functions_ui.audit.context import VIA_API, audit_via
from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record

if TYPE_CHECKING:
    from functions_ui.api.routes import Route

logger = logging.getLogger(__name__)

JSON = "application/json"
# Segment's media types; a request may send and ask for any of them.
SEGMENT_MEDIA_TYPES = (
    "application/vnd.segment.v1+json",
    "application/vnd.segment.v1beta+json",
    "application/vnd.segment.v1alpha+json",
)
MEDIA_TYPES = (JSON, *SEGMENT_MEDIA_TYPES)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Result:
    """What an operation returns: the `data` model its route names, and the status (Segment
    answers 200)."""

    data: BaseModel
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Operation = Callable[..., Result]


def response_media_type(request: HttpRequest) -> str:
    """Segment's media type when the client asks for one, otherwise application/json."""
    accept = request.headers.get("Accept", "")
    for part in accept.split(","):
        media_type = part.split(";")[0].strip().lower()
        if media_type in SEGMENT_MEDIA_TYPES:
            return media_type
    return JSON


def json_response(
    request: HttpRequest, body: dict[str, Any], status: int, headers: dict[str, str]
) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=f"{response_media_type(request)}; charset=utf-8",
    )
    response["Vary"] = "Accept, Authorization"
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name] = value
    return response


def error_response(request: HttpRequest, error: ApiError, headers: dict[str, str]) -> HttpResponse:
    return json_response(request, error.body, error.status, {**headers, **error.headers})


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object; an empty body is an empty object."""
    content_type = request.content_type.lower() if request.content_type else ""
    try:
        raw = request.body
    except RequestDataTooBig as error:
        raise ApiError(413, "The request body is too large.") from error
    if not raw.strip():
        return {}
    if content_type not in MEDIA_TYPES:
        sent = content_type or "no type"
        raise ApiError(
            415,
            f"Send the body as {JSON} or {SEGMENT_MEDIA_TYPES[0]}, not {sent}.",
            field="Content-Type",
        )
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError as error:
        raise ApiError(400, "The body is nested too deeply to read.", field="body") from error
    except (UnicodeDecodeError, ValueError) as error:
        raise ApiError(400, f"The body is not valid JSON: {error}", field="body") from error
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.", field="body")
    return body


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def query_param(request: HttpRequest, name: str) -> str | None:
    """A query parameter, with `pagination.count` also read as `pagination[count]`.

    Segment documents the dotted form; its generated SDKs send deepObject brackets.
    """
    value = request.GET.get(name)
    if value is None and "." in name:
        outer, _, inner = name.partition(".")
        value = request.GET.get(f"{outer}[{inner}]")
    return value


def checked(model: type[BaseModel], raw: dict[str, Any]) -> BaseModel:
    """The model of `raw`, or a 422 with one error per field at fault."""
    try:
        return model.model_validate(raw)
    except SchemaError as error:
        errors = []
        for item in error.errors():
            path = field_path(item["loc"])
            errors.append(
                {"type": "ValidationFailure", "message": error_message(item, path), "field": path}
            )
        raise ApiError(422, errors[0]["message"], errors=errors) from error


def query_input(request: HttpRequest, model: type[BaseModel]) -> BaseModel:
    """The query string, as the route's query schema reads it."""
    raw = {}
    for name, info in model.model_fields.items():
        alias = info.alias or name
        value = query_param(request, alias)
        if value is not None:
            raw[alias] = value
    return checked(model, raw)


def _inputs(request: HttpRequest, route: Route) -> dict[str, BaseModel]:
    inputs = {}
    if route.query is not None:
        inputs["query"] = query_input(request, route.query)
    if route.body is not None:
        inputs["body"] = checked(route.body, json_body(request))
    return inputs


def _run(operation: Operation, request: HttpRequest, api: ApiContext, kwargs: dict) -> Result:
    # The audit trail records what the operation changes as done through this token.
    label = f"{api.token.hint}… {api.token.description}".strip()
    with audit_via(VIA_API, token_label=label, user=api.user):
        try:
            return operation(request, api, **kwargs)
        except Http404 as error:
            raise not_found() from error
        except PermissionDenied as error:
            reason = str(error) or "You do not have permission to do this."
            if request.method in WRITE_METHODS:
                _record_denied(request, api, reason, kwargs)
            raise ApiError(403, reason) from error
        except ValidationError as error:
            raise from_validation_error(error) from error


def _record_denied(request: HttpRequest, api: ApiContext, reason: str, kwargs: dict) -> None:
    """A refused write goes into the audit trail, as the web UI's do."""
    function_id = kwargs.get("function_id")
    audit_record(
        workspace=api.workspace,
        action=AuditAction.ACCESS_DENIED,
        target=("function", function_id, function_id) if function_id else None,
        details={"method": request.method, "path": request.path, "reason": reason},
    )


def endpoint(routes: dict[str, Route]) -> Callable[..., HttpResponse]:
    """The view of one path, serving the method of each of its routes."""
    allowed = ", ".join(sorted(routes))

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        headers: dict[str, str] = {}
        try:
            api = authenticate(request)
            limit: RateLimit = rate_limit_hit(token_id=api.token.pk)
            headers = limit.headers()
            if limit.exceeded:
                raise ApiError(429, "Too many requests", data=limit.error_data())
            route = routes.get(request.method or "")
            if route is None:
                raise ApiError(
                    405,
                    f"{request.method} is not allowed here; use {allowed}.",
                    headers={"Allow": allowed},
                )
            result = _run(route.operation, request, api, {**kwargs, **_inputs(request, route)})
            if not isinstance(result.data, route.data):
                raise TypeError(f"{route.operation_id} answered {type(result.data).__name__}")
        except ApiError as error:
            return error_response(request, error, headers)
        except Exception:
            logger.exception("API request %s %s failed", request.method, request.path)
            return error_response(request, ApiError(500, "Internal error"), headers)
        data = result.data.model_dump(mode="json", by_alias=True)
        return json_response(request, {"data": data}, result.status, {**headers, **result.headers})

    view.routes = routes  # type: ignore[attr-defined]
    return view


@csrf_exempt
def unknown_route(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under the API's prefix: a 404 in the envelope, not Django's HTML page."""
    return error_response(request, not_found(), {})
