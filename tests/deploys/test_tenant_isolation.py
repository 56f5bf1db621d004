"""Cross-tenant attacks through the deployed pipeline (issue 10): globex deploys sources that scan
memory and leave sabotage behind; acme's destination holds a sensitive instance setting."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from catalog.models import ResourceType
from functions_ui.deploys import instances
from functions_ui.deploys.models import (
    FINAL_RUN_STATUSES,
    Delivery,
    InstanceError,
    RunStatus,
    SourceEvent,
    SourceRun,
)
from tests.deploys.helpers import drain_deliveries, make_source, run_source
from tests.factories import make_function, make_setting, make_workspace
from tests.runtime.attacks import (
    LEFTOVERS,
    SCAN_JS,
    USE_SECRET_JS,
    new_secret,
    scan_needles,
    secret_forms,
)

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
JSON = {"Content-Type": "application/json"}
ROUNDS = 4

ACME_DESTINATION = (
    USE_SECRET_JS
    + """
async function onTrack(event, settings) {
  await useSecret(settings.apiKey, false);
  console.log('delivered', event.event);
}
"""
)
SABOTAGE = "\n".join(
    "{" + LEFTOVERS[name] + "}"
    for name in (
        "request_signal_timeout",
        "abort_signal_timeout",
        "timeouts_that_throw",
        "interval_that_throws",
        "crypto_subtle_chain",
        "background_async_loop",
        "queue_microtask_chain",
    )
)
GLOBEX_SABOTEUR = f"async function onRequest(request, settings) {{\n{SABOTAGE}\n}}\n"


def globex_spy(secret: str) -> str:
    return (
        SCAN_JS
        + f"""
async function onRequest(request, settings) {{
  const report = scanMemory({json.dumps(scan_needles(secret))});
  Segment.track({{ event: 'Memory scan', userId: 'spy', properties: report }});
}}
"""
    )


def post(instance, body, request_id):
    return run_source(instance, body, request_id=request_id)


def deliver_queued(destination) -> list[Delivery]:
    """The destination's deliveries, once any still waiting have been drained."""
    drain_deliveries(destination.function.workspace_id)
    return list(
        Delivery.objects.filter(destination=destination, status__in=FINAL_RUN_STATUSES).order_by(
            "id"
        )
    )


@pytest.fixture
def acme_secret() -> str:
    return new_secret()


@pytest.fixture
def acme(workspace, acme_secret):
    _, source = make_source(workspace=workspace, name="Acme webhooks")
    function = make_function(
        workspace=workspace, resource_type=ResourceType.DESTINATION, code=ACME_DESTINATION
    )
    make_setting(function=function, name="apiKey", sensitive=True, required=True)
    destination = instances.destination_instance_create(
        function=function,
        user=None,
        name="Acme CRM",
        raw_settings={"apiKey": acme_secret},
        source_ids=[source.public_id],
    )
    return source, destination


@pytest.fixture
def globex(acme_secret):
    workspace = make_workspace(slug="globex", name="Globex")
    _, spy = make_source(workspace=workspace, name="Spy", code=globex_spy(acme_secret))
    _, saboteur = make_source(workspace=workspace, name="Saboteur", code=GLOBEX_SABOTEUR)
    return spy, saboteur


def globex_records(spy, saboteur) -> str:
    instances = [spy, saboteur]
    rows = [
        list(SourceRun.objects.filter(instance__in=instances).values("logs", "error")),
        list(SourceEvent.objects.filter(instance__in=instances).values_list("payload", flat=True)),
        list(InstanceError.objects.filter(source__in=instances).values()),
    ]
    return json.dumps(rows, default=str, ensure_ascii=False)


def test_globex_sources_never_see_acmes_instance_secret_and_never_disturb_acme(
    acme, globex, acme_secret
):
    source, destination = acme
    spy, saboteur = globex
    for n in range(ROUNDS):
        assert post(source, {"event": f"Order {n}"}, f"acme-{n}").status == RunStatus.DELIVERED
        assert post(saboteur, {}, f"sabotage-{n}").status == RunStatus.DELIVERED
        delivered = deliver_queued(destination)
        assert [d.status for d in delivered] == [RunStatus.DELIVERED] * (n + 1), [
            d.error for d in delivered
        ]
        assert post(spy, {}, f"spy-{n}").status == RunStatus.DELIVERED

    # acme: every delivery went through, with its own logs only.
    deliveries = Delivery.objects.filter(destination=destination)
    assert deliveries.count() == ROUNDS
    assert set(deliveries.values_list("status", flat=True)) == {RunStatus.DELIVERED}
    assert InstanceError.objects.filter(destination=destination).count() == 0

    # globex: the scans ran in full and found fresh memory empty, and nothing globex can read
    # holds acme's secret in any form.
    scans = [e.payload["properties"] for e in SourceEvent.objects.filter(instance=spy)]
    assert len(scans) == ROUNDS
    for scan in scans:
        assert (scan["checked"], scan["nonzero"], scan["hits"]) == (288, [], [])
    stored = globex_records(spy, saboteur)
    for form in secret_forms(acme_secret):
        assert form not in stored


def test_sabotage_in_globex_never_fails_acmes_deliveries(acme, globex):
    source, destination = acme
    _, saboteur = globex
    for n in range(ROUNDS):
        post(saboteur, {}, f"sabotage-a-{n}")
        post(source, {"event": f"Order {n}"}, f"acme-{n}")
        post(saboteur, {}, f"sabotage-b-{n}")
    delivered = deliver_queued(destination)
    assert len(delivered) == ROUNDS
    assert {d.status for d in delivered} == {RunStatus.DELIVERED}, [d.error for d in delivered]
    acme_runs = SourceRun.objects.filter(instance=source)
    assert set(acme_runs.values_list("status", flat=True)) == {RunStatus.DELIVERED}
    assert "sabot" not in json.dumps(list(acme_runs.values("logs", "error")), default=str)
