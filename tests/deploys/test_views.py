import json

import pytest
import redis
from django.test import Client
from django.urls import reverse

from catalog.secrets import encrypt_value
from functions_ui.deploys import instances
from functions_ui.deploys.models import (
    Delivery,
    Deploy,
    DeployStatus,
    SourceInstance,
    WebhookRequest,
)
from functions_ui.permissions.models import Role
from tests.deploys.helpers import (
    JSON,
    SOURCE_CODE,
    T0,
    deploy_now,
    drain_deliveries,
    drain_sources,
    latest,
    make_destination,
    make_insert,
    make_source,
    post,
    run_source,
)
from tests.factories import make_workspace
from tests.html import disabled_of, text_of

pytestmark = pytest.mark.django_db


def hook(instance):
    return reverse("instance_webhook", args=[instance.webhook_token])


def queued(redis_server) -> int:
    return redis.Redis.from_url(redis_server.url).llen("celery")


# Webhook intake -----------------------------------------------------------------------------


def test_webhook_stores_the_request_then_rings_once(
    client, workspace, celery_on_redis, django_capture_on_commit_callbacks
):
    _, source = make_source(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(hook(source), {"event": "A"}, content_type="application/json")
        second = client.post(hook(source), {"event": "B"}, content_type="application/json")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["status"] == "queued"
    stored = WebhookRequest.objects.order_by("id")
    assert [json.loads(r.body)["event"] for r in stored] == ["A", "B"]
    assert stored[0].request_id == first.json()["requestId"]
    # One wake-up for the workspace, however many requests wait.
    assert queued(celery_on_redis) == 1


def test_webhook_accepts_form_encoded_bodies(client, workspace, celery_on_redis):
    _, source = make_source(workspace=workspace)
    response = client.post(
        hook(source), "a=1&b=2", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200


def test_webhook_answers_405_to_get(client, workspace):
    _, source = make_source(workspace=workspace)
    assert client.get(hook(source)).status_code == 405


def test_webhook_answers_415_to_other_content_types(client, workspace):
    _, source = make_source(workspace=workspace)
    response = client.post(hook(source), "<a/>", content_type="application/xml")
    assert response.status_code == 415


def test_webhook_answers_413_past_512_kib(client, workspace):
    _, source = make_source(workspace=workspace)
    body = json.dumps({"x": "y" * (512 * 1024)})
    response = client.post(hook(source), body, content_type="application/json")
    assert response.status_code == 413


def test_webhook_takes_exactly_512_kib(client, workspace, celery_on_redis):
    _, source = make_source(workspace=workspace)
    body = json.dumps({"x": ""})
    body = json.dumps({"x": "y" * (512 * 1024 - len(body))})
    assert len(body) == 512 * 1024
    assert client.post(hook(source), body, content_type="application/json").status_code == 200


def test_webhook_answers_404_to_unknown_and_rotated_tokens(client, workspace):
    _, source = make_source(workspace=workspace)
    old = hook(source)
    from functions_ui.deploys.instances import source_instance_rotate_token

    source_instance_rotate_token(instance=source)
    assert client.post(old, {}, content_type="application/json").status_code == 404
    unknown = reverse("instance_webhook", args=["nope"])
    assert client.post(unknown, {}, content_type="application/json").status_code == 404


def test_webhooks_skip_the_middleware_that_serves_people(
    client, workspace, django_user_model, celery_on_redis
):
    """A webhook needs no session, user, CSRF token or messages: it answers before them."""
    _, source = make_source(workspace=workspace)
    client.force_login(django_user_model.objects.create_user(username="someone"))
    response = client.post(hook(source), {"event": "A"}, content_type="application/json")
    assert response.status_code == 200
    assert WebhookRequest.objects.get().request_id == response.json()["requestId"]
    assert response.headers["Content-Length"] == str(len(response.content))
    request = response.wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "user")
    assert request.resolver_match.url_name == "instance_webhook"
    # Other POSTs still pass through all of it: CSRF is checked for a person's form.
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(django_user_model.objects.get(username="someone"))
    refused = guarded.post(reverse("catalog:function_list", args=[workspace.slug]), {})
    assert refused.status_code == 403


def test_webhook_accepts_durably_while_redis_is_down(
    client, workspace, dead_broker, django_capture_on_commit_callbacks
):
    """The request is in the database; the sweep wakes a worker once Redis is back."""
    _, source = make_source(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(hook(source), {"event": "A"}, content_type="application/json")
    assert response.status_code == 200
    assert WebhookRequest.objects.get().request_id == response.json()["requestId"]


@pytest.mark.django_db(transaction=True)
def test_webhook_answers_503_when_the_database_is_down(client, workspace):
    """The real database made unreachable (a path or port where none is), not a stub."""
    from django.db import connection

    _, source = make_source(workspace=workspace)
    real = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent/dir/db.sqlite3"
    else:
        connection.settings_dict["PORT"] = "1"
    try:
        response = client.post(hook(source), {"event": "A"}, content_type="application/json")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(real)
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert not WebhookRequest.objects.exists()


# Pages --------------------------------------------------------------------------------------


def deploys_url(function, name="deploys:function"):
    return reverse(name, args=[function.workspace.slug, function.public_id])


def instance_url(instance, name="deploys:instance"):
    return reverse(name, args=[instance.function.workspace.slug, instance.public_id])


def test_deploys_page_lists_instances_versions_and_timeline(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    function, source = make_source(workspace=workspace, name="Stripe hooks")
    response = client.get(deploys_url(function))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Stripe hooks" in body
    assert "No deploys yet." in body
    assert "Connect" in disabled_of(body)  # read-only: no Connect


def test_deploy_form_starts_a_deploy(
    client, login_as, workspace, django_capture_on_commit_callbacks
):
    login_as(Role.SOURCE_ADMIN)
    function, _ = make_source(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            deploys_url(function, "deploys:deploy_create"),
            {"version_id": latest(function).public_id, "target": "all"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert 'data-status="queued"' in response.content.decode()
    assert "deploy-started" in response["HX-Trigger"]
    assert Deploy.objects.get().status == DeployStatus.QUEUED
    assert len(callbacks) == 1


@pytest.mark.parametrize("role", [Role.FUNCTIONS_ADMIN, Role.FUNCTIONS_READ_ONLY])
def test_deploying_needs_the_deploy_permission(client, login_as, workspace, role):
    login_as(role)
    function, _ = make_source(workspace=workspace)
    response = client.post(deploys_url(function, "deploys:deploy_create"), {"target": "all"})
    assert response.status_code == 403
    assert Deploy.objects.count() == 0


def test_save_and_deploy_needs_edit_and_deploy(client, login_as, workspace):
    function, _ = make_source(workspace=workspace)
    login_as(Role.SOURCE_ADMIN)  # may deploy, may not edit
    response = client.post(
        deploys_url(function, "deploys:save_and_deploy"), {"code": SOURCE_CODE, "target": "all"}
    )
    assert response.status_code == 403


def test_save_and_deploy_saves_and_deploys_to_chosen_instances(
    client, login_as, workspace, django_capture_on_commit_callbacks
):
    login_as(Role.WORKSPACE_OWNER)
    function, source = make_source(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            deploys_url(function, "deploys:save_and_deploy"),
            {"code": SOURCE_CODE + "// new", "target": "chosen", "instances": [source.public_id]},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    deploy = Deploy.objects.get()
    assert deploy.version.number == 2
    assert not deploy.target_all
    assert list(deploy.source_instances.all()) == [source]
    assert 'id="base-version-id"' in response.content.decode()  # the editor's base moves on
    assert "version-saved" in response["HX-Trigger"]


def test_save_and_deploy_reports_a_stale_save(client, login_as, workspace):
    login_as(Role.WORKSPACE_OWNER)
    function, _ = make_source(workspace=workspace)
    response = client.post(
        deploys_url(function, "deploys:save_and_deploy"),
        {"code": "x", "base_version_id": "v" * 22, "target": "all"},
        HTTP_HX_REQUEST="true",
    )
    assert "Reload the editor" in response.content.decode()
    assert Deploy.objects.count() == 0


def test_chooser_lists_instances_with_their_versions(client, login_as, workspace):
    login_as(Role.WORKSPACE_OWNER)
    function, source = make_source(workspace=workspace, name="Hook A")
    response = client.get(deploys_url(function, "deploys:chooser"))
    body = response.content.decode()
    assert source.public_id in body
    assert "Save & Deploy" in text_of(body)


def test_status_polls_while_active_and_stops_when_done(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    function, _ = make_source(workspace=workspace)
    deploy = Deploy.objects.create(function=function, version=latest(function))
    url = deploys_url(function, "deploys:status")
    assert 'hx-trigger="every 1s"' in client.get(url).content.decode()
    Deploy.objects.filter(pk=deploy.pk).update(status=DeployStatus.SUCCEEDED)
    response = client.get(f"{url}?deploy={deploy.pk}&was=active")
    assert "every 1s" not in response.content.decode()
    assert "deploy-finished" in response["HX-Trigger"]


def test_connect_source_creates_an_instance_with_a_webhook_url(client, login_as, workspace):
    login_as(Role.SOURCE_ADMIN)
    function, _ = make_source(workspace=workspace)
    response = client.post(
        deploys_url(function, "deploys:connect"),
        {"name": "Shop", "setting-apiKey": "sk_test_shhh"},
    )
    instance = SourceInstance.objects.get(name="Shop")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert instance.webhook_token in page
    assert "sk_test_shhh" not in page
    assert "••••" in page


def test_connect_enforces_required_settings(client, login_as, workspace):
    login_as(Role.SOURCE_ADMIN)
    function, _ = make_source(workspace=workspace)
    response = client.post(deploys_url(function, "deploys:connect"), {"name": "Shop"})
    assert response.status_code == 422
    assert "is required" in response.content.decode()


def test_connecting_needs_the_connect_permission(client, login_as, workspace):
    login_as(Role.FUNCTIONS_ADMIN)
    function, _ = make_source(workspace=workspace)
    assert client.get(deploys_url(function, "deploys:connect")).status_code == 403


def test_instances_of_another_workspace_are_404(client, login_as, workspace):
    login_as(Role.WORKSPACE_OWNER)
    other = make_workspace()
    _, source = make_source(workspace=other)
    url = reverse("deploys:instance", args=[workspace.slug, source.public_id])
    assert client.get(url).status_code == 404


def test_rotate_gives_a_new_webhook_url(client, login_as, workspace):
    login_as(Role.SOURCE_ADMIN)
    _, source = make_source(workspace=workspace)
    old = source.webhook_token
    client.post(instance_url(source, "deploys:instance_rotate"))
    source.refresh_from_db()
    assert source.webhook_token != old


def test_destination_page_shows_delivery_counts(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace)
    _, destination = make_destination(workspace=workspace, sources=[source])
    response = client.get(instance_url(destination), {"part": "delivery"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="event-delivery"' in response.content.decode()


def test_instance_settings_replace_keeps_secrets_out_of_the_page(client, login_as, workspace):
    login_as(Role.SOURCE_ADMIN)
    _, source = make_source(workspace=workspace)
    client.post(instance_url(source, "deploys:instance_settings"), {"setting-apiKey": ""})
    page = client.get(instance_url(source)).content.decode()
    assert "sk_live_secret123" not in page
    assert "Replace" in page


def test_source_page_shows_its_event_log(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace)
    for body in [{"event": "Order Placed"}, {"name": "x"}]:
        run_source(source, body)
    response = client.get(instance_url(source), {"part": "events"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Order Placed" in response.content.decode()
    assert "sk_live_secret123" not in response.content.decode()


def test_the_webhook_url_is_shown_only_to_those_who_may_connect(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace)
    page = client.get(instance_url(source)).content.decode()
    assert source.webhook_token not in page


def test_removing_an_instance(client, login_as, workspace):
    login_as(Role.SOURCE_ADMIN)
    function, source = make_source(workspace=workspace)
    response = client.post(instance_url(source, "deploys:instance_delete"))
    assert response.status_code == 302
    assert not SourceInstance.objects.filter(pk=source.pk).exists()


def test_the_event_log_shows_payloads_as_json_and_pauses_while_a_row_is_open(
    client, login_as, workspace
):
    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace)
    run_source(source, {"event": "Order Placed", "userId": "u-7"})
    html = client.get(instance_url(source), {"part": "events"}, HTTP_HX_REQUEST="true")
    html = html.content.decode()
    # JSON, not Python: double quotes (escaped once in the page), no True/None.
    assert '"event": "Order Placed"' in text_of(html)
    assert "'event'" not in html and "True" not in html
    assert "hx-trigger=\"every 2s [!this.querySelector('details[open]')]\"" in html
    assert 'data-copy="#event-json-' in html


def test_a_filtered_delivery_reads_as_a_reason_not_an_error(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace)
    _, destination = make_destination(workspace=workspace, sources=[source])
    make_insert(workspace=workspace, destination=destination)
    run_source(source, {"event": "Drop me", "userId": "u-9"})
    drain_deliveries(source.function.workspace_id)
    html = client.get(instance_url(destination), {"part": "delivery"}, HTTP_HX_REQUEST="true")
    html = html.content.decode()
    assert "Filtered at insert function" in html
    assert html.count("Filtered at insert function") == 1  # the status, not repeated
    assert "“not wanted”" in html
    assert "error-message" not in html and "DropEvent" not in html
    assert "u-9" in html  # who the event is about


def test_every_deploy_label_comes_from_one_overview(client, login_as, workspace):
    """DEPLOYED is the newest successful deploy's version, and the page says where it runs."""
    from versioning.services import version_save

    login_as(Role.FUNCTIONS_READ_ONLY)
    function, shop = make_source(workspace=workspace, name="Shop")
    _, staging = make_source(workspace=workspace, name="Staging")
    staging.function = function
    staging.save(update_fields=["function"])
    v2 = version_save(function=function, user=None, code=SOURCE_CODE + "//2", base_version_id=None)
    deploy_now(function, v2, [shop.public_id])
    page = client.get(deploys_url(function)).content.decode()
    assert "DEPLOYED is <strong" in page and "v2</strong>, on 1 of 2 instances" in page
    assert "· 1 on v1" in page
    assert "run different versions" in page
    # The timeline and the status name the instances a deploy went to.
    timeline = client.get(deploys_url(function, "deploys:timeline")).content.decode()
    assert "to Shop" in timeline and "Staging" not in timeline
    status = client.get(deploys_url(function, "deploys:status")).content.decode()
    assert "to Shop" in status
    # The instances block reloads itself when a deploy starts or finishes.
    block = client.get(deploys_url(function, "deploys:instances")).content.decode()
    assert 'hx-trigger="deploy-started from:body, deploy-finished from:body"' in block


def test_a_rollback_waits_for_its_confirmation(
    client, login_as, workspace, django_capture_on_commit_callbacks
):
    from versioning.services import version_save

    login_as(Role.SOURCE_ADMIN)
    function, _ = make_source(workspace=workspace)
    v1 = latest(function)
    v2 = version_save(function=function, user=None, code=SOURCE_CODE + "//2", base_version_id=None)
    deploy_now(function, v2)
    form = {"version_id": v1.public_id, "target": "all"}
    asked = client.post(
        deploys_url(function, "deploys:deploy_create"), form, HTTP_HX_REQUEST="true"
    )
    assert "Roll back to v1?" in asked.content.decode()
    assert Deploy.objects.count() == 1  # only the deploy of v2
    with django_capture_on_commit_callbacks(execute=False):
        done = client.post(
            deploys_url(function, "deploys:deploy_create"),
            {**form, "confirmed": "1"},
            HTTP_HX_REQUEST="true",
        )
    assert 'data-status="queued"' in done.content.decode()
    rollback = Deploy.objects.latest("id")
    assert (rollback.version, rollback.is_rollback) == (v1, True)


def test_the_request_debugger_shows_each_request_whole_and_where_its_events_went(
    client, login_as, workspace
):
    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace)
    _, destination = make_destination(workspace=workspace, sources=[source], name="Warehouse")
    ok = run_source(
        source,
        {"event": "Order Placed", "userId": "u-5"},
        headers={**JSON, "X-Shop": "acme"},
    )
    drain_deliveries(source.function.workspace_id)
    # A credential header is kept only encrypted while queued, and shown masked afterwards.
    WebhookRequest.objects.all().delete()
    post(source, "{}", headers=JSON)
    WebhookRequest.objects.update(secret_headers={"Authorization": encrypt_value("Bearer sk_9")})
    drain_sources(source.function.workspace_id)

    def part(**query):
        answer = client.get(
            instance_url(source), {"part": "requests", **query}, HTTP_HX_REQUEST="true"
        )
        return answer.content.decode()

    html = part()
    assert ok.request_id in html
    assert "X-Shop" in html and "••••" in html and "sk_9" not in html
    assert '"event": "Order Placed"' in text_of(html)  # the body, as JSON
    assert "token is ••••" in html  # the console, masked as everywhere
    assert "→ Warehouse" in html and f"#delivery-{Delivery.objects.get(event__run=ok).pk}" in html
    assert "sk_live_secret123" not in html
    # Found by the requestId the sender was given (a prefix is enough), and by status.
    found = part(q=ok.request_id[:8])
    assert ok.request_id in found and found.count('class="request-row') == 1
    assert "No request matches." in part(status="errors")


def test_an_insert_instance_shows_its_own_errors_not_its_destination_s(workspace):
    from functions_ui.deploys.errors import error_row, errors_store
    from functions_ui.deploys.selectors import error_list

    _, source = make_source(workspace=workspace)
    _, destination = make_destination(workspace=workspace, sources=[source])
    _, insert = make_insert(workspace=workspace, destination=destination)
    errors_store(
        [
            error_row(
                destination=destination,
                category="Retry",
                error={"message": "dest down"},
                logs=[],
                stage="destination",
            ),
            error_row(
                destination=destination,
                category="Bad Request",
                error={"message": "bad map"},
                logs=[],
                stage="insert",
            ),
        ]
    )
    assert [e.message for e in error_list(instance=insert)] == ["bad map"]
    assert len(error_list(instance=destination)) == 2


def test_the_errors_card_says_when_runs_are_being_retried(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace)
    _, destination = make_destination(workspace=workspace, sources=[source])
    run_source(source, {"event": "Order"})
    Delivery.objects.update(status="retrying")
    page = text_of(
        client.get(instance_url(destination), {"part": "errors"}, HTTP_HX_REQUEST="true")
    )
    assert "1 run failed and will be tried again: it appears here if it fails for good." in page
    assert "No errors yet." in page


def test_a_polling_part_builds_only_itself(client, login_as, workspace):
    """Each live list polls every few seconds: it must not rebuild the whole page each time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace)
    run_source(source, {"event": "Order"})
    with CaptureQueriesContext(connection) as queries:
        response = client.get(instance_url(source), {"part": "events"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Order" in text_of(response)
    sql = " ".join(q["sql"] for q in queries).lower()
    assert "metricbucket" not in sql and "sourcerun" not in sql and "instanceerror" not in sql


def test_a_delivery_opens_on_the_insert_change_the_console_and_each_attempt(
    client, login_as, workspace
):
    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace)
    _, destination = make_destination(workspace=workspace, sources=[source])
    make_insert(workspace=workspace, destination=destination)
    run_source(source, {"event": "Order", "userId": "u-7"})
    drain_deliveries(source.function.workspace_id)
    response = client.get(instance_url(destination), {"part": "delivery"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    debug = html[html.index('<details class="delivery-debug">') :]
    # The insert added `enriched` to the properties: that line, and the one before it (which
    # gained a comma), are all that is marked.
    assert debug.count('class="diff-row diff-insert"') == 2
    assert debug.count('class="diff-row diff-delete"') == 1
    text = text_of(debug)
    assert "Insert function: event in → event out" in text
    assert "added: " in text and "enriched" in text
    assert "delivering Order" in text and "dest_secret_456" not in html
    attempts = text[text.index("Attempts") :]
    assert "1 " in attempts and "Delivered" in attempts and " ms" in attempts


def test_the_flow_counts_each_stage_over_a_custom_range(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace, name="Shop hooks")
    _, destination = make_destination(workspace=workspace, sources=[source], name="Warehouse")
    make_insert(workspace=workspace, destination=destination)
    for event in ("Order", "Drop me", "Order"):
        run_source(source, {"event": event})
    drain_deliveries(workspace.pk)
    custom = {"part": "metrics", "range": "custom", "start": "2026-01-01T11:00"}
    response = client.get(
        instance_url(source), {**custom, "end": "2026-01-01T13:00"}, HTTP_HX_REQUEST="true"
    )
    text = text_of(response.content.decode())
    assert "2026-01-01 11:00 to 2026-01-01 13:00 UTC, by the minute." in text
    flow = text[text.index("Flow over this range") :]
    assert "Source Shop hooks 3 requests ran" in flow
    assert "Insert Enricher 1 dropped" in flow
    assert "Destination Warehouse 2 delivered" in flow
    # The same page for a range without those runs counts nothing.
    response = client.get(
        instance_url(destination),
        {**custom, "start": "2026-02-01T00:00", "end": "2026-02-02T00:00"},
        HTTP_HX_REQUEST="true",
    )
    assert "Source Shop hooks 0 requests ran" in text_of(response.content.decode())


def test_a_custom_range_that_ends_before_it_starts_says_so(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace)
    response = client.get(
        instance_url(source),
        {"part": "metrics", "range": "custom", "start": "2026-01-02T00:00", "end": "2026-01-01"},
        HTTP_HX_REQUEST="true",
    )
    text = text_of(response.content.decode())
    assert "The start must come before the end. Showing the last 24 hours." in text
    assert "No destination is connected to this source" in text


def test_the_deploys_page_draws_each_instance_s_last_day(client, login_as, workspace):
    from django.utils import timezone

    login_as(Role.FUNCTIONS_READ_ONLY)
    function, busy = make_source(workspace=workspace, name="Busy hooks")
    quiet = instances.source_instance_create(
        function=function, user=None, name="Quiet hooks", raw_settings={"apiKey": "k"}
    )
    for n in range(2):
        run_source(busy, {"event": "Order", "n": n}, now=timezone.now())
    html = client.get(reverse("deploys:function", args=[workspace.slug, function.public_id]))
    rows = [text_of(row) for row in html.content.decode().split("<tr>")[2:]]
    [busy_row] = [row for row in rows if "Busy hooks" in row]
    [quiet_row] = [row for row in rows if "Quiet hooks" in row]
    assert "2 events" in busy_row
    assert "No events" in quiet_row
    assert quiet.public_id in quiet_row


def test_the_request_debugger_goes_back_in_time(client, login_as, workspace):
    from datetime import timedelta

    login_as(Role.FUNCTIONS_READ_ONLY)
    _, source = make_source(workspace=workspace)
    early = run_source(source, {"event": "Early"}, now=T0)
    late = run_source(source, {"event": "Late"}, now=T0 + timedelta(hours=2))

    def ids(**query) -> list[str]:
        html = client.get(
            instance_url(source), {"part": "requests", **query}, HTTP_HX_REQUEST="true"
        ).content.decode()
        return [r.request_id for r in (early, late) if r.request_id in html]

    assert ids() == [early.request_id, late.request_id]
    assert ids(before="2026-01-01T13:00") == [early.request_id]
    assert ids(before="not a date") == [early.request_id, late.request_id]
