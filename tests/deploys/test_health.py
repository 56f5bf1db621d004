"""The health check: degraded, then paused, with a fake clock; held work replayed on resume."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from functions_ui.audit.models import AuditEvent
from functions_ui.deploys import health, metrics
from functions_ui.deploys.intake import HoldLimitReached, webhook_accept
from functions_ui.deploys.models import (
    HELD,
    Delivery,
    DestinationInstance,
    Health,
    InstanceError,
    RunStatus,
    SourceInstance,
    WebhookRequest,
)
from functions_ui.deploys.sweep import pipeline_sweep
from functions_ui.permissions.models import Role
from tests.deploys.helpers import (
    T0,
    drain_deliveries,
    drain_sources,
    make_destination,
    make_source,
    run_source,
)

pytestmark = pytest.mark.django_db

FAILING_DESTINATION = """
async function onTrack(event, settings) {
  if (event.properties.n < 0) throw new ValidationError('negative n');
}
"""


def outcomes(instance, *, delivered=0, failed=0, retrying=0, at=T0):
    """Write runs' outcomes to the rollups, as the pipeline does after a batch."""
    statuses = (
        [RunStatus.DELIVERED] * delivered
        + [RunStatus.FAILED] * failed
        + [RunStatus.RETRYING] * retrying
    )
    metrics.record(
        metrics.Outcome(
            function_id=instance.function_id,
            instance_id=instance.public_id,
            status=status,
            duration_ms=3.0,
            at=at,
        )
        for status in statuses
    )


def reload(instance):
    return type(instance).objects.get(pk=instance.pk)


def health_events(instance):
    return list(
        AuditEvent.objects.filter(action="instance.health", target_id=instance.public_id)
        .order_by("id")
        .values_list("details", flat=True)
    )


def test_an_instance_goes_degraded_then_healthy_then_paused_as_its_error_rate_moves(workspace):
    _, source = make_source(workspace=workspace)
    outcomes(source, delivered=30)
    health.health_evaluate(now=T0 + timedelta(seconds=30))
    assert reload(source).health == Health.HEALTHY
    assert health_events(source) == []

    outcomes(source, failed=15, at=T0 + timedelta(seconds=40))  # 15 of 45: 33 %
    health.health_evaluate(now=T0 + timedelta(seconds=50))
    source = reload(source)
    assert source.health == Health.DEGRADED
    assert source.health_reason.startswith("33% of 45 runs failed in the 5 minutes")
    [change] = health_events(source)
    assert (change["from"], change["to"], change["runs"]) == ("healthy", "degraded", 45)

    # The window moves past the failures: healthy again, without anyone doing anything.
    health.health_evaluate(now=T0 + timedelta(minutes=6))
    assert reload(source).health == Health.HEALTHY

    later = T0 + timedelta(minutes=10)
    outcomes(source, delivered=5, failed=10, retrying=10, at=later)  # 20 of 25: 80 %
    health.health_evaluate(now=later)
    source = reload(source)
    assert source.health == Health.PAUSED
    assert "80% of 25 runs" in source.health_reason
    assert "pauses at 75%" in source.health_reason
    # Paused stays paused however quiet it gets: only a person resumes.
    health.health_evaluate(now=later + timedelta(hours=2))
    assert reload(source).health == Health.PAUSED
    assert [(e["from"], e["to"]) for e in health_events(source)] == [
        ("healthy", "degraded"),
        ("degraded", "healthy"),
        ("healthy", "paused"),
    ]


def test_too_few_runs_prove_nothing_and_thresholds_are_the_workspaces(workspace):
    _, source = make_source(workspace=workspace)
    outcomes(source, failed=19)
    health.health_evaluate(now=T0)
    assert reload(source).health == Health.HEALTHY

    workspace.health_pause_percent = 0  # never pause
    workspace.health_min_runs = 5
    workspace.save()
    health.health_evaluate(now=T0)
    assert reload(source).health == Health.DEGRADED


def test_a_paused_destination_holds_events_and_resume_delivers_them(workspace, django_user_model):
    _, source = make_source(workspace=workspace)
    _, destination = make_destination(
        workspace=workspace, sources=[source], code=FAILING_DESTINATION
    )
    for n in range(25):
        run_source(source, {"n": -1 - n})
    assert Delivery.objects.filter(status=RunStatus.REJECTED).count() == 25
    counts = pipeline_sweep(now=T0 + timedelta(seconds=5))
    destination = reload(destination)
    assert destination.health == Health.PAUSED
    assert counts["paused"] == 1
    assert reload(source).health == Health.HEALTHY  # the source's own runs went fine

    for n in range(3):
        run_source(source, {"n": n}, now=T0 + timedelta(seconds=10))
    held = Delivery.objects.filter(destination=destination, claim=HELD)
    assert held.count() == 3
    assert set(held.values_list("status", flat=True)) == {RunStatus.QUEUED}
    assert drain_deliveries(workspace.pk, now=T0 + timedelta(seconds=20)) == 0
    assert health.held_count(instance=destination) == 3

    owner = django_user_model.objects.create_user("olga")
    assert health.instance_resume(instance=destination, user=owner) == 3
    assert drain_deliveries(workspace.pk, now=T0 + timedelta(seconds=30)) == 3
    assert Delivery.objects.filter(destination=destination, status=RunStatus.DELIVERED).count() == 3
    destination = reload(destination)
    assert destination.health == Health.HEALTHY
    # The failures that paused it no longer count: the next check leaves it running.
    health.health_evaluate(now=T0 + timedelta(seconds=40))
    assert reload(destination).health == Health.HEALTHY
    resumed = AuditEvent.objects.filter(action="instance.health").order_by("id").last()
    assert resumed.actor_name == "olga"
    assert (resumed.details["from"], resumed.details["to"]) == ("paused", "healthy")


def test_the_sweep_holds_a_retry_that_was_scheduled_before_the_pause(workspace):
    _, source = make_source(workspace=workspace)
    _, destination = make_destination(workspace=workspace, sources=[source])
    run_source(source, {"n": 1})
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=RunStatus.RETRYING, claim="", available_at=T0 + timedelta(minutes=2)
    )
    DestinationInstance.objects.filter(pk=destination.pk).update(health=Health.PAUSED)
    pipeline_sweep(now=T0 + timedelta(minutes=3))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claim) == (RunStatus.RETRYING, HELD)
    assert drain_deliveries(workspace.pk, now=T0 + timedelta(minutes=4)) == 0


def test_past_the_hold_limit_events_fail_saying_why(workspace, settings):
    settings.HEALTH_HOLD_LIMIT = 2
    _, source = make_source(workspace=workspace)
    _, destination = make_destination(workspace=workspace, sources=[source])
    DestinationInstance.objects.filter(pk=destination.pk).update(health=Health.PAUSED)
    for n in range(3):
        run_source(source, {"n": n})
    assert Delivery.objects.filter(claim=HELD).count() == 2
    refused = Delivery.objects.get(status=RunStatus.FAILED)
    assert refused.category == "Paused"
    assert "already held 2 events" in refused.error["message"]
    assert InstanceError.objects.get(destination=destination).name == "HoldLimitReached"


def test_a_paused_source_holds_webhooks_then_asks_senders_to_come_back(workspace, settings, client):
    settings.HEALTH_HOLD_LIMIT = 2
    _, source = make_source(workspace=workspace)
    SourceInstance.objects.filter(pk=source.pk).update(health=Health.PAUSED)
    for n in range(2):
        body = f'{{"n": {n}}}'
        assert webhook_accept(token=source.webhook_token, body=body, headers={}, query="")
    assert set(WebhookRequest.objects.values_list("claim", flat=True)) == {HELD}
    assert drain_sources(workspace.pk) == 0
    with pytest.raises(HoldLimitReached):
        webhook_accept(token=source.webhook_token, body="{}", headers={}, query="")
    response = client.post(
        f"/hooks/{source.webhook_token}", data={"n": 3}, content_type="application/json"
    )
    assert response.status_code == 503
    assert "paused" in response.json()["error"]
    assert response["Retry-After"]
    assert WebhookRequest.objects.count() == 2

    assert health.instance_resume(instance=reload(source), user=None) == 2
    assert drain_sources(workspace.pk, now=timezone.now()) == 2
    assert WebhookRequest.objects.count() == 0


def test_the_instance_page_says_why_and_resumes(workspace, login_as, client):
    _, source = make_source(workspace=workspace)
    outcomes(source, failed=30, at=T0)
    health.health_evaluate(now=T0)
    webhook_accept(token=source.webhook_token, body="{}", headers={}, query="")
    login_as(Role.SOURCE_ADMIN)
    url = f"/w/{workspace.slug}/instances/{source.public_id}/"
    page = client.get(url).content.decode()
    assert "Paused by the health check" in page
    assert "100% of 30 runs failed" in page
    assert "1 webhook request held" in page
    response = client.post(url + "resume/", follow=True)
    assert "Resumed: 1 held request run now." in response.content.decode()
    assert reload(source).health == Health.HEALTHY
    assert WebhookRequest.objects.get().claim == ""


def test_only_those_who_connect_instances_resume_them(workspace, login_as, client):
    _, source = make_source(workspace=workspace)
    SourceInstance.objects.filter(pk=source.pk).update(health=Health.PAUSED)
    login_as(Role.FUNCTIONS_READ_ONLY)
    url = f"/w/{workspace.slug}/instances/{source.public_id}/"
    assert "Resume and run held" not in client.get(url).content.decode()
    assert client.post(url + "resume/").status_code == 403
    assert reload(source).health == Health.PAUSED


def test_the_catalog_and_the_function_page_show_paused_instances(workspace, login_as, client):
    function, source = make_source(workspace=workspace)
    make_source(workspace=workspace, name="Quiet source")
    outcomes(source, failed=30, at=T0)
    health.health_evaluate(now=T0)
    login_as(Role.FUNCTIONS_READ_ONLY)
    catalog = client.get(f"/w/{workspace.slug}/functions/").content.decode()
    assert "‖ 1 paused" in catalog
    detail = client.get(function.get_absolute_url()).content.decode()
    assert "100% of 30 runs failed" in detail
