"""Canary deploys: a share of an instance's events on another version, then promoted or rolled
back by the sweep (with a fake clock)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from functions_ui.audit.models import AuditEvent
from functions_ui.deploys import canaries, runs, services
from functions_ui.deploys.models import (
    Canary,
    CanaryStatus,
    Delivery,
    Deploy,
    DestinationInstance,
    SourceRun,
)
from functions_ui.deploys.sweep import pipeline_sweep
from tests.deploys.helpers import (
    T0,
    drain_deliveries,
    drain_sources,
    make_destination,
    make_insert,
    make_source,
    post,
    run_source,
)
from versioning.services import version_save

pytestmark = pytest.mark.django_db

REJECTING = """async function onTrack(event) { throw new ValidationError('canary refuses'); }"""
FINE = """async function onTrack(event) { console.log('v2 delivers', event.event); }"""


@pytest.fixture
def pipeline(workspace):
    _, source = make_source(workspace=workspace)
    function, destination = make_destination(workspace=workspace, sources=[source])
    return source, function, destination


def start(destination, code, *, percent=50, minutes=30, min_runs=5, margin=5):
    version = version_save(
        function=destination.function, user=None, code=code, base_version_id=None
    )
    return canaries.canary_start(
        instance=destination,
        version=version,
        percent=percent,
        minutes=minutes,
        min_runs=min_runs,
        margin_percent=margin,
        user=None,
        now=T0,
    )


def test_a_share_of_events_runs_the_canary_and_both_sides_are_counted(pipeline):
    source, _, destination = pipeline
    canary = start(destination, FINE, percent=30)
    for n in range(60):
        run_source(source, {"event": "Order", "n": n})
    drain_deliveries(source.function.workspace_id)
    by_version = Counter(Delivery.objects.values_list("version_id", flat=True))
    assert set(by_version) == {canary.stable_version_id, canary.canary_version_id}
    canary.refresh_from_db()
    assert canary.canary_runs == by_version[canary.canary_version_id]
    assert canary.stable_runs == by_version[canary.stable_version_id]
    assert 5 <= canary.canary_runs <= 35  # about 30 % of 60
    # The side follows the event's messageId, so a retry runs the same version.
    for delivery in Delivery.objects.select_related("event"):
        key = delivery.event.payload["messageId"]
        expected = canary.canary_version_id if canaries.on_canary(canary, key) else None
        assert (delivery.version_id == canary.canary_version_id) == (expected is not None)


def test_a_failing_canary_is_rolled_back_at_once_and_audited(pipeline):
    source, _, destination = pipeline
    canary = start(destination, REJECTING, percent=50, min_runs=5)
    for n in range(30):
        run_source(source, {"event": "Order", "n": n})
    counts = pipeline_sweep(now=T0 + timedelta(minutes=1))
    assert counts["rolled_back"] == 1
    canary.refresh_from_db()
    assert canary.status == CanaryStatus.ROLLED_BACK
    assert "passed the stable version's 0.0% by more than 5 points" in canary.reason
    assert DestinationInstance.objects.get(pk=destination.pk).version_id == canary.stable_version_id
    assert not Deploy.objects.exists()
    event = AuditEvent.objects.get(action="canary.rollback")
    assert event.details["canary_errors"] == canary.canary_errors > 0
    # Rolled back, it takes no more events.
    run_source(source, {"event": "Later"})
    assert Delivery.objects.order_by("-id").first().version_id == canary.stable_version_id


def test_a_healthy_canary_is_promoted_when_its_time_is_up(pipeline):
    source, _, destination = pipeline
    canary = start(destination, FINE, percent=50, minutes=30)
    for n in range(10):
        run_source(source, {"event": "Order", "n": n})
    assert pipeline_sweep(now=T0 + timedelta(minutes=29))["promoted"] == 0
    assert pipeline_sweep(now=T0 + timedelta(minutes=30))["promoted"] == 1
    canary.refresh_from_db()
    assert canary.status == CanaryStatus.PROMOTED
    deploy = Deploy.objects.get()
    assert deploy.version_id == canary.canary_version_id
    assert deploy.message.startswith("Canary promoted: its time was up")
    services.deploy_execute(deploy_id=deploy.pk)
    assert DestinationInstance.objects.get(pk=destination.pk).version_id == deploy.version_id
    assert AuditEvent.objects.filter(action="canary.promote").count() == 1


def test_a_canary_needs_a_share_a_length_and_no_other_canary(pipeline):
    _, function, destination = pipeline
    version = version_save(function=function, user=None, code=FINE, base_version_id=None)

    def begin(**options):
        values = {"percent": 10, "minutes": 30, **options}
        return canaries.canary_start(instance=destination, version=version, user=None, **values)

    with pytest.raises(ValidationError, match="from 1 to 99"):
        begin(percent=100)
    with pytest.raises(ValidationError, match="from 1 to 1440 minutes"):
        begin(minutes=0)
    begin()
    with pytest.raises(ValidationError, match="A canary runs on this instance already"):
        begin()
    assert Canary.objects.count() == 1


def test_a_source_canary_splits_webhook_requests(workspace):
    _, source = make_source(workspace=workspace)
    version = version_save(
        function=source.function,
        user=None,
        code=source.version.code + "\n// v2",
        base_version_id=None,
    )
    canary = canaries.canary_start(
        instance=source, version=version, percent=50, minutes=10, user=None, now=T0
    )
    for n in range(20):
        run_source(source, {"event": "Hook", "n": n})
    versions = Counter(SourceRun.objects.values_list("version_id", flat=True))
    assert set(versions) == {canary.stable_version_id, version.pk}
    canary.refresh_from_db()
    assert canary.canary_runs == versions[version.pk]


def test_an_insert_canary_changes_a_share_of_events_before_the_destination(pipeline):
    source, _, destination = pipeline
    _, insert = make_insert(
        workspace=source.function.workspace,
        destination=destination,
        code="async function onTrack(event) { event.properties.side = 'stable'; return event; }",
    )
    canary = start(
        insert,
        "async function onTrack(event) { event.properties.side = 'canary'; return event; }",
        percent=50,
    )
    for n in range(30):
        run_source(source, {"event": "Order", "n": n})
    sides = Counter(d.insert_output["properties"]["side"] for d in Delivery.objects.all())
    canary.refresh_from_db()
    assert (canary.canary_runs, canary.stable_runs) == (sides["canary"], sides["stable"])
    assert sides["canary"] > 0 and sides["stable"] > 0


def test_a_source_batch_on_both_sides_decrypts_its_settings_once(workspace, monkeypatch):
    _, source = make_source(workspace=workspace)
    version = version_save(
        function=source.function,
        user=None,
        code=source.version.code + "\n// v2",
        base_version_id=None,
    )
    canaries.canary_start(
        instance=source, version=version, percent=50, minutes=10, user=None, now=T0
    )
    decrypted = []
    instance_settings = runs.instance_settings
    monkeypatch.setattr(
        runs, "instance_settings", lambda i: decrypted.append(i.pk) or instance_settings(i)
    )
    for n in range(20):
        post(source, {"event": "Hook", "n": n})
    assert drain_sources(workspace.pk) == 20
    assert len(set(SourceRun.objects.values_list("version_id", flat=True))) == 2
    assert decrypted.count(source.pk) == 1
