"""What a reviewer waits for: the behaviour diff of two versions over 50 saved payloads."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from catalog.models import Function, ResourceType
from catalog.services import function_create
from functions_ui.bench.rows import BenchRow
from functions_ui.deploys import instances
from functions_ui.deploys.models import Delivery, RunStatus, SourceEvent, SourceRun
from functions_ui.editor.models import SavedPayload
from functions_ui.suites import behaviour, folders
from functions_ui.workspaces.models import Workspace
from versioning.models import Version
from versioning.selectors import latest_version
from versioning.services import version_save

AREA = "behaviour"
PAYLOADS = 50
RUNS = 5
FOLDER_TESTS = 200
REPLAYED = 1000

V1 = """async function onTrack(event, settings) {
  await fetch('https://api.example.com/t', { method: 'POST',
    body: JSON.stringify({ name: event.event, plan: event.properties.plan }) });
}"""
V2 = """async function onTrack(event, settings) {
  if (event.properties.n % 5 === 0) throw new ValidationError('every fifth');
  await fetch('https://api.example.com/t', { method: 'POST',
    body: JSON.stringify({ name: event.event, tier: event.properties.plan }) });
}"""


def run() -> list[BenchRow]:
    workspace = Workspace.objects.create(slug="bench-behaviour", name="Bench behaviour")
    function = function_create(
        workspace=workspace,
        user=None,
        resource_type=ResourceType.DESTINATION,
        display_name="Compared destination",
        code=V1,
    )
    v1 = latest_version(function=function)
    v2 = version_save(function=function, user=None, code=V2, base_version_id=None)
    assert v1 is not None and v2 is not None
    SavedPayload.objects.bulk_create(
        SavedPayload(
            function=function,
            name=f"payload {n}",
            kind="event",
            data={"type": "track", "event": "Order", "properties": {"n": n, "plan": "pro"}},
        )
        for n in range(PAYLOADS)
    )
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        found = behaviour.behaviour_compare(
            function=function,
            left_code=v1.code,
            right_code=v2.code,
            payloads=behaviour.saved_payloads(function=function),
        )
        timings.append((time.perf_counter() - started) * 1000)
    assert sum(1 for c in found if not c.same) == PAYLOADS  # each request body changed
    took = statistics.median(timings)
    return [
        BenchRow(
            AREA,
            f"behaviour diff of {PAYLOADS} saved payloads between two versions, p50",
            took,
            "ms",
            "<= 500",
            took <= 500,
        ),
        _folder_tests(),
        _replay(workspace, function, running=v1, candidate=v2),
    ]


def _replay(
    workspace: Workspace, function: Function, *, running: Version, candidate: Version
) -> BenchRow:
    """Replay of an instance's last 1,000 real events through a candidate version."""
    source_function = function_create(
        workspace=workspace,
        user=None,
        resource_type=ResourceType.SOURCE,
        display_name="Replayed source",
        code="async function onRequest() {}",
    )
    source = instances.source_instance_create(
        function=source_function, user=None, name="Shop", raw_settings={}
    )
    destination = instances.destination_instance_create(
        function=function,
        user=None,
        name="Warehouse",
        raw_settings={},
        source_ids=[source.public_id],
    )
    destination.version = running
    destination.save(update_fields=["version"])
    run = SourceRun.objects.create(
        instance=source, request_id="bench-replay", status=RunStatus.DELIVERED
    )
    events = SourceEvent.objects.bulk_create(
        SourceEvent(
            instance=source,
            run=run,
            index=n,
            type="track",
            payload={"type": "track", "event": "Order", "properties": {"n": n, "plan": "pro"}},
        )
        for n in range(REPLAYED)
    )
    Delivery.objects.bulk_create(
        Delivery(
            destination=destination,
            event=event,
            workspace=workspace,
            status=RunStatus.DELIVERED,
        )
        for event in events
    )
    started = time.perf_counter()
    result = behaviour.replay(instance=destination, candidate_code=candidate.code, limit=REPLAYED)
    took = time.perf_counter() - started
    assert len(result.comparisons) == REPLAYED and result.newly_failing == REPLAYED // 5
    return BenchRow(
        AREA,
        f"replay of {REPLAYED:,} real events through a candidate version",
        took,
        "s",
        "<= 3",
        took <= 3,
    )


def _folder_tests() -> BenchRow:
    """`functions test DIR`: every test of every function in one process, as CI runs it."""
    with tempfile.TemporaryDirectory() as root:
        for slug, code in (("relay", V1), ("strict", V2)):
            folder = Path(root) / slug
            (folder / "tests").mkdir(parents=True)
            (folder / "handler.js").write_text(code)
            (folder / "function.json").write_text(json.dumps({"type": "destination"}))
            for n in range(FOLDER_TESTS // 2):
                event = {"type": "track", "event": "Order", "properties": {"n": n, "plan": "pro"}}
                test = {"event": event, "expect": {"status": "success"}}
                (folder / "tests" / f"t{n}.json").write_text(json.dumps(test))
        folders.run_tests(Path(root))  # warm: the runtime's workers and isolates
        started = time.perf_counter()
        outcomes = folders.run_tests(Path(root))
        rate = len(outcomes) / (time.perf_counter() - started)
    assert len(outcomes) == FOLDER_TESTS
    return BenchRow(
        AREA,
        f"functions test: {FOLDER_TESTS} tests in one process",
        rate,
        "tests/s",
        ">= 50",
        rate >= 50,
    )
