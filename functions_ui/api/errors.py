"""The API's error envelope: `{"errors": [{"type", "message", "field"?, "data"?}]}`.

Every failure the API answers goes through `ApiError`, so no response carries both `data`
and `errors`, and no Django HTML error page ever reaches an API client.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

# Segment's RequestError `type` values for each status, where its spec names one.
TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationFailure",
    429: "RateLimited",
    500: "InternalError",
}


class ApiError(Exception):
    """A failure to answer with `status` and one or more error objects."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        data: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        if errors is None:
            error: dict[str, Any] = {"type": TYPES.get(status, "RequestError"), "message": message}
            if field is not None:
                error["field"] = field
            if data is not None:
                error["data"] = data
            errors = [error]
        self.errors = errors

    @property
    def body(self) -> dict[str, Any]:
        return {"errors": self.errors}


def not_found() -> ApiError:
    return ApiError(404, "Resource not found")


def validation_failure(message: str, *, field: str | None = None) -> ApiError:
    return ApiError(422, message, field=field)


def camel_case(name: str) -> str:
    """display_name -> displayName; keeps an already camelCased or dotted name as it is."""
    return re.sub(r"_([a-z0-9])", lambda match: match.group(1).upper(), name)


def from_validation_error(error: ValidationError) -> ApiError:
    """One 422 error object per message, each naming the API field it is about."""
    messages: dict[str, list[str]]
    if not hasattr(error, "error_dict"):
        messages = {NON_FIELD_ERRORS: error.messages}
    else:
        messages = error.message_dict
    errors: list[dict[str, Any]] = []
    for field, field_messages in messages.items():
        for message in field_messages:
            item: dict[str, Any] = {"type": TYPES[422], "message": message}
            if field != NON_FIELD_ERRORS:
                item["field"] = camel_case(field)
            errors.append(item)
    return ApiError(422, errors[0]["message"], errors=errors)


@contextmanager
def fields_as(names: dict[str, str], *, others: str = "") -> Iterator[None]:
    """Re-raise a service's ValidationError under the API's field names.

    `names` maps a service's field to the API's; any other field gets `others` in front
    (so a deploys service's `apiKey` becomes `settings.apiKey`).
    """
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        renamed = {
            field
            if field == NON_FIELD_ERRORS
            else names.get(field, f"{others}{field}"): field_errors
            for field, field_errors in error.error_dict.items()
        }
        raise ValidationError(renamed) from error
