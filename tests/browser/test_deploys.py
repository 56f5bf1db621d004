"""Save & Deploy to chosen instances, watch it succeed, then follow a webhook's event."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from functions_ui.deploys.instances import source_instance_create
from functions_ui.deploys.models import SourceInstance
from functions_ui.permissions.models import Role
from tests.deploys.helpers import make_destination, make_insert, make_source
from tests.deploys.workers import start_worker, wait_for_worker  # noqa: F401  (a fixture)
from tests.factories import make_member, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_save_and_deploy_then_a_webhook_event_reaches_the_destination(
    page,
    live_server,
    log_in,
    screenshot,
    workspace,
    start_worker,  # noqa: F811  (the fixture imported above)
):
    start_worker()
    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    source_fn, shop = make_source(workspace=workspace, name="Shop hooks")
    staging = source_instance_create(
        function=source_fn, user=None, name="Staging hooks", raw_settings={"apiKey": "sk_stage"}
    )
    _, warehouse = make_destination(workspace=workspace, sources=[shop], name="Warehouse")
    make_insert(workspace=workspace, destination=warehouse)
    wait_for_worker()
    log_in("owner")

    # Save & Deploy a change to one chosen instance and watch it succeed.
    page.goto(f"/w/{workspace.slug}/functions/{source_fn.public_id}/edit/")
    page.get_by_role("textbox", name="Function code").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n// v2: deployed from the browser")
    expect(page.locator("#dirty-marker")).to_be_visible()
    page.click("#save-deploy-button")
    page.check("input[name=target][value=chosen]")
    page.check(f"input[name=instances][value={shop.public_id}]")
    screenshot("deploys-01-chooser")
    page.click("#confirm-deploy")
    expect(page.locator("#deploy-status [data-status=succeeded]")).to_be_visible(timeout=20_000)
    expect(page.locator("#deploy-status")).to_contain_text("v2")
    expect(page.locator("#dirty-marker")).to_be_hidden()
    screenshot("deploys-02-editor-succeeded")

    # The function's page: the chosen instance runs v2, the other one is behind.
    page.goto(f"/w/{workspace.slug}/functions/{source_fn.public_id}/deploys/")
    expect(page.locator(f"[data-instance-version={shop.public_id}]")).to_have_text("v2")
    expect(page.locator(f"[data-instance-version={staging.public_id}]")).to_have_text("v1")
    expect(page.get_by_text("1 version behind LATEST")).to_be_visible()
    expect(page.get_by_text("run different versions")).to_be_visible()
    expect(page.locator(".timeline [data-status=succeeded]")).to_have_count(1)
    screenshot("deploys-03-function-deploys")

    # A webhook to the chosen source: its event log, then the destination's deliveries.
    shop = SourceInstance.objects.get(pk=shop.pk)
    page.goto(f"/w/{workspace.slug}/instances/{shop.public_id}/")
    url = page.locator("#webhook-url").input_value()
    assert url.startswith(live_server.url)
    request = urllib.request.Request(
        url,
        data=json.dumps({"event": "Order Placed", "userId": "u42"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    expect(page.locator("#event-log")).to_contain_text("Order Placed", timeout=15_000)
    assert "sk_live_secret123" not in page.content()
    screenshot("deploys-04-source-event-log")

    page.goto(f"/w/{workspace.slug}/instances/{warehouse.public_id}/")
    delivered = page.locator("#event-delivery [data-count=delivered]")
    expect(delivered).to_have_text(re.compile(r"^1$"), timeout=15_000)
    expect(
        page.locator("#event-delivery .delivery-table > tbody > tr .run-delivered").first
    ).to_be_visible()
    screenshot("deploys-05-destination-delivery")


def test_an_open_delivery_stays_open_while_new_ones_arrive(page, log_in, screenshot, workspace):
    """Live lists pause while the reader has a row open, and catch up once it is closed.

    The page's clock is Playwright's, so the 2-second polls are stepped, not waited for.
    """
    from tests.deploys.helpers import drain_deliveries, run_source

    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    _, shop = make_source(workspace=workspace, name="Shop hooks")
    _, warehouse = make_destination(workspace=workspace, sources=[shop], name="Warehouse")
    run_source(shop, {"event": "First Order", "userId": "u-1"})
    drain_deliveries(workspace.pk)
    log_in("owner")
    page.clock.install()
    page.goto(f"/w/{workspace.slug}/instances/{warehouse.public_id}/")
    rows = page.locator("#event-delivery .delivery-table > tbody > tr")
    expect(rows).to_have_count(1)
    page.click("#event-delivery details.event-json summary")
    opened = page.locator("#event-delivery details.event-json[open]")
    expect(opened).to_have_count(1)
    expect(opened.locator("pre")).to_contain_text('"userId": "u-1"')
    expect(page.locator("#event-delivery .live-paused")).to_be_visible()

    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "part=delivery" in r.url else None)
    run_source(shop, {"event": "Second Order", "userId": "u-2"})
    drain_deliveries(workspace.pk)
    page.clock.run_for(6_000)  # three poll ticks: none may replace the open row
    assert polls == []
    expect(opened).to_have_count(1)
    expect(rows).to_have_count(1)
    screenshot("deploys-04-delivery-open")

    page.click("#event-delivery details.event-json summary")
    page.clock.run_for(3_000)
    expect(rows).to_have_count(2)
    expect(page.locator("#event-delivery .live-on")).to_be_visible()


def test_a_rollback_is_confirmed_and_every_label_follows_without_a_reload(
    page,
    log_in,
    screenshot,
    workspace,
    start_worker,  # noqa: F811  (the fixture imported above)
):
    from tests.deploys.helpers import SOURCE_CODE, deploy_now
    from versioning.services import version_save

    start_worker()
    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    function, shop = make_source(workspace=workspace, name="Shop hooks")
    v2 = version_save(
        function=function, user=None, code=SOURCE_CODE + "// v2", base_version_id=None
    )
    deploy_now(function, v2)
    wait_for_worker()
    log_in("owner")

    page.goto(f"/w/{workspace.slug}/functions/{function.public_id}/deploys/")
    expect(page.locator("[data-deployed]")).to_have_text("v2")
    v1 = function.versions.get(number=1)
    page.select_option("#deploy-version", value=v1.public_id)
    page.click("#deploy-button")
    expect(page.locator(".rollback-confirm")).to_contain_text("Roll back to v1?")
    screenshot("deploys-05-rollback-confirm")
    page.click("#confirm-rollback")
    expect(page.locator("#deploy-status [data-status=succeeded]")).to_be_visible(timeout=20_000)
    # Without a reload: the summary, the instance's version and the timeline.
    expect(page.locator("[data-deployed]")).to_have_text("v1", timeout=10_000)
    expect(page.locator(f"[data-instance-version={shop.public_id}]")).to_have_text("v1")
    expect(page.locator("#deploy-timeline .badge-rollback")).to_have_count(1)
    expect(page.locator("#deploy-chooser .version-chip")).to_have_text("v1")
    screenshot("deploys-06-rolled-back")


def test_the_request_debugger_finds_a_request_and_opens_it(page, log_in, screenshot, workspace):
    from tests.deploys.helpers import drain_deliveries, run_source

    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    _, shop = make_source(workspace=workspace, name="Shop hooks")
    make_destination(workspace=workspace, sources=[shop], name="Warehouse")
    wanted = run_source(shop, {"event": "Order Placed", "userId": "u-42"})
    run_source(shop, {"event": "Cart Viewed", "userId": "u-43"})
    drain_deliveries(workspace.pk)
    log_in("owner")
    page.goto(f"/w/{workspace.slug}/instances/{shop.public_id}/")
    expect(page.locator("#request-log .request-row")).to_have_count(2)
    page.fill("#request-log input[name=q]", wanted.request_id[:10])
    page.press("#request-log input[name=q]", "Enter")
    expect(page.locator("#request-log .request-row")).to_have_count(1)
    page.click(f"#request-{wanted.request_id} summary")
    detail = page.locator(f"#request-{wanted.request_id} .request-detail")
    expect(detail).to_contain_text('"userId": "u-42"')
    expect(detail).to_contain_text("→ Warehouse")
    expect(detail).to_contain_text("token is ••••")
    screenshot("deploys-07-request-debugger")


def test_an_instance_s_metrics_are_charts_with_values_and_a_table(
    page, log_in, screenshot, workspace
):
    from django.utils import timezone

    from functions_ui.deploys import metrics
    from functions_ui.deploys.models import RunStatus

    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    source_source, shop = make_source(workspace=workspace, name="Shop hooks")
    function, warehouse = make_destination(workspace=workspace, sources=[shop], name="Warehouse")
    now = timezone.now()
    metrics.record(
        metrics.Outcome(function.pk, warehouse.public_id, status, ms, now)
        for status, ms in [(RunStatus.DELIVERED, 12)] * 9 + [(RunStatus.FAILED, 400)]
    )
    log_in("owner")
    page.goto(f"/w/{workspace.slug}/instances/{warehouse.public_id}/")
    card = page.locator("#instance-metrics")
    expect(card.locator("[data-total=delivered] strong")).to_have_text("9")
    expect(card.locator("[data-total=error_rate]")).to_have_text("10.0%")
    chart = card.locator("[data-chart=outcomes]")
    expect(chart.locator("canvas")).to_have_count(1)
    # Values on hover: uPlot's legend shows the numbers under the cursor.
    over = chart.locator(".u-over")
    box = over.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    expect(chart.locator(".u-legend")).to_contain_text("Delivered")
    expect(chart.locator(".u-legend .u-series:nth-child(2) .u-value")).to_have_text("9")
    page.click("#instance-metrics .metrics-ranges >> text=Last hour")
    expect(card.locator(".metrics-ranges .active")).to_have_text("Last hour")
    expect(page.locator("#instance-metrics [data-chart=outcomes] canvas")).to_have_count(1)
    page.click("#instance-metrics .metric-table summary")
    expect(page.locator("#instance-metrics .metric-table tbody")).to_contain_text("9")
    screenshot("deploys-08-metrics")


def test_a_paused_destination_is_seen_everywhere_and_resuming_delivers_what_it_held(
    page, log_in, screenshot, workspace
):
    from django.utils import timezone

    from functions_ui.deploys.health import health_evaluate
    from functions_ui.deploys.models import Delivery, RunStatus
    from tests.deploys.helpers import drain_deliveries, run_source

    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    _, shop = make_source(workspace=workspace, name="Shop hooks")
    rejecting = """
async function onTrack(event, settings) {
  if (event.properties.n < 0) throw new ValidationError('negative n');
}
"""
    warehouse_fn, warehouse = make_destination(
        workspace=workspace, sources=[shop], name="Warehouse", code=rejecting
    )
    now = timezone.now()
    for n in range(25):
        run_source(shop, {"event": "Refund", "n": -1 - n}, now=now)
    health_evaluate(now=now)
    for n in range(2):
        run_source(shop, {"event": "Order", "n": n}, now=now)
    log_in("owner")

    page.goto(f"/w/{workspace.slug}/functions/")
    expect(page.locator(".function-row", has_text=warehouse_fn.display_name)).to_contain_text(
        "‖ 1 paused"
    )
    screenshot("health-01-catalog")
    page.goto(f"/w/{workspace.slug}/instances/{warehouse.public_id}/")
    banner = page.locator("#instance-health")
    expect(banner).to_contain_text("Paused by the health check")
    expect(banner).to_contain_text("100% of 25 runs failed")
    expect(banner).to_contain_text("2 events held")
    screenshot("health-02-instance-paused")

    page.get_by_role("button", name="Resume and run held events").click()
    expect(page.get_by_text("Resumed: 2 held events run now.")).to_be_visible()
    expect(banner).to_have_count(0)
    assert drain_deliveries(workspace.pk, now=timezone.now()) == 2
    delivered = Delivery.objects.filter(destination=warehouse, status=RunStatus.DELIVERED)
    assert delivered.count() == 2
    page.goto(f"/w/{workspace.slug}/audit/")
    expect(page.locator("body")).to_contain_text("Instance health changed")
    screenshot("health-03-audit")


def test_a_delivery_s_details_show_what_the_insert_changed(page, log_in, screenshot, workspace):
    from tests.deploys.helpers import drain_deliveries, run_source

    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    _, shop = make_source(workspace=workspace, name="Shop hooks")
    _, warehouse = make_destination(workspace=workspace, sources=[shop], name="Warehouse")
    make_insert(workspace=workspace, destination=warehouse)
    run_source(shop, {"event": "Order Placed", "userId": "u-1"})
    drain_deliveries(workspace.pk)
    log_in("owner")
    page.goto(f"/w/{workspace.slug}/instances/{warehouse.public_id}/")
    page.click("#event-delivery details.delivery-debug summary")
    details = page.locator("#event-delivery details.delivery-debug[open]")
    expect(details.locator(".insert-diff .diff-insert")).to_have_count(2)
    expect(details.locator(".insert-diff .diff-insert").last).to_contain_text('"enriched": true')
    expect(details.locator(".attempts-table")).to_contain_text("Delivered")
    expect(page.locator("#event-delivery .live-paused")).to_be_visible()
    details.scroll_into_view_if_needed()
    screenshot("deploys-06-delivery-details")


def test_a_canary_is_started_watched_live_and_rolled_back(page, log_in, screenshot, workspace):
    from tests.deploys.helpers import drain_deliveries, run_source
    from versioning.services import version_save

    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    _, shop = make_source(workspace=workspace, name="Shop hooks")
    function, warehouse = make_destination(workspace=workspace, sources=[shop], name="Warehouse")
    version_save(
        function=function,
        user=None,
        code="async function onTrack(event) { throw new ValidationError('v2 refuses') }",
        base_version_id=None,
    )
    log_in("owner")
    page.clock.install()
    page.goto(f"/w/{workspace.slug}/instances/{warehouse.public_id}/")
    card = page.locator("#canary-card")
    card.get_by_label("Share of events in percent").fill("50")
    card.get_by_role("button", name="Start canary").click()
    expect(card).to_contain_text("v2 runs on 50 % of the events")

    for n in range(12):
        run_source(shop, {"event": "Order", "n": n})
    drain_deliveries(workspace.pk)
    page.clock.run_for(2_500)  # one poll of the live card
    canary_row = card.locator("tr[data-side=canary]")
    expect(canary_row).to_contain_text("100.0 %")
    expect(card.locator("tr[data-side=stable]")).to_contain_text("0.0 %")
    screenshot("deploys-09-canary-live")

    card.get_by_role("button", name="Roll back").click()
    expect(card).to_contain_text("Rolled back")
    expect(card).to_contain_text("rolled back by owner")
    page.goto(f"/w/{workspace.slug}/functions/{function.public_id}/deploys/")
    expect(page.locator(".canary-timeline")).to_contain_text("v2 on 50 % of Warehouse")
