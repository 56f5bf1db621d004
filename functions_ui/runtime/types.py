"""Data types of the runtime's public API: options in, results and problems out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FunctionType = Literal["source", "destination", "insert"]
FUNCTION_TYPES: tuple[str, ...] = ("source", "destination", "insert")

# status -> the category label Segment shows in Event Delivery / the Errors tab.
STATUS_LABELS: dict[str, str] = {
    "success": "Success",
    "unsupported_event_type": "Unsupported Event Type",
    "message_rejected": "Message Rejected",
    "retry": "Retry",
    "timeout": "Timeout",
    "bad_request": "Bad Request",
    "dropped": "Filtered at insert function",
    "invalid_code": "Invalid Code",
}
# Statuses that Segment retries (RetryError and timeouts).
RETRYABLE_STATUSES = frozenset({"retry", "timeout"})

SOURCE_BODY_LIMIT = 512 * 1024

# Segment's handlers: which one an event of each type runs, plus the two that are not per type.
# The only description: the worker builds the user module's exports from it and each isolate
# dispatches with it (both receive it from pool.py), and the deploys pipeline reads it here.
HANDLER_BY_EVENT_TYPE: dict[str, str] = {
    "track": "onTrack",
    "identify": "onIdentify",
    "page": "onPage",
    "screen": "onScreen",
    "group": "onGroup",
    "alias": "onAlias",
    "delete": "onDelete",
}
SOURCE_HANDLER = "onRequest"
BATCH_HANDLER = "onBatch"
DESTINATION_HANDLERS: tuple[str, ...] = (*HANDLER_BY_EVENT_TYPE.values(), BATCH_HANDLER)


class RuntimeUnavailable(RuntimeError):
    """Node.js is missing or too old, or the worker files cannot be started."""


@dataclass(frozen=True)
class MockResponse:
    """The fake response `fetch` returns when `RunOptions.mock_fetch` is on."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    body: Any = "{}"


@dataclass(frozen=True)
class RunOptions:
    """Per-call options. None means "use the project setting" (see pool.runtime_setting)."""

    timeout_ms: int | None = None
    memory_mb: int | None = None
    mock_fetch: bool = False
    mock_response: MockResponse = field(default_factory=MockResponse)
    allowed_hosts: tuple[str, ...] | list[str] = ()
    secret_values: tuple[str, ...] | list[str] = ()
    cache_namespace: str | None = None
    # Who the code belongs to. Runs of different workspaces never share a worker process, and
    # different functions never share an isolate; None stands for one local, anonymous tenant.
    workspace: str | None = None
    function_key: str | None = None
    # An insert function's returned event travels on to its destination, so it is masked only
    # where it is shown, not here.
    mask_result: bool = True


@dataclass
class RunResult:
    """What one invocation produced. `status` is "success" or an error category."""

    status: str
    category: str
    events: list[dict[str, Any]] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None
    logs: list[dict[str, str]] = field(default_factory=list)
    fetches: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE_STATUSES

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CodeProblem:
    """One deploy-time problem: a syntax error, a missing handler or forbidden content."""

    kind: Literal["syntax", "missing_handler", "forbidden"]
    message: str
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_result(status: str, **kwargs: Any) -> RunResult:
    return RunResult(status=status, category=STATUS_LABELS.get(status, "Bad Request"), **kwargs)


def error_result(status: str, name: str, message: str, duration_ms: float = 0.0) -> RunResult:
    """A result for a failure detected outside the handler (timeout kill, crash, limits)."""
    return make_result(
        status,
        error={
            "name": name,
            "message": message,
            "stack": f"{name}: {message}",
            "line": None,
            "column": None,
        },
        duration_ms=duration_ms,
    )
