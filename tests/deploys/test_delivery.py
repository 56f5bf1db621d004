import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from functions_ui.deploys.delivery import (
    delivery_batch_process,
    delivery_process,
    source_request_process,
)
from functions_ui.deploys.models import Delivery, InstanceError, RunStatus, SourceEvent, SourceRun
from tests.deploys.helpers import make_destination, make_insert, make_source, save_code

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
JSON = {"Content-Type": "application/json"}


def post(instance, body, request_id="r1", attempt=1, now=T0, headers=JSON, query=""):
    return source_request_process(
        instance_id=instance.pk,
        request_id=request_id,
        body=json.dumps(body) if not isinstance(body, str) else body,
        headers=headers,
        query=query,
        attempt=attempt,
        now=now,
        rng=random.Random(0),
    )


@pytest.fixture
def pipeline(workspace):
    _, source = make_source(workspace=workspace)
    _, destination = make_destination(workspace=workspace, sources=[source])
    return source, destination


def test_webhook_run_stores_events_and_queues_a_delivery(
    pipeline, django_capture_on_commit_callbacks
):
    source, destination = pipeline
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = post(source, {"zeta": 1, "alpha": 2, "event": "Order Placed"})
    assert run.status == RunStatus.DELIVERED
    event = SourceEvent.objects.get()
    assert event.payload["event"] == "Order Placed"
    # Deployed sources see the body's fields in alphabetical order.
    assert event.payload["properties"]["keys"] == "alpha,event,zeta"
    delivery = Delivery.objects.get()
    assert (delivery.destination, delivery.event, delivery.status) == (
        destination,
        event,
        RunStatus.QUEUED,
    )
    assert len(callbacks) == 1


def test_form_encoded_bodies_reach_on_request(pipeline):
    source, _ = pipeline
    post(
        source,
        "event=Signed+Up&userId=u9",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert SourceEvent.objects.get().payload["event"] == "Signed Up"


def test_a_redelivered_request_does_not_run_twice(pipeline):
    source, _ = pipeline
    assert post(source, {"event": "A"}) is not None
    assert post(source, {"event": "A"}) is None
    assert SourceEvent.objects.count() == 1


def test_secrets_never_reach_logs_or_errors(workspace):
    code = """async function onRequest(request, settings) {
      console.log(settings.apiKey);
      throw new Error('bad ' + settings.apiKey);
    }"""
    _, source = make_source(workspace=workspace, code=code)
    run = post(source, {})
    assert run.status == RunStatus.FAILED
    stored = json.dumps(
        [run.logs, run.error, list(InstanceError.objects.values())], default=str, ensure_ascii=False
    )
    assert "sk_live_secret123" not in stored
    assert "••••" in stored


def test_source_retry_error_is_retried_six_times_then_recorded(
    workspace, django_capture_on_commit_callbacks
):
    code = "async function onRequest() { throw new RetryError('upstream busy') }"
    _, source = make_source(workspace=workspace, code=code)
    now = T0
    for attempt in range(1, 6):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            run = post(source, {}, attempt=attempt, now=now)
        assert run.status == RunStatus.RETRYING
        assert len(callbacks) == 1
        assert InstanceError.objects.count() == 0  # only after the last attempt
        assert run.next_attempt_at > now
        now = run.next_attempt_at
    run = post(source, {}, attempt=6, now=now)
    assert (run.status, run.attempts, run.category) == (RunStatus.FAILED, 6, "Retry")
    assert InstanceError.objects.get().category == "Retry"


def test_events_larger_than_32_kb_are_a_final_error(workspace):
    code = """async function onRequest() {
      Segment.track({event: 'Big', userId: 'u', properties: {x: 'y'.repeat(40000)}});
    }"""
    _, source = make_source(workspace=workspace, code=code)
    run = post(source, {})
    assert (run.status, run.category) == (RunStatus.REJECTED, "Message Rejected")
    assert "32KB" in run.error["message"]
    assert InstanceError.objects.get().category == "Message Rejected"
    assert SourceEvent.objects.count() == 0


def deliver(delivery, attempt=1, now=T0):
    return delivery_process(delivery_id=delivery.pk, attempt=attempt, now=now, rng=random.Random(1))


def test_delivery_runs_the_destination_with_its_deployed_version(pipeline):
    source, destination = pipeline
    post(source, {"event": "A"})
    delivery = deliver(Delivery.objects.get())
    assert delivery.status == RunStatus.DELIVERED
    assert delivery.version_id == destination.version_id
    assert delivery.logs == []  # logs are kept for failed runs only
    assert deliver(delivery) is None  # a redelivered task does nothing


def test_insert_function_changes_the_event_before_the_destination(workspace, pipeline):
    source, destination = pipeline
    code = """async function onTrack(event, settings) {
      if (!event.properties.enriched) throw new ValidationError('not enriched');
    }"""
    save_code(destination, code)
    make_insert(workspace=workspace, destination=destination)
    post(source, {"event": "A"})
    assert deliver(Delivery.objects.get()).status == RunStatus.DELIVERED


def test_drop_event_filters_at_the_insert_function(workspace, pipeline):
    source, destination = pipeline
    make_insert(workspace=workspace, destination=destination)
    post(source, {"event": "Drop me"})
    delivery = deliver(Delivery.objects.get())
    assert (delivery.status, delivery.category) == (
        RunStatus.FILTERED,
        "Filtered at insert function",
    )
    assert InstanceError.objects.count() == 0


def test_a_missing_insert_handler_is_an_unsupported_event_type(workspace, pipeline):
    source, destination = pipeline
    make_insert(
        workspace=workspace,
        destination=destination,
        code="async function onIdentify(e) { return e }",
    )
    post(source, {"event": "A"})
    delivery = deliver(Delivery.objects.get())
    assert (delivery.status, delivery.stage) == (RunStatus.UNSUPPORTED, "insert")
    assert InstanceError.objects.get().category == "Unsupported Event Type"


def test_a_disabled_insert_function_is_skipped(workspace, pipeline):
    source, destination = pipeline
    make_insert(workspace=workspace, destination=destination, enabled=False)
    post(source, {"event": "Drop me"})
    assert deliver(Delivery.objects.get()).status == RunStatus.DELIVERED


def test_a_hanging_destination_times_out_then_follows_the_retry_policy(
    workspace, settings, django_capture_on_commit_callbacks
):
    settings.RUNTIME_TIMEOUT_MS = 300
    settings.DELIVERY_RETRY_WINDOW_SECONDS = 4 * 3600
    _, source = make_source(workspace=workspace)
    hanging = "async function onTrack() { await new Promise(() => {}) }"
    _, destination = make_destination(workspace=workspace, sources=[source], code=hanging)
    post(source, {"event": "A"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delivery = deliver(Delivery.objects.get())
    assert (delivery.status, delivery.category) == (RunStatus.RETRYING, "Timeout")
    assert T0 + timedelta(minutes=1) <= delivery.next_attempt_at <= T0 + timedelta(minutes=3)
    assert len(callbacks) == 1
    # Past the four-hour window the next timeout is final.
    late = T0 + timedelta(hours=4)
    delivery = deliver(delivery, attempt=2, now=late)
    assert (delivery.status, delivery.attempts) == (RunStatus.FAILED, 2)
    assert InstanceError.objects.get().category == "Timeout"


def test_final_errors_are_recorded_with_their_category_and_logs(workspace):
    _, source = make_source(workspace=workspace)
    code = """async function onTrack(e, s) {
      console.log('key', s.apiKey);
      throw new InvalidEventPayload('no email');
    }"""
    _, destination = make_destination(workspace=workspace, sources=[source], code=code)
    post(source, {"event": "A"})
    delivery = deliver(Delivery.objects.get())
    assert (delivery.status, delivery.category) == (RunStatus.REJECTED, "Message Rejected")
    error = InstanceError.objects.get()
    assert error.destination == destination
    assert error.logs[0]["message"] == "key ••••"


def test_the_errors_view_keeps_the_newest_hundred(workspace, settings):
    settings.DELIVERY_ERRORS_KEPT = 5
    code = "async function onRequest() { throw new Error('nope') }"
    _, source = make_source(workspace=workspace, code=code)
    for n in range(8):
        post(source, {}, request_id=f"r{n}")
    assert InstanceError.objects.count() == 5


def test_on_batch_receives_waiting_events_together(workspace, settings):
    settings.DELIVERY_BATCH_SIZE = 3
    _, source = make_source(workspace=workspace)
    code = """async function onBatch(events, settings) {
      return events.map((e) =>
        e.properties.n === 2 ? {status: 400, errormessage: 'bad'} : {status: 200});
    }"""
    _, destination = make_destination(workspace=workspace, sources=[source], code=code)
    for n in range(4):
        post(source, {"n": n}, request_id=f"r{n}")
    assert delivery_batch_process(destination_id=destination.pk, now=T0) == 3
    statuses = list(Delivery.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [
        RunStatus.DELIVERED,
        RunStatus.DELIVERED,
        RunStatus.REJECTED,
        RunStatus.QUEUED,
    ]


def test_source_run_records_nothing_for_a_deleted_instance(pipeline):
    source, _ = pipeline
    source_id = source.pk
    source.delete()
    assert (
        source_request_process(
            instance_id=source_id, request_id="x", body="{}", headers=JSON, query=""
        )
        is None
    )
    assert SourceRun.objects.count() == 0


def test_a_batch_abandoned_by_a_dead_worker_is_sent_again(workspace, settings):
    settings.DELIVERY_BATCH_SIZE = 5
    settings.DELIVERY_BATCH_STALE_SECONDS = 120
    _, source = make_source(workspace=workspace)
    code = "async function onBatch(events) { return events.map(() => ({status: 200})); }"
    _, destination = make_destination(workspace=workspace, sources=[source], code=code)
    for n in range(2):
        post(source, {"n": n}, request_id=f"r{n}")
    # A worker claimed the batch and died before finishing it.
    Delivery.objects.update(
        status=RunStatus.RUNNING, attempts=1, batch_key="dead-worker", last_attempt_at=T0
    )
    assert delivery_batch_process(destination_id=destination.pk, now=T0) == 0
    later = T0 + timedelta(seconds=121)
    assert delivery_batch_process(destination_id=destination.pk, now=later) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {RunStatus.DELIVERED}


def test_old_runs_are_trimmed_but_pending_deliveries_are_kept(pipeline, settings):
    from functions_ui.deploys.delivery import delivery_records_trim

    settings.DELIVERY_RETENTION_DAYS = 30
    source, destination = pipeline
    post(source, {"n": 1}, request_id="old-done", now=T0)
    post(source, {"n": 2}, request_id="old-pending", now=T0)
    post(source, {"n": 3}, request_id="recent", now=T0 + timedelta(days=29))
    done = Delivery.objects.get(event__run__request_id="old-done")
    Delivery.objects.filter(pk=done.pk).update(status=RunStatus.DELIVERED)
    Delivery.objects.filter(event__run__request_id="recent").update(status=RunStatus.DELIVERED)
    # old-pending's delivery is still queued: it may yet happen, so its run stays.

    assert delivery_records_trim(now=T0 + timedelta(days=31)) == 1
    kept = set(SourceRun.objects.values_list("request_id", flat=True))
    assert kept == {"old-pending", "recent"}
    assert not Delivery.objects.filter(pk=done.pk).exists()
    assert delivery_records_trim(now=T0 + timedelta(days=31)) == 0
