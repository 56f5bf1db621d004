"""run_function() and check_code(): the runtime's entry points."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from django.views.decorators.debug import sensitive_variables

from functions_ui.runtime.masking import secret_masker
from functions_ui.runtime.pool import (
    DEFAULT_TENANT,
    HARD_TIMEOUT_MARGIN_S,
    WorkerCrashed,
    WorkerTimeout,
    get_pool,
    next_request_id,
    runtime_setting,
)
from functions_ui.runtime.types import (
    DESTINATION_HANDLERS,
    FUNCTION_TYPES,
    SOURCE_BODY_LIMIT,
    SOURCE_HANDLER,
    CodeProblem,
    RunOptions,
    RunResult,
    error_result,
    make_result,
)

FORBIDDEN_URL = "https://fn.segmentapis.com"


def _body_size(body: Any) -> int:
    if body is None:
        return 0
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    return len(json.dumps(body, ensure_ascii=False).encode("utf-8"))


@sensitive_variables("settings", "data", "msg", "opts", "options")
def run_function(
    *,
    code: str,
    function_type: str,
    payload: Any,
    settings: dict[str, Any] | None,
    options: RunOptions | None = None,
) -> RunResult:
    """Run user code once in a fresh sandboxed context of a pooled Node.js worker.

    Source: payload is a request dict {"body", "headers", "url", "queryParameters"}.
    Destination / insert: payload is an event dict (dispatched on event["type"]) or a list of
    events (onBatch). Never raises for problems in the user's code; raises RuntimeUnavailable
    when Node.js cannot be used and ValueError for an unknown function_type.
    """
    if function_type not in FUNCTION_TYPES:
        raise ValueError(f"function_type must be one of {', '.join(FUNCTION_TYPES)}")
    opts = options or RunOptions()
    timeout_ms = int(opts.timeout_ms or runtime_setting("RUNTIME_TIMEOUT_MS"))
    started = time.perf_counter()

    if function_type == "source":
        if not isinstance(payload, dict):
            payload = {"body": payload}
        if _body_size(payload.get("body")) > SOURCE_BODY_LIMIT:
            return error_result(
                "bad_request",
                "PayloadTooLarge",
                f"the request body is larger than the {SOURCE_BODY_LIMIT // 1024} KiB limit",
            )

    data = json.dumps(
        {"kind": function_type, "payload": payload, "settings": settings or {}},
        ensure_ascii=False,
        default=str,
    )
    allowed = [*runtime_setting("RUNTIME_FETCH_ALLOWED_HOSTS"), *opts.allowed_hosts]
    mock = None
    if opts.mock_fetch:
        m = opts.mock_response
        mock = {"status": m.status, "headers": dict(m.headers), "body": m.body}
    msg = {
        "op": "run",
        "id": next_request_id(),
        "code": code,
        "data": data,
        "timeoutMs": timeout_ms,
        "mock": mock,
        "allowedHosts": [h.strip("[]").lower() for h in allowed],
        "cacheNamespace": opts.cache_namespace,
        "fnKey": opts.function_key or "",
    }
    pool = get_pool(opts.memory_mb)
    try:
        reply = pool.request(
            msg, timeout_ms / 1000 + HARD_TIMEOUT_MARGIN_S, opts.workspace or DEFAULT_TENANT
        )
    except WorkerTimeout:
        result = error_result(
            "timeout",
            "TimeoutError",
            f"Function timed out after {timeout_ms} ms (the worker was stopped and restarted)",
        )
    except WorkerCrashed as exc:
        if exc.oom:
            result = error_result(
                "bad_request",
                "MemoryLimitExceeded",
                f"The function ran out of memory (limit {pool.memory_mb} MB); "
                "the worker was restarted",
            )
        else:
            result = error_result(
                "bad_request", "WorkerCrashed", "The function's worker process exited unexpectedly"
            )
    else:
        result = make_result(
            reply.get("status", "bad_request"),
            events=reply.get("events") or [],
            objects=reply.get("objects") or [],
            result=reply.get("result"),
            logs=reply.get("logs") or [],
            fetches=reply.get("fetches") or [],
            error=reply.get("error"),
            duration_ms=float(reply.get("duration_ms") or 0.0),
        )
    if not result.duration_ms:
        result.duration_ms = round((time.perf_counter() - started) * 1000, 3)

    mask = secret_masker(opts.secret_values)
    if mask is not None:
        result.logs = mask(result.logs)
        result.error = mask(result.error)
        result.fetches = mask(result.fetches)
        result.events = mask(result.events)
        result.objects = mask(result.objects)
        if opts.mask_result:
            result.result = mask(result.result)
    return result


_STRIP = re.compile(
    r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|`(?:\\.|[^`\\])*`", re.S
)
_DECLARED = re.compile(r"(?:\bfunction\s*\*?\s*|\b(?:const|let|var)\s+)(on[A-Z][A-Za-z]*)\b")


def _strip_comments_and_strings(code: str) -> str:
    return _STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), code)


def declared_handlers(code: str) -> set[str]:
    """Handler names declared in the code (function declarations or const/let/var bindings)."""
    return set(_DECLARED.findall(_strip_comments_and_strings(code)))


def check_code(*, code: str, function_type: str, workspace: str | None = None) -> list[CodeProblem]:
    """Deploy-time validation: syntax errors, missing handlers, forbidden content."""
    if function_type not in FUNCTION_TYPES:
        raise ValueError(f"function_type must be one of {', '.join(FUNCTION_TYPES)}")
    problems: list[CodeProblem] = []
    index = code.find(FORBIDDEN_URL)
    if index != -1:
        problems.append(
            CodeProblem(
                "forbidden",
                "Functions are unable to send data or events back to their originating source",
                line=code.count("\n", 0, index) + 1,
                column=index - (code.rfind("\n", 0, index) + 1) + 1,
            )
        )
    reply = get_pool().request(
        {"op": "check", "id": next_request_id(), "code": code},
        HARD_TIMEOUT_MARGIN_S + 5,
        workspace or DEFAULT_TENANT,
    )
    if not reply.get("ok"):
        err = reply.get("error") or {}
        problems.append(
            CodeProblem(
                "syntax",
                f"{err.get('name', 'SyntaxError')}: {err.get('message', 'invalid code')}",
                line=err.get("line"),
                column=err.get("column"),
            )
        )
        return problems
    handlers = declared_handlers(code)
    if function_type == "source":
        if SOURCE_HANDLER not in handlers:
            problems.append(
                CodeProblem(
                    "missing_handler", "A source function must define onRequest(request, settings)"
                )
            )
    elif not handlers.intersection(DESTINATION_HANDLERS):
        problems.append(
            CodeProblem(
                "missing_handler",
                "Define at least one handler: " + ", ".join(DESTINATION_HANDLERS),
            )
        )
    return problems
