"""What a version does, not only what its code says: payloads run through two versions, side by
side, and what differs.

Each payload runs in the sandbox with the function's test settings and `fetch` mocked (nothing
leaves the machine, nothing is delivered). What is compared is what the code does that anyone
can observe: how the run ended (and its error), the events and objects a source emits, what an
insert or destination handler returns, its console, and its outbound requests (method, URL,
body). Fields that differ on every run by design (message ids, timestamps) are left out.
Secrets never appear: the test settings' secret values are masked in every output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from catalog.models import Function
from functions_ui.deploys.models import (
    Delivery,
    DestinationInstance,
    InsertInstance,
    InstanceBase,
    SourceInstance,
    SourceRun,
)
from functions_ui.deploys.runs import instance_settings
from functions_ui.editor.models import SavedPayload
from functions_ui.editor.services import test_settings
from functions_ui.runtime import MockResponse, RunOptions, RunResult, run_function
from functions_ui.runtime.requests import source_request

# Keys that name one run rather than what the code did; left out wherever they appear.
VOLATILE_KEYS = frozenset(
    {"messageId", "timestamp", "receivedAt", "sentAt", "originalTimestamp", "duration_ms"}
)
ASPECTS = ("outcome", "events", "objects", "returned", "console", "requests")


@dataclass(frozen=True)
class Payload:
    """One input to run: a saved payload's name and data, or a real event or request."""

    name: str
    data: Any


@dataclass(frozen=True)
class Comparison:
    """One payload through two versions: what each did, and which aspects differ."""

    payload: Payload
    left: dict[str, Any]
    right: dict[str, Any]
    differs: tuple[str, ...] = field(default_factory=tuple)

    @property
    def same(self) -> bool:
        return not self.differs

    @property
    def newly_failing(self) -> bool:
        return self.left["outcome"]["status"] == "success" != self.right["outcome"]["status"]

    @property
    def newly_passing(self) -> bool:
        return self.left["outcome"]["status"] != "success" == self.right["outcome"]["status"]


def saved_payloads(*, function: Function) -> list[Payload]:
    return [Payload(p.name, p.data) for p in SavedPayload.objects.filter(function=function)]


def runtime_payload(type_slug: str, data: Any) -> Any:
    """A saved payload as the runtime takes it (a source's is a request: body, headers, query)."""
    if type_slug != "source":
        return data
    data = data if isinstance(data, dict) else {"body": data}
    body = data.get("body", "")
    if not isinstance(body, str):
        body = json.dumps(body)
    return source_request(
        body=body, headers=dict(data.get("headers") or {}), query=str(data.get("query") or "")
    )


def _steady(value: Any) -> Any:
    """The value without the keys that differ on every run."""
    if isinstance(value, dict):
        return {k: _steady(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    return value


def observed(result: RunResult) -> dict[str, Any]:
    """What a run did, as the behaviour diff compares it (aspect by aspect)."""
    error = result.error or {}
    return {
        "outcome": {
            "status": result.status,
            **(
                {"error": f"{error.get('name', 'Error')}: {error.get('message', '')}"}
                if error
                else {}
            ),
        },
        "events": _steady(result.events),
        "objects": _steady(result.objects),
        "returned": _steady(result.result),
        "console": [
            f"{line.get('level', 'log')}: {line.get('message', '')}" for line in result.logs
        ],
        "requests": [
            {
                "method": f.get("method"),
                "url": f.get("url"),
                **({"body": f["request_body"]} if f.get("request_body") else {}),
            }
            for f in result.fetches
        ],
    }


def observe(
    *,
    code: str,
    type_slug: str,
    data: Any,
    settings: dict[str, Any],
    secrets: list[str],
    workspace: str | None,
    function_key: str,
) -> dict[str, Any]:
    """Run one input through code in the sandbox, `fetch` mocked (200, `{}`): what it did. The
    one way suites, behaviour diffs, replays and `functions test` run code."""
    result = run_function(
        code=code,
        function_type=type_slug,
        payload=runtime_payload(type_slug, data),
        settings=settings,
        options=RunOptions(
            mock_fetch=True,
            mock_response=MockResponse(status=200, body="{}"),
            secret_values=secrets,
            workspace=workspace,
            function_key=function_key,
        ),
    )
    return observed(result)


class Runner:
    """Runs payloads of one function: its settings (the test settings, unless an instance's are
    given) are read and decrypted once."""

    def __init__(
        self, function: Function, settings: tuple[dict[str, Any], list[str]] | None = None
    ) -> None:
        self.function = function
        self.values, self.secrets = settings or test_settings(function=function)

    def observe(self, code: str, payload: Payload) -> dict[str, Any]:
        """Run one payload through the code, `fetch` mocked: what it did."""
        return observe(
            code=code,
            type_slug=self.function.type_slug,
            data=payload.data,
            settings=self.values,
            secrets=self.secrets,
            workspace=str(self.function.workspace_id),
            function_key=self.function.public_id,
        )


def behaviour_compare(
    *,
    function: Function,
    left_code: str,
    right_code: str,
    payloads: Iterable[Payload],
    settings: tuple[dict[str, Any], list[str]] | None = None,
) -> list[Comparison]:
    """Each payload through the left code and the right code, and where they differ."""
    runner = Runner(function, settings)
    comparisons = []
    for payload in payloads:
        left = runner.observe(left_code, payload)
        right = left if right_code == left_code else runner.observe(right_code, payload)
        differs = tuple(aspect for aspect in ASPECTS if left[aspect] != right[aspect])
        comparisons.append(Comparison(payload, left, right, differs))
    return comparisons


# Replay of real events ----------------------------------------------------------------------

REPLAY_MAX = 1000


def replay_payloads(*, instance: InstanceBase, limit: int) -> list[Payload]:
    """The last `limit` real inputs of an instance, newest first: a destination's (or its insert
    function's) events, a source's webhook requests (credential headers stay masked)."""
    limit = max(1, min(limit, REPLAY_MAX))
    if isinstance(instance, SourceInstance):
        runs = SourceRun.objects.filter(instance=instance).order_by("-id")[:limit]
        return [
            Payload(
                f"request {run.request_id[:8]}",
                {"body": run.body, "headers": run.headers, "query": run.query},
            )
            for run in runs.only("request_id", "body", "headers", "query")
        ]
    destination_id = (
        instance.destination_id if isinstance(instance, InsertInstance) else instance.pk
    )
    deliveries = (
        Delivery.objects.filter(destination_id=destination_id)
        .select_related("event")
        .only("id", "insert_output", "event__payload", "event__type")
        .order_by("-id")[:limit]
    )
    # A destination behind an insert function got the event as the insert returned it.
    into_destination = isinstance(instance, DestinationInstance)
    return [
        Payload(
            str(d.event.payload.get("messageId") or f"event {d.event_id}"),
            d.insert_output
            if into_destination and d.insert_output is not None
            else d.event.payload,
        )
        for d in deliveries
    ]


@dataclass(frozen=True)
class Replay:
    """Real inputs through the version an instance runs (left) and a candidate (right)."""

    comparisons: list[Comparison]

    @property
    def same(self) -> int:
        return sum(1 for c in self.comparisons if c.same)

    @property
    def different(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.same]

    @property
    def newly_failing(self) -> int:
        return sum(1 for c in self.comparisons if c.newly_failing)

    @property
    def newly_passing(self) -> int:
        return sum(1 for c in self.comparisons if c.newly_passing)


def replay(*, instance: InstanceBase, candidate_code: str, limit: int) -> Replay:
    """Run an instance's last real inputs through its own version and a candidate's code, with
    its own settings (secrets masked) and `fetch` mocked: nothing is delivered."""
    running = instance.version
    assert running is not None  # an instance runs a version from its creation on
    return Replay(
        behaviour_compare(
            function=instance.function,
            left_code=running.code,
            right_code=candidate_code,
            payloads=replay_payloads(instance=instance, limit=limit),
            settings=instance_settings(instance),
        )
    )
