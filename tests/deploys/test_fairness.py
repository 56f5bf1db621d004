"""Fairness between workspaces in the event pipeline, with a real Redis and a real worker.

A flood of one workspace (globex) waits in the database as a backlog; a webhook of another
workspace (acme) arrives behind it. With one worker process, acme's event must be delivered
while globex's backlog is still being worked through: drains take turns per workspace, so
acme waits for one drain turn, not for the whole flood.
"""

from __future__ import annotations

import pytest

from functions_ui.deploys import doorbell
from functions_ui.deploys.intake import webhook_accept
from functions_ui.deploys.models import Delivery, RunStatus, SourceRun, WebhookRequest
from tests.deploys.helpers import JSON, make_destination, make_source, post
from tests.deploys.workers import eventually, wait_for_worker
from tests.factories import make_workspace

pytestmark = pytest.mark.django_db(transaction=True)

FLOOD = 3000
COUNTER = "async function onTrack(event) { return event.properties.n }"


def test_a_flood_of_one_workspace_does_not_hold_back_another(workspace, start_worker):
    globex = make_workspace(slug="globex", name="Globex")
    _, flood_source = make_source(workspace=globex)
    make_destination(workspace=globex, sources=[flood_source], code=COUNTER)
    _, acme_source = make_source(workspace=workspace)
    _, acme_destination = make_destination(workspace=workspace, sources=[acme_source], code=COUNTER)
    for n in range(FLOOD):
        post(flood_source, {"n": n, "event": "Flood"})

    start_worker(PIPELINE_SOURCE_BATCH="20")
    wait_for_worker()
    doorbell.ring("sources", globex.pk)

    def flood_started():
        """globex's drain is at work."""
        return SourceRun.objects.filter(instance=flood_source).exists()

    eventually(flood_started)
    webhook_accept(
        token=acme_source.webhook_token,
        body='{"event": "Order", "n": 1}',
        headers=JSON,
        query="",
    )

    def acme_delivered():
        """acme's one event reached its destination."""
        return Delivery.objects.filter(
            destination=acme_destination, status=RunStatus.DELIVERED
        ).exists()

    eventually(acme_delivered, timeout=60)
    still_waiting = WebhookRequest.objects.filter(instance=flood_source).count()
    assert still_waiting > 0, "acme was served only after globex's whole flood"
    # ...and the flood is not starved in turn: it finishes.
    eventually(
        lambda: not WebhookRequest.objects.filter(instance=flood_source).exists(), timeout=120
    )
