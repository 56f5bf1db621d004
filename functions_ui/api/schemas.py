"""The public API's shapes, each described once: request bodies, query strings and answers.

Pydantic models after Segment's Public API (FunctionV1, Version, ...), with this API's
additions marked "(addition)" in their descriptions. The routes (routes.py) name them, the
endpoint (endpoint.py) checks requests against them, and the OpenAPI document (openapi.py) is
generated from them. Limits are read from the models that store the values, never copied.

Inputs are strict (a string is a string, true is true), refuse unknown fields, and take null
as "not given". Text must be storable: no NUL and no lone surrogate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from catalog.content import CODE_MAX_BYTES, SETTING_LABEL_MAX_LENGTH, SETTING_NAME_MAX_LENGTH
from catalog.models import (
    DISPLAY_NAME_MAX_LENGTH,
    SETTING_NAME_PATTERN,
    ResourceType,
    SettingType,
)
from functions_ui.deploys.models import DeployStatus, SourceInstance
from functions_ui.runtime.masking import MASK

if TYPE_CHECKING:  # a Literal made from the enums' values is one mypy cannot read
    ResourceTypeName = str
    SettingTypeName = str
else:
    ResourceTypeName = Literal[tuple(ResourceType.values)]
    SettingTypeName = Literal[tuple(SettingType.values)]
INSTANCE_NAME_MAX_LENGTH = SourceInstance._meta.get_field("name").max_length
ID_MAX_LENGTH = 255


def storable(value: str) -> str:
    """A string any database can store: no NUL, no lone surrogate."""
    if "\x00" in value:
        raise PydanticCustomError("storable", "must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("storable", "is not valid Unicode text.") from None
    return value


Text = Annotated[str, AfterValidator(storable)]
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


def described(text: str, **limits: Any) -> Any:
    """A field's description (and limits) for the document; its default is "not given"."""
    return Field(None, description=text, **limits)


class Input(BaseModel):
    """A request body: camelCase fields, strict types, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, strict=True, extra="forbid")


class Query(BaseModel):
    """A query string: every value arrives as text, so types are converted, not strict."""

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore")


class Output(BaseModel):
    """An answer: camelCase fields, every one always present."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_serialization_defaults_required=True,
    )


# Functions ------------------------------------------------------------------------------


class FunctionSettingV1(Output):
    """A setting's declaration only: never a value, a test value or a mask."""

    name: str = Field(description="camelCase; the key the code reads")
    label: str
    description: str
    type: SettingTypeName
    required: bool
    sensitive: bool = Field(description="its values are write-only, never returned")


class FunctionSettingInput(Input):
    name: Annotated[Text, Field(pattern=SETTING_NAME_PATTERN, max_length=SETTING_NAME_MAX_LENGTH)]
    label: Annotated[Text, Field(min_length=1, max_length=SETTING_LABEL_MAX_LENGTH)]
    description: Text | None = None
    type: SettingTypeName
    required: bool | None = None
    sensitive: bool | None = None

    def as_service_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description or "",
            "type": self.type,
            "required": bool(self.required),
            "sensitive": bool(self.sensitive),
        }


class ListFunctionItemV1(Output):
    """A function in a list: no code and no settings."""

    id: str = Field(description="sfnc_, dfn_ or ifnd_ and the catalogId")
    resource_type: ResourceTypeName
    created_at: Timestamp
    created_by: str | None = Field(description="the creating user's id")
    display_name: str
    description: str
    logo_url: str
    catalog_id: str


class FunctionV1(ListFunctionItemV1):
    workspace_id: str = Field(description="the workspace's slug")
    code: str
    settings: list[FunctionSettingV1]
    preview_webhook_url: str
    batch_max_count: float
    deployed_at: Timestamp | None
    is_latest_version: bool = Field(description="whether the deployed version is the latest one")
    latest_version_id: str | None = Field(description="(addition)")
    deployed_version_id: str | None = Field(description="(addition)")


class CreateFunctionV1Input(Input):
    code: Text = Field(description=f"at most {CODE_MAX_BYTES // 1024} KiB of UTF-8")
    display_name: Annotated[Text, Field(max_length=DISPLAY_NAME_MAX_LENGTH)]
    resource_type: ResourceTypeName
    settings: list[FunctionSettingInput] | None = None
    logo_url: Text | None = described("an http(s) URL, or empty")
    description: Text | None = None


class UpdateFunctionV1Input(Input):
    code: Text | None = None
    display_name: Annotated[Text, Field(max_length=DISPLAY_NAME_MAX_LENGTH)] | None = None
    settings: list[FunctionSettingInput] | None = described(
        "replaces the whole list; settings keep their test values by name"
    )
    logo_url: Text | None = None
    description: Text | None = None
    resource_type: ResourceTypeName | None = described(
        "immutable: accepted only when equal to the current type"
    )


class FunctionData(Output):
    function: FunctionV1


class FunctionListData(Output):
    functions: list[ListFunctionItemV1]
    pagination: Pagination


class DeletedData(Output):
    status: Literal["SUCCESS"]


# Pages ----------------------------------------------------------------------------------


class Pagination(Output):
    current: str
    next: str | None = Field(description="null on the last page")
    previous: str | None = Field(description="null on the first page")
    total_entries: int


def page_size_limit(schema: dict[str, Any]) -> None:
    """State the page size limit the server has now (a setting) in a parameter's schema."""
    from django.conf import settings

    schema["maximum"] = settings.API_PAGE_SIZE_MAX


class PageQuery(Query):
    """Segment's paging; `pagination[count]` and `pagination[cursor]` are read too."""

    count: int | None = Field(
        None,
        alias="pagination.count",
        ge=1,
        description="page size (default 200); pagination[count] is read too",
    )
    cursor: str | None = Field(
        None,
        alias="pagination.cursor",
        description="an opaque cursor from a previous page's pagination; pagination[cursor] "
        "is read too",
    )


class FunctionListQuery(PageQuery):
    resource_type: ResourceTypeName


# Versions -------------------------------------------------------------------------------


class Version(Output):
    """Segment's fields, plus the number, note and origin of a restore."""

    id: str = Field(description="27 characters, sortable by time")
    author: str | None
    code: str
    is_deployed: bool
    created_at: Timestamp
    updated_at: Timestamp
    deployed_at: Timestamp | None
    is_latest: bool = Field(description="(addition)")
    number: int = Field(description="(addition) 1, 2, 3, ...")
    note: str = Field(description="(addition)")
    restored_from: str | None = Field(description="(addition) a version id")
    settings: list[FunctionSettingV1] = Field(
        description="(addition) the settings declared in this version"
    )


class VersionData(Output):
    version: Version


class VersionListData(Output):
    versions: list[Version]
    pagination: Pagination


class RestoreVersionInput(Input):
    version_id: Text


class DiffLine(Output):
    type: Literal["context", "insert", "delete"]
    old_number: int | None
    new_number: int | None
    text: str


class DiffHunk(Output):
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    lines: list[DiffLine]


class VersionDiff(Output):
    base: str
    target: str
    identical: bool
    added: int
    removed: int
    hunks: list[DiffHunk]
    unified: str = Field(description="the same diff as git-style text")


class DiffData(Output):
    diff: VersionDiff


COMPARE_MAX_CONTEXT = 1000


class CompareQuery(Query):
    context: int = Field(
        3, ge=0, le=COMPARE_MAX_CONTEXT, description="unchanged lines around each change"
    )
    ignore_whitespace: Literal["true", "false"] = "false"


BEHAVIOUR_MAX_PAYLOADS = 100


class BehaviourInput(Input):
    against_version_id: Text = Field(description="the version to compare with (the left side)")
    payloads: Literal["saved"] | Annotated[list[Any], Field(max_length=BEHAVIOUR_MAX_PAYLOADS)] = (
        Field(
            "saved",
            description='"saved" for the function\'s saved test payloads, or up to '
            f"{BEHAVIOUR_MAX_PAYLOADS} payloads: events for destination and insert functions, "
            "requests ({body, headers, query}) for source functions",
        )
    )


class BehaviourSide(Output):
    """What one version did with a payload (run in the sandbox, fetch mocked)."""

    outcome: dict[str, Any]
    events: list[Any]
    objects: list[Any]
    returned: Any
    console: list[str]
    requests: list[dict[str, Any]]


class BehaviourPayload(Output):
    name: str
    same: bool
    differs: list[str] = Field(
        description="aspects that differ: "
        + ", ".join(("outcome", "events", "objects", "returned", "console", "requests"))
    )
    left: BehaviourSide
    right: BehaviourSide


class BehaviourData(Output):
    payloads: list[BehaviourPayload]
    differing: int


# Deploys --------------------------------------------------------------------------------


class DeployInput(Input):
    version_id: Text | None = described("default: the LATEST version")
    instance_ids: list[Text] | None = described("default: every instance of the function")
    message: Text | None = None
    override_tests: bool | None = described(
        "deploy even though the version's tests fail where the workspace blocks that "
        "(Workspace Owners only; audited)"
    )


class FunctionDeployment(Output):
    """Segment's `functionDeployment`, with the deploy's own progress."""

    status: Literal["SUCCESS"] = Field(description="Segment's field: the deploy was accepted")
    id: str
    deploy_status: Literal[tuple(s.upper() for s in DeployStatus.values)]  # type: ignore[valid-type]
    version_id: str
    all_instances: bool
    is_rollback: bool
    message: str
    created_at: Timestamp
    finished_at: Timestamp | None


class DeploymentData(Output):
    function_deployment: FunctionDeployment


# Instances ------------------------------------------------------------------------------

SETTING_VALUES = (
    "values by setting name: a string, true or false, a list of strings or an object of "
    "strings, as the setting's type says. Sensitive values are write-only."
)
SETTING_CHANGES = (
    "merged into the stored values; a sensitive value left out, null or empty keeps the stored one"
)
InstanceName = Annotated[Text, Field(max_length=INSTANCE_NAME_MAX_LENGTH)]
# Checked against the function's declared settings by serializers.instance_settings_input.
SettingValues = dict[str, Any]


class Instance(Output):
    id: str
    kind: Literal["SOURCE", "DESTINATION", "INSERT"]
    name: str
    enabled: bool
    version_id: str | None
    created_at: Timestamp
    updated_at: Timestamp
    settings: dict[str, Any] = Field(description="values of non-sensitive settings")
    sensitive_settings: list[str] = Field(
        description="names of sensitive settings that have a value; never the value"
    )


class InstanceData(Output):
    instance: Instance


class InstanceListData(Output):
    instances: list[Instance]


class CreateInstanceInput(Input):
    name: InstanceName
    settings: SettingValues | None = described(SETTING_VALUES)
    source_ids: list[Text] | None = described(
        "destination functions only: the source instances to connect"
    )
    destination_id: Text | None = described(
        "insert functions only: the destination instance to sit before"
    )
    enabled: bool | None = described("insert functions only; default true")


class UpdateInstanceInput(Input):
    name: InstanceName | None = None
    settings: SettingValues | None = described(SETTING_CHANGES)
    enabled: bool | None = None
    source_ids: list[Text] | None = described(
        "destination functions only: replaces the connected sources"
    )


class InsertFunctionInstanceAlpha(Output):
    """Segment's insert function instance: sensitive settings only by name, masked."""

    id: str
    name: str
    integration_id: str = Field(description="the destination instance's id")
    class_id: str = Field(description="the insert function's id without ifnd_")
    function_id: str = Field(description="(addition) the insert function's id")
    enabled: bool
    version_id: str | None = Field(description="(addition) the version it runs")
    created_at: Timestamp
    updated_at: Timestamp
    settings: dict[str, Any] = Field(description="values of non-sensitive settings")
    encrypted_settings: dict[str, Literal[MASK]] = Field(  # type: ignore[valid-type]
        description="names of sensitive settings that have a value, each mapped to a mask; "
        "never the value"
    )


class InsertInstanceData(Output):
    instance: InsertFunctionInstanceAlpha


class InsertInstanceListData(Output):
    instances: list[InsertFunctionInstanceAlpha]
    pagination: Pagination


class InsertInstanceListQuery(PageQuery):
    function_id: Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)] = Field(
        description="the insert function's id, with or without ifnd_"
    )


class CreateInsertFunctionInstanceInput(Input):
    function_id: Text = Field(description="the insert function's id, with or without its ifnd_")
    integration_id: Text = Field(description="the destination instance's id")
    name: InstanceName
    settings: SettingValues | None = described(SETTING_VALUES)
    enabled: bool | None = described("default true")


class UpdateInsertFunctionInstanceInput(Input):
    name: InstanceName | None = None
    settings: SettingValues | None = described(SETTING_CHANGES)
    enabled: bool | None = None


# Metrics --------------------------------------------------------------------------------

METRICS_MAX_POINTS = 1500


class MetricsQuery(Query):
    start_time: datetime | None = Field(None, description="ISO 8601; default: a day before endTime")
    end_time: datetime | None = Field(None, description="ISO 8601; default: now")
    granularity: Literal["MINUTE", "HOUR", "DAY"] = Field(
        "HOUR", description=f"bucket size; at most {METRICS_MAX_POINTS} buckets per answer"
    )


class MetricsPoint(Output):
    """One bucket: the instance's (or function's) runs by outcome, and their durations."""

    time: Timestamp = Field(description="the bucket's start")
    delivered: int
    filtered: int
    unsupported: int
    rejected: int
    retrying: int
    failed: int
    duration_p50_ms: float | None = Field(description="null when nothing ran")
    duration_p95_ms: float | None
    duration_p99_ms: float | None


class MetricsSeries(Output):
    series: list[MetricsPoint]


# Errors ---------------------------------------------------------------------------------


class RequestError(BaseModel):
    """One error; `field` and `data` only where they apply."""

    type: str
    message: str
    field: str | None = Field(None, description="the request field at fault, when there is one")
    data: dict[str, Any] | None = None


class ErrorEnvelope(BaseModel):
    errors: Annotated[list[RequestError], Field(min_length=1)]


# Pydantic's error types, as the 422's message says them (after the field's name).
_MESSAGES = {
    "missing": "is required.",
    "string_type": "must be a string.",
    "bool_type": "must be true or false.",
    "list_type": "must be a list.",
    "dict_type": "must be an object.",
    "model_type": "must be an object.",
    "model_attributes_type": "must be an object.",
    "int_type": "must be a whole number.",
    "int_parsing": "must be a whole number.",
    "int_from_float": "must be a whole number.",
}


def error_message(error: Mapping[str, Any], field: str) -> str:
    """One of pydantic's errors as a sentence naming the API field."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"Unknown field {field.rsplit('.', 1)[-1]!r}."
    if error.get("input", ...) is None:
        return f"{field} is required."
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        return f"{field} must be one of {expected}."
    if kind in ("string_too_long", "too_long"):
        return f"{field} can be at most {ctx['max_length']} characters long."
    if kind in ("string_too_short", "too_short"):
        return f"{field} must not be empty."
    if kind == "string_pattern_mismatch":
        return f"{field} must match {ctx['pattern']}."
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = ctx.get("ge", ctx.get("le"))
        return f"{field} must be {'at least' if 'ge' in ctx else 'at most'} {bound}."
    if kind in _MESSAGES:
        return f"{field} {_MESSAGES[kind]}"
    if kind == "storable":
        return f"{field} {error['msg']}"
    return f"{field}: {error['msg']}"


def field_path(loc: tuple[int | str, ...]) -> str:
    """("settings", 0, "name") -> "settings[0].name"."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


FunctionListData.model_rebuild()
