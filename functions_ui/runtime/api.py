"""run_function() and check_code(): the runtime's entry points."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


@sensitive_variables("settings", "options")
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
    result: RunResult = _Call(code, function_type, settings, options or RunOptions()).run_alone(
        payload
    )
    return result


# A batch of runs sent in one round trip: at most this many payloads, or this many bytes of them.
MANY_MAX_RUNS = 25
MANY_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Job:
    """One code with one settings over its payloads: a part of a run_jobs batch."""

    code: str
    function_type: str
    payloads: list[Any]
    settings: dict[str, Any] | None
    options: RunOptions = field(default_factory=RunOptions)


@sensitive_variables("settings", "options", "job")
def run_many(
    *,
    code: str,
    function_type: str,
    payloads: list[Any],
    settings: dict[str, Any] | None,
    options: RunOptions | None = None,
    between: Callable[[], None] | None = None,
) -> list[RunResult]:
    """Run the same code with the same settings on each payload: one result per payload, in
    order (run_jobs with one job)."""
    job = Job(code, function_type, payloads, settings, options or RunOptions())
    return run_jobs([job], between=between)[0]


@sensitive_variables(
    "jobs", "job", "calls", "call", "first", "msg", "waiting", "chunk", "item", "reply",
    "answers", "answer", "results",
)  # fmt: skip
def run_jobs(
    jobs: list[Job], *, between: Callable[[], None] | None = None
) -> list[list[RunResult]]:
    """Run each job's code on each of its payloads: one result per payload, in order, per job.

    The runs are the same as run_function's, one after the other in one worker, but up to
    MANY_MAX_RUNS of them share one round trip to it, whichever job (function) they belong to:
    a drain over many functions with an event or two each pays a round trip per batch, not per
    function. All the jobs must be one workspace's (its worker serves no one else). When a worker
    has to be stopped (a run missed its hard deadline, or the process died), the payloads of that
    round trip without a result run again one by one, so each gets an outcome of its own.
    `between` is called after every round trip (a caller renews its claims there: a round trip
    takes at most twice a run's time limit, however many runs it carries).
    """
    calls = [_Call(job.code, job.function_type, job.settings, job.options) for job in jobs]
    if len({(call.tenant, id(call.pool)) for call in calls}) > 1:
        raise ValueError("the jobs of one batch must be one workspace's, with one memory limit")
    results: list[list[RunResult | None]] = [[None] * len(job.payloads) for job in jobs]
    # (job, payload, the run's data) of every payload still to run
    waiting: list[tuple[int, int, str]] = []
    for j, (job, call) in enumerate(zip(jobs, calls, strict=True)):
        for index, payload in enumerate(job.payloads):
            refused = call.refused(payload)
            if refused is not None:
                results[j][index] = refused
            else:
                waiting.append((j, index, call.data(payload)))
    while waiting:
        chunk: list[tuple[int, int, str]] = []
        size = 0
        for item in waiting:
            if chunk and (len(chunk) >= MANY_MAX_RUNS or size + len(item[2]) > MANY_MAX_BYTES):
                break
            chunk.append(item)
            size += len(item[2])
        waiting = waiting[len(chunk) :]
        used = sorted({j for j, _, _ in chunk})
        position = {j: k for k, j in enumerate(used)}
        budget_ms = max(calls[j].timeout_ms for j in used)
        started = time.perf_counter()
        msg = {
            "op": "runMany",
            "id": next_request_id(),
            # What each function's runs share (its code, limits, fetch policy), once per batch.
            "calls": [calls[j].msg for j in used],
            "callOf": [position[j] for j, _, _ in chunk],
            "data": [data for _, _, data in chunk],
            # A batch starts no run after this long, so a round trip ends within twice a run's
            # time limit (plus the margin) however many runs it carries.
            "budgetMs": budget_ms,
        }
        first = calls[used[0]]
        try:
            reply = first.pool.request(
                msg, 2 * budget_ms / 1000 + HARD_TIMEOUT_MARGIN_S, first.tenant
            )
            answers = reply.get("results")
        except (WorkerTimeout, WorkerCrashed):
            answers = None
        if not isinstance(answers, list) or not answers:
            # The worker was stopped, or its answer could not be read as a whole (an output
            # nested too deeply): each payload runs alone and gets its own outcome.
            for j, index, _ in chunk:
                results[j][index] = calls[j].run_alone(jobs[j].payloads[index])
                if between is not None:
                    between()
        else:
            for (j, index, _), answer in zip(chunk, answers, strict=False):
                results[j][index] = calls[j].result(answer, started)
            # Runs the worker did not start (its budget ran out) go in the next round trip.
            waiting = chunk[len(answers) :] + waiting
        if between is not None:
            between()
    return [[result for result in job if result is not None] for job in results]


class _Call:
    """What every run of one code with one settings shares: the message, the pool, the masks."""

    @sensitive_variables("settings", "options")
    def __init__(
        self, code: str, function_type: str, settings: dict[str, Any] | None, options: RunOptions
    ) -> None:
        if function_type not in FUNCTION_TYPES:
            raise ValueError(f"function_type must be one of {', '.join(FUNCTION_TYPES)}")
        self.function_type = function_type
        self.settings = settings or {}
        self.options = options
        self.timeout_ms = int(options.timeout_ms or runtime_setting("RUNTIME_TIMEOUT_MS"))
        self.tenant = options.workspace or DEFAULT_TENANT
        self.pool = get_pool(options.memory_mb)
        allowed = [*runtime_setting("RUNTIME_FETCH_ALLOWED_HOSTS"), *options.allowed_hosts]
        mock = None
        if options.mock_fetch:
            m = options.mock_response
            mock = {"status": m.status, "headers": dict(m.headers), "body": m.body}
        self.msg = {
            "code": code,
            "timeoutMs": self.timeout_ms,
            "mock": mock,
            "allowedHosts": [h.strip("[]").lower() for h in allowed],
            "cacheNamespace": options.cache_namespace,
            "fnKey": options.function_key or "",
        }
        self.mask = secret_masker(options.secret_values)

    @sensitive_variables("msg", "reply")
    def run_alone(self, payload: Any) -> RunResult:
        """One run in a round trip of its own."""
        started = time.perf_counter()
        refused = self.refused(payload)
        if refused is not None:
            return refused
        msg = {**self.msg, "op": "run", "id": next_request_id(), "data": self.data(payload)}
        try:
            reply = self.pool.request(
                msg, self.timeout_ms / 1000 + HARD_TIMEOUT_MARGIN_S, self.tenant
            )
        except (WorkerTimeout, WorkerCrashed) as failure:
            return self.result(self.failed(failure), started)
        return self.result(reply, started)

    def refused(self, payload: Any) -> RunResult | None:
        """The result of a payload refused before it runs (a source body over the limit)."""
        if self.function_type != "source":
            return None
        body = payload.get("body") if isinstance(payload, dict) else payload
        if _body_size(body) > SOURCE_BODY_LIMIT:
            return error_result(
                "bad_request",
                "PayloadTooLarge",
                f"the request body is larger than the {SOURCE_BODY_LIMIT // 1024} KiB limit",
            )
        return None

    def data(self, payload: Any) -> str:
        if self.function_type == "source" and not isinstance(payload, dict):
            payload = {"body": payload}
        return json.dumps(
            {"kind": self.function_type, "payload": payload, "settings": self.settings},
            ensure_ascii=False,
            default=str,
        )

    def failed(self, failure: Exception) -> RunResult:
        if isinstance(failure, WorkerTimeout):
            return error_result(
                "timeout",
                "TimeoutError",
                f"Function timed out after {self.timeout_ms} ms "
                "(the worker was stopped and restarted)",
            )
        if isinstance(failure, WorkerCrashed) and failure.oom:
            return error_result(
                "bad_request",
                "MemoryLimitExceeded",
                f"The function ran out of memory (limit {self.pool.memory_mb} MB); "
                "the worker was restarted",
            )
        return error_result(
            "bad_request", "WorkerCrashed", "The function's worker process exited unexpectedly"
        )

    def result(self, reply: dict[str, Any] | RunResult, started: float) -> RunResult:
        """A reply (or a failure's result) as a RunResult, its secrets masked."""
        if isinstance(reply, RunResult):
            result = reply
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
        mask = self.mask
        if mask is not None:
            result.logs = mask(result.logs)
            result.error = mask(result.error)
            result.fetches = mask(result.fetches)
            result.events = mask(result.events)
            result.objects = mask(result.objects)
            if self.options.mask_result:
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
