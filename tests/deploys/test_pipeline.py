"""The event pipeline's stages, driven directly: source drains, delivery drains, the sweep."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Function
from functions_ui.deploys import claims, deliveries, instances, sources
from functions_ui.deploys.intake import webhook_accept
from functions_ui.deploys.models import (
    Delivery,
    InstanceError,
    RunStatus,
    SourceEvent,
    SourceRun,
    WebhookRequest,
)
from functions_ui.deploys.retention import delivery_records_trim
from functions_ui.deploys.sweep import pipeline_sweep
from functions_ui.runtime.masking import MASK
from functions_ui.runtime.pool import WorkerPool
from tests.deploys.helpers import (
    JSON,
    T0,
    drain_deliveries,
    drain_sources,
    make_destination,
    make_insert,
    make_pipelines,
    make_source,
    post,
    run_source,
    save_code,
)
from tests.factories import make_setting

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(workspace):
    _, source = make_source(workspace=workspace)
    _, destination = make_destination(workspace=workspace, sources=[source])
    return source, destination


def deliver_all(workspace, now=T0) -> list[Delivery]:
    drain_deliveries(workspace.pk, now=now)
    return list(Delivery.objects.order_by("id"))


# Source stage -----------------------------------------------------------------------------------


def test_a_request_runs_stores_its_events_and_delivers_them_at_once(
    workspace, pipeline, django_capture_on_commit_callbacks
):
    source, destination = pipeline
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = run_source(source, {"zeta": 1, "alpha": 2, "event": "Order Placed"})
    assert run.status == RunStatus.DELIVERED
    event = SourceEvent.objects.get()
    assert event.payload["event"] == "Order Placed"
    # The body reaches onRequest exactly as it was sent (as in the editor's test runs).
    assert event.payload["properties"]["keys"] == "zeta,alpha,event"
    assert event.payload["messageId"] == f"fn-{run.request_id}-0"
    delivery = Delivery.objects.get()
    # The source stage hands fresh events straight to their destinations: no queue trip.
    assert (delivery.destination, delivery.event, delivery.status, delivery.workspace) == (
        destination,
        event,
        RunStatus.DELIVERED,
        workspace,
    )
    assert (delivery.attempts, delivery.claim, delivery.lease_until) == (1, "", None)
    assert not WebhookRequest.objects.exists()  # a final run leaves no queued request
    assert len(callbacks) == 0  # nothing waits, so no stage is rung


def test_form_encoded_bodies_reach_on_request(pipeline):
    source, _ = pipeline
    run_source(
        source,
        "event=Signed+Up&userId=u9",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert SourceEvent.objects.get().payload["event"] == "Signed Up"


def test_the_request_object_is_built_as_in_the_editor(workspace):
    code = """async function onRequest(request) {
      Segment.track({event: 'E', userId: 'u', properties: {
        url: request.url.toString(), tags: request.url.searchParams.getAll('tag'),
        auth: request.headers.get('authorization')}});
    }"""
    _, source = make_source(workspace=workspace, code=code)
    run_source(
        source,
        "{}",
        headers={**JSON, "Authorization": "Bearer tok_123"},
        query="tag=a&tag=b",
    )
    properties = SourceEvent.objects.get().payload["properties"]
    assert properties["url"] == "https://fn.segmentapis.com/?tag=a&tag=b"
    assert properties["tags"] == ["a", "b"]
    assert properties["auth"] == "Bearer tok_123"


def test_a_request_is_claimed_once_even_when_drained_twice(pipeline):
    source, _ = pipeline
    post(source, {"event": "A"})
    assert drain_sources(source.function.workspace_id) == 1
    assert drain_sources(source.function.workspace_id) == 0
    assert SourceEvent.objects.count() == 1


def test_one_drain_runs_a_batch_and_leaves_the_rest(pipeline, settings):
    settings.PIPELINE_SOURCE_BATCH = 3
    source, _ = pipeline
    for n in range(5):
        post(source, {"n": n}, request_id=f"r{n}")
    assert drain_sources(source.function.workspace_id) == 3
    assert WebhookRequest.objects.count() == 2
    assert drain_sources(source.function.workspace_id) == 2
    assert SourceRun.objects.count() == 5 and Delivery.objects.count() == 5


def test_secrets_never_reach_logs_or_errors(workspace):
    code = """async function onRequest(request, settings) {
      console.log(settings.apiKey);
      throw new Error('bad ' + settings.apiKey);
    }"""
    _, source = make_source(workspace=workspace, code=code)
    run = run_source(source, {})
    assert run.status == RunStatus.FAILED
    stored = json.dumps(
        [run.logs, run.error, list(InstanceError.objects.values())], default=str, ensure_ascii=False
    )
    assert "sk_live_secret123" not in stored
    assert "••••" in stored


def test_credential_headers_are_encrypted_while_queued(pipeline):
    source, _ = pipeline
    webhook_accept(
        token=source.webhook_token,
        body="{}",
        headers={**JSON, "Authorization": "Basic c2VjcmV0", "X-Plain": "1"},
        query="",
    )
    queued = WebhookRequest.objects.get()
    assert queued.headers == {**JSON, "X-Plain": "1"}
    assert "c2VjcmV0" not in json.dumps(queued.secret_headers)
    assert list(queued.secret_headers) == ["Authorization"]


def test_source_retry_error_is_retried_six_times_then_recorded(
    workspace, django_capture_on_commit_callbacks
):
    code = "async function onRequest() { throw new RetryError('upstream busy') }"
    _, source = make_source(workspace=workspace, code=code)
    request_id = post(source, {})
    now = T0
    for attempt in range(1, 6):
        drain_sources(workspace.pk, now=now)
        run = SourceRun.objects.get(request_id=request_id)
        assert (run.status, run.attempts) == (RunStatus.RETRYING, attempt)
        assert InstanceError.objects.count() == 0  # only after the last attempt
        assert run.next_attempt_at > now
        # Not due before its time.
        assert drain_sources(workspace.pk, now=run.next_attempt_at - timedelta(seconds=1)) == 0
        now = run.next_attempt_at
    drain_sources(workspace.pk, now=now)
    run = SourceRun.objects.get(request_id=request_id)
    assert (run.status, run.attempts, run.category) == (RunStatus.FAILED, 6, "Retry")
    assert InstanceError.objects.get().category == "Retry"
    assert not WebhookRequest.objects.exists()


def test_events_larger_than_32_kb_are_a_final_error(workspace):
    code = """async function onRequest() {
      Segment.track({event: 'Big', userId: 'u', properties: {x: 'y'.repeat(40000)}});
    }"""
    _, source = make_source(workspace=workspace, code=code)
    run = run_source(source, {})
    assert (run.status, run.category) == (RunStatus.REJECTED, "Message Rejected")
    assert "32KB" in run.error["message"]
    assert InstanceError.objects.get().category == "Message Rejected"
    assert SourceEvent.objects.count() == 0


def test_a_request_for_a_deleted_instance_goes_with_it(pipeline):
    source, _ = pipeline
    post(source, {})
    workspace_id = source.function.workspace_id
    source.delete()
    assert not WebhookRequest.objects.exists()
    assert drain_sources(workspace_id) == 0
    assert SourceRun.objects.count() == 0


def test_deeply_nested_bodies_and_outputs_end_in_a_recorded_outcome(workspace):
    """A body nested 2,000 deep runs; an event nested past what can be read is a final error."""
    deep_body = '{"a":' * 2000 + "1" + "}" * 2000
    code = """async function onRequest(request) {
      let depth = 0; let v = request.json(); while (v && v.a !== undefined) { v = v.a; depth++; }
      let deep = {}; let cur = deep; for (let i = 0; i < 3000; i++) { cur.a = {}; cur = cur.a; }
      if (depth === 2000) Segment.track({event: 'Deep', userId: 'u', properties: deep});
    }"""
    _, source = make_source(workspace=workspace, code=code)
    run = run_source(source, deep_body)
    assert run.status == RunStatus.FAILED
    assert "nested too deeply" in run.error["message"]
    assert InstanceError.objects.get().source == source


# Delivery stage --------------------------------------------------------------------------------


def test_delivery_runs_the_destination_with_its_deployed_version(workspace, pipeline):
    source, destination = pipeline
    run_source(source, {"event": "A"})
    [delivery] = deliver_all(workspace)
    assert delivery.status == RunStatus.DELIVERED
    assert (delivery.version_id, delivery.attempts) == (destination.version_id, 1)
    # The debugger keeps the handler's console, its secret masked, and the attempt's timing.
    [line] = delivery.logs
    assert line["message"].startswith("delivering A ")
    assert "dest_secret_456" not in line["message"]
    [attempt] = delivery.attempt_log
    assert attempt["status"] == "delivered"
    assert attempt["duration_ms"] == round(delivery.duration_ms, 3)
    assert delivery.insert_output is None  # no insert function
    assert drain_deliveries(workspace.pk) == 0  # nothing is delivered twice


def test_insert_function_changes_the_event_before_the_destination(workspace, pipeline):
    source, destination = pipeline
    code = """async function onTrack(event, settings) {
      if (!event.properties.enriched) throw new ValidationError('not enriched');
    }"""
    save_code(destination, code)
    make_insert(workspace=workspace, destination=destination)
    run_source(source, {"event": "A"})
    [delivery] = deliver_all(workspace)
    assert delivery.status == RunStatus.DELIVERED
    # The debugger shows the event in and the event out of the insert function.
    assert "enriched" not in delivery.event.payload["properties"]
    assert delivery.insert_output["properties"]["enriched"] is True


def test_the_insert_output_kept_for_the_debugger_masks_the_inserts_secrets(workspace, pipeline):
    source, destination = pipeline
    code = """async function onTrack(event, settings) {
      event.context = { auth: settings.token };
      return event;
    }"""
    function, insert = make_insert(workspace=workspace, destination=destination, code=code)
    make_setting(function=function, name="token", sensitive=True)
    instances.instance_settings_update(instance=insert, raw_settings={"token": "ins_secret_789"})
    run_source(source, {"event": "A"})
    [delivery] = deliver_all(workspace)
    assert delivery.status == RunStatus.DELIVERED
    assert delivery.insert_output["context"]["auth"] == MASK
    assert "ins_secret_789" not in json.dumps(delivery.insert_output)


def test_drop_event_filters_at_the_insert_function(workspace, pipeline):
    source, destination = pipeline
    make_insert(workspace=workspace, destination=destination)
    run_source(source, {"event": "Drop me"})
    [delivery] = deliver_all(workspace)
    assert (delivery.status, delivery.category) == (
        RunStatus.FILTERED,
        "Filtered at insert function",
    )
    assert InstanceError.objects.count() == 0


def test_an_insert_returning_nothing_filters_the_event(workspace, pipeline):
    source, destination = pipeline
    make_insert(workspace=workspace, destination=destination, code="function onTrack() {}")
    run_source(source, {"event": "A"})
    [delivery] = deliver_all(workspace)
    assert (delivery.status, delivery.category) == (
        RunStatus.FILTERED,
        "Filtered at insert function",
    )


def test_a_batch_shares_runtime_round_trips_and_keeps_each_events_outcome(
    workspace, pipeline, monkeypatch
):
    """Ten webhooks in one drain: each function runs over all of them in one round trip to
    the runtime, and every run, event and delivery still has its own outcome."""
    source, destination = pipeline
    save_code(
        destination,
        """async function onTrack(event) {
          if (event.properties.n === 3) throw new ValidationError('no threes');
          console.log('got', event.properties.n);
        }""",
    )
    make_insert(workspace=workspace, destination=destination)
    run_source(source, {"n": 100})  # warm: the functions are compiled, the destination timed
    Delivery.objects.all().delete()
    trips = []
    request = WorkerPool.request

    def counting(self, msg, timeout_s, tenant="_default"):
        trips.append(len(msg["data"]) if msg["op"] == "runMany" else 1)
        return request(self, msg, timeout_s, tenant)

    monkeypatch.setattr(WorkerPool, "request", counting)
    for n in range(10):
        post(source, {"event": "Drop me" if n == 5 else "A", "n": n})
    assert drain_sources(workspace.pk) == 10
    # The source's 10 runs in one round trip; the insert's 10 and the destination's 9 (the
    # insert dropped one) in a few.
    assert trips[0] == 10
    assert sum(trips) == 10 + 10 + 9
    assert len(trips) <= 5
    outcomes = {
        d.event.payload["properties"]["n"]: (d.status, d.stage)
        for d in Delivery.objects.select_related("event")
    }
    assert outcomes == {
        **dict.fromkeys(range(10), (RunStatus.DELIVERED, "")),
        3: (RunStatus.REJECTED, "destination"),
        5: (RunStatus.FILTERED, "insert"),
    }
    delivered = Delivery.objects.filter(status=RunStatus.DELIVERED).select_related("event")
    assert all(
        d.logs[0]["message"] == f"got {d.event.payload['properties']['n']}" for d in delivered
    )


def test_a_slow_destinations_outcomes_are_written_one_by_one(workspace, pipeline, monkeypatch):
    """Events share round trips only as many as run within COMMIT_INTERVAL_S: each outcome of
    a destination taking 300 ms shows as soon as it is known."""
    source, destination = pipeline
    save_code(
        destination,
        "async function onTrack() { await new Promise((r) => setTimeout(r, 300)); }",
    )
    written = []
    record = deliveries._record

    def spying(key, done, **kwargs):
        written.append(len(done))
        record(key, done, **kwargs)

    monkeypatch.setattr(deliveries, "_record", spying)
    monkeypatch.setattr(deliveries, "_seconds_per_event", {})  # a destination not seen before
    for n in range(3):
        post(source, {"n": n})
    drain_sources(workspace.pk)
    assert written == [1, 1, 1]
    assert set(Delivery.objects.values_list("status", flat=True)) == {RunStatus.DELIVERED}


def test_a_slow_batch_renews_its_claims_between_round_trips(
    workspace, pipeline, settings, monkeypatch
):
    """A round trip starts no run after a run's time limit, so a batch of slow runs takes many;
    between them, a batch that has used a third of its lease renews it."""
    settings.PIPELINE_LEASE_SECONDS = 0.3
    settings.RUNTIME_TIMEOUT_MS = 100
    source, destination = pipeline
    wait = "await new Promise((r) => setTimeout(r, 60));"
    save_code(
        source,
        f"async function onRequest() {{ {wait} Segment.track({{event: 'E', userId: 'u1'}}); }}",
    )
    save_code(destination, f"async function onTrack() {{ {wait} }}")
    renewed = []
    renew = claims.renew

    def spying(model, key, now):
        renewed.append((model, model.objects.filter(claim=key).count()))
        renew(model, key, now)

    monkeypatch.setattr(claims, "renew", spying)
    for n in range(6):
        post(source, {"n": n})
    drain_sources(workspace.pk)
    # Renewed while the six requests, then the six deliveries, were still claimed: before
    # the runs or the outcomes were recorded.
    assert (WebhookRequest, 6) in renewed
    assert (Delivery, 6) in renewed
    assert set(Delivery.objects.values_list("status", "claim")) == {(RunStatus.DELIVERED, "")}


def test_an_insert_returning_an_object_nested_too_deep_ends_failed(workspace, pipeline):
    source, destination = pipeline
    code = """async function onTrack(event) {
      let cur = event; for (let i = 0; i < 1500; i++) { cur.a = {}; cur = cur.a; }
      return event;
    }"""
    make_insert(workspace=workspace, destination=destination, code=code)
    run_source(source, {"event": "A"})
    [delivery] = deliver_all(workspace)
    assert (delivery.status, delivery.stage) == (RunStatus.FAILED, "insert")
    assert "nested too deeply" in delivery.error["message"]


def test_a_missing_insert_handler_is_an_unsupported_event_type(workspace, pipeline):
    source, destination = pipeline
    make_insert(
        workspace=workspace,
        destination=destination,
        code="async function onIdentify(e) { return e }",
    )
    run_source(source, {"event": "A"})
    [delivery] = deliver_all(workspace)
    assert (delivery.status, delivery.stage) == (RunStatus.UNSUPPORTED, "insert")
    assert InstanceError.objects.get().category == "Unsupported Event Type"


def test_a_disabled_insert_function_is_skipped(workspace, pipeline):
    source, destination = pipeline
    make_insert(workspace=workspace, destination=destination, enabled=False)
    run_source(source, {"event": "Drop me"})
    assert deliver_all(workspace)[0].status == RunStatus.DELIVERED


def test_a_hanging_destination_times_out_then_follows_the_retry_policy(workspace, settings):
    settings.RUNTIME_TIMEOUT_MS = 300
    settings.DELIVERY_RETRY_WINDOW_SECONDS = 4 * 3600
    _, source = make_source(workspace=workspace)
    hanging = "async function onTrack() { await new Promise(() => {}) }"
    make_destination(workspace=workspace, sources=[source], code=hanging)
    run_source(source, {"event": "A"})
    [delivery] = deliver_all(workspace)
    assert (delivery.status, delivery.category) == (RunStatus.RETRYING, "Timeout")
    assert T0 + timedelta(minutes=1) <= delivery.next_attempt_at <= T0 + timedelta(minutes=3)
    assert delivery.available_at == delivery.next_attempt_at
    # Past the four-hour window the next timeout is final.
    [delivery] = deliver_all(workspace, now=T0 + timedelta(hours=4))
    assert (delivery.status, delivery.attempts) == (RunStatus.FAILED, 2)
    assert InstanceError.objects.get().category == "Timeout"


def test_final_errors_are_recorded_with_their_category_and_logs(workspace):
    _, source = make_source(workspace=workspace)
    code = """async function onTrack(e, s) {
      console.log('key', s.apiKey);
      throw new InvalidEventPayload('no email');
    }"""
    _, destination = make_destination(workspace=workspace, sources=[source], code=code)
    run_source(source, {"event": "A"})
    [delivery] = deliver_all(workspace)
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
    drain_sources(workspace.pk)
    assert InstanceError.objects.count() == 5


def test_on_batch_receives_waiting_events_together(workspace, settings):
    settings.DELIVERY_BATCH_SIZE = 3
    _, source = make_source(workspace=workspace)
    code = """async function onBatch(events, settings) {
      return events.map((e) =>
        e.properties.n === 2 ? {status: 400, errormessage: 'bad'} : {status: 200});
    }"""
    make_destination(workspace=workspace, sources=[source], code=code)
    for n in range(4):
        post(source, {"n": n}, request_id=f"r{n}")
    drain_sources(workspace.pk)
    # Three waiting events make a full batch: due at once. The fourth waits for the window.
    assert drain_deliveries(workspace.pk) == 3
    statuses = list(Delivery.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [
        RunStatus.DELIVERED,
        RunStatus.DELIVERED,
        RunStatus.REJECTED,
        RunStatus.QUEUED,
    ]
    later = T0 + timedelta(seconds=settings.DELIVERY_BATCH_WINDOW_SECONDS)
    assert drain_deliveries(workspace.pk, now=later) == 1
    assert Delivery.objects.order_by("id").last().status == RunStatus.DELIVERED


def test_work_of_a_dead_worker_is_taken_back_by_the_sweep(
    workspace, pipeline, settings, monkeypatch
):
    from functions_ui.deploys import deliveries

    settings.PIPELINE_LEASE_SECONDS = 30
    source, _ = pipeline
    # A worker recorded a source batch (its deliveries claimed for it), then died before
    # delivering them; another worker claimed a request and died too.
    monkeypatch.setattr(deliveries, "deliver_claimed", lambda **kwargs: None)
    run_source(source, {"event": "A"})
    monkeypatch.undo()
    post(source, {"event": "B"})
    WebhookRequest.objects.update(claim="dead", lease_until=T0)
    assert Delivery.objects.get().status == RunStatus.RUNNING
    assert drain_deliveries(workspace.pk) == 0
    assert drain_sources(workspace.pk) == 0
    past_lease = T0 + timedelta(seconds=31)
    swept = pipeline_sweep(now=past_lease)
    assert (swept["requests"], swept["deliveries"]) == (1, 1)
    assert drain_deliveries(workspace.pk, now=past_lease) == 1
    assert drain_sources(workspace.pk, now=past_lease) == 1
    assert list(Delivery.objects.values_list("status", "attempts")) == [
        (RunStatus.DELIVERED, 1),
        (RunStatus.DELIVERED, 1),
    ]


def test_a_claim_taken_over_records_nothing_for_its_first_worker(workspace, pipeline):
    """The lease ran out while the first worker was slow: only the second one's outcome counts."""
    from functions_ui.deploys import deliveries

    source, _ = pipeline
    original = deliveries._record

    def taken_over(key, done, **kwargs):
        Delivery.objects.update(claim="another-worker")
        return original(key, done, **kwargs)

    deliveries._record = taken_over
    try:
        run_source(source, {"event": "A"})
    finally:
        deliveries._record = original
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.claim, delivery.attempts) == (
        RunStatus.RUNNING,
        "another-worker",
        0,
    )


def test_old_runs_are_trimmed_but_pending_deliveries_are_kept(pipeline, settings):
    settings.DELIVERY_RETENTION_DAYS = 30
    source, _ = pipeline
    run_source(source, {"n": 1}, request_id="old-done", now=T0)
    run_source(source, {"n": 2}, request_id="old-pending", now=T0)
    run_source(source, {"n": 3}, request_id="recent", now=T0 + timedelta(days=29))
    done = Delivery.objects.get(event__run__request_id="old-done")
    # old-pending's delivery is to be retried: it may yet happen, so its run stays.
    Delivery.objects.filter(event__run__request_id="old-pending").update(status=RunStatus.RETRYING)

    assert delivery_records_trim(now=T0 + timedelta(days=31)) == 1
    kept = set(SourceRun.objects.values_list("request_id", flat=True))
    assert kept == {"old-pending", "recent"}
    assert not Delivery.objects.filter(pk=done.pk).exists()
    assert delivery_records_trim(now=T0 + timedelta(days=31)) == 0


def test_a_drains_statements_do_not_grow_with_its_batch(workspace, pipeline, monkeypatch, settings):
    """Work is done per batch, not per event: a drain of ten webhooks (each event through the
    insert and the destination) sends as many SQL statements as a drain of two."""
    source, destination = pipeline
    make_insert(workspace=workspace, destination=destination)
    run_source(source, {"n": 100})  # warm: compiled functions, timed destination
    # No write or claim renewal falls due on the clock mid-batch.
    monkeypatch.setattr(deliveries, "COMMIT_INTERVAL_S", 3600)
    settings.PIPELINE_LEASE_SECONDS = 3600

    def statements_to_drain(count: int) -> list[str]:
        for n in range(count):
            post(source, {"n": n})
        with CaptureQueriesContext(connection) as queries:
            assert drain_sources(workspace.pk) == count
        return [q["sql"] for q in queries.captured_queries]

    two, ten = statements_to_drain(2), statements_to_drain(10)
    assert len(ten) == len(two), "\n".join(ten)
    # No canary runs, so no batch spends a statement asking for one.
    assert not [sql for sql in ten if sql.startswith('SELECT "deploys_canary"')]
    assert Delivery.objects.filter(status=RunStatus.DELIVERED).count() == 13


def test_many_pipelines_of_a_workspace_share_round_trips_and_keep_their_own_settings(
    workspace, monkeypatch
):
    """Five pipelines (source, insert, destination; each its own code and secret), a webhook
    each, one drain: the runs of all five functions of a stage share one round trip, and each
    run had its own function and settings (each destination logs its own key, masked)."""
    from tests.deploys.helpers import make_destination, make_source

    pipelines = []
    for n in range(5):
        code = f"async function onTrack(event, settings) {{ console.log('d{n}', settings.apiKey) }}"
        _, source = make_source(workspace=workspace, name=f"Source {n}")
        _, destination = make_destination(
            workspace=workspace, sources=[source], code=code, name=f"Dest {n}"
        )
        instances.instance_settings_update(
            instance=destination, raw_settings={"apiKey": f"key_of_{n}"}
        )
        make_insert(workspace=workspace, destination=destination)
        pipelines.append((source, destination))
    for source, _ in pipelines:
        run_source(source, {"event": "A", "n": 100})  # warm: each destination known and fast
    Delivery.objects.all().delete()
    trips = []
    request = WorkerPool.request

    def counting(self, msg, timeout_s, tenant="_default"):
        if msg["op"] == "runMany":
            trips.append(sorted({c["fnKey"] for c in msg["calls"]}))
        return request(self, msg, timeout_s, tenant)

    monkeypatch.setattr(WorkerPool, "request", counting)
    for source, _ in pipelines:
        post(source, {"event": "A", "n": 1})
    assert drain_sources(workspace.pk) == 5
    # Sources, inserts, destinations: a round trip each, five functions in each.
    assert [len(functions) for functions in trips] == [5, 5, 5]
    logs = {
        d.destination.name: d.logs[0]["message"]
        for d in Delivery.objects.select_related("destination")
    }
    assert logs == {f"Dest {n}": f"d{n} {MASK}" for n in range(5)}
    assert set(Delivery.objects.values_list("status", flat=True)) == {RunStatus.DELIVERED}


def test_looking_at_an_empty_queue_costs_one_statement(workspace, pipeline):
    """A drain ends by finding its queue empty, twice: each look is one read, not a claim's
    transaction; a queue with work is claimed as before."""
    source, _ = pipeline
    due = WebhookRequest.objects.filter(workspace_id=workspace.pk, claim="")
    with CaptureQueriesContext(connection) as queries:
        assert claims.claim(due, limit=50, now=T0)[1] == []
    assert len(queries.captured_queries) == 1
    post(source, {"n": 1})
    key, ids = claims.claim(due, limit=50, now=T0)
    assert len(ids) == 1 and WebhookRequest.objects.get(pk=ids[0]).claim == key


# Batches of several workspaces ------------------------------------------------------------------


def test_a_flood_of_one_workspace_leaves_the_others_their_part_of_a_batch(workspace, settings):
    settings.PIPELINE_SOURCE_BATCH = 5
    [(flooded, flood), (other, source)] = make_pipelines(2, workspace)
    for n in range(20):
        post(flood, {"event": "Flood", "n": n})
    post(source, {"event": "A"})
    post(source, {"event": "B"})
    claimed = sources.sources_drain_many(workspace_ids=[flooded.pk, other.pk], now=T0)
    assert claimed == {flooded.pk: 5, other.pk: 2}
    # The flood's oldest five went first.
    assert sorted(json.loads(r.body)["n"] for r in SourceRun.objects.filter(instance=flood)) == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert WebhookRequest.objects.filter(instance=flood).count() == 15
    assert Delivery.objects.filter(status=RunStatus.DELIVERED).count() == 7


def test_a_batch_of_several_workspaces_runs_each_in_its_own_runtime(workspace, monkeypatch):
    made = make_pipelines(3, workspace)
    for _, source in made:
        post(source, {"event": "A", "n": 100})
    sources.sources_drain_many(workspace_ids=[owner.pk for owner, _ in made], now=T0)  # warm
    trips = []
    request = WorkerPool.request

    def counting(self, msg, timeout_s, tenant="_default"):
        if msg["op"] == "runMany":
            trips.append((tenant, msg["calls"][0]["fnKey"]))
        return request(self, msg, timeout_s, tenant)

    monkeypatch.setattr(WorkerPool, "request", counting)
    for _, source in made:
        post(source, {"event": "A", "n": 1})
    assert sources.sources_drain_many(workspace_ids=[o.pk for o, _ in made], now=T0) == {
        owner.pk: 1 for owner, _ in made
    }
    # A round trip per workspace and stage (source, destination), each to that workspace's own
    # runtime with that workspace's function.
    functions = {
        str(owner.pk): {f.public_id for f in Function.objects.filter(workspace=owner)}
        for owner, _ in made
    }
    assert len(trips) == 6
    assert {tenant for tenant, _ in trips} == set(functions)
    assert all(key in functions[tenant] for tenant, key in trips)
    assert Delivery.objects.filter(status=RunStatus.DELIVERED).count() == 6


def test_a_batch_claims_all_its_workspaces_at_once(workspace):
    """The claim of a drain's workspaces is one statement on PostgreSQL whatever their number
    (each workspace's rows locked by its own index lookup); SQLite, one writer at a time, locks
    nothing and reads each workspace's rows in turn."""
    made = make_pipelines(4, workspace)
    for _, source in made:
        post(source, {"event": "A"})
    due = WebhookRequest.objects.filter(claim="", available_at__lte=T0)
    ids = [owner.pk for owner, _ in made]

    def claim_statements(workspace_ids):
        with CaptureQueriesContext(connection) as queries:
            key, claimed = claims.claim_each(due, "workspace_id", workspace_ids, each=50, now=T0)
        return (
            key,
            claimed,
            [q["sql"] for q in queries.captured_queries if "deploys_webhookrequest" in q["sql"]],
        )

    key, claimed, two = claim_statements(ids[:2])
    assert set(claimed) == set(ids[:2])
    key, claimed, more = claim_statements(ids[2:] + [ids[0]])
    assert set(claimed) == set(ids[2:])  # the first's row is claimed already
    assert set(WebhookRequest.objects.filter(claim=key).values_list("workspace_id", flat=True)) == (
        set(ids[2:])
    )
    if connection.vendor == "postgresql":
        # A look (is anything due?) and the claim itself.
        assert len(two) == len(more) == 2, more
    else:
        assert len(more) == len(two) + 1, more
