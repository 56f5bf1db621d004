"""A reviewer sees what a change does: on the compare page and in the Save & Deploy dialog."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from functions_ui.editor.models import SavedPayload
from functions_ui.permissions.models import Role
from tests.deploys.helpers import deploy_now, make_destination, make_source
from tests.factories import make_member, make_user
from versioning.selectors import latest_version
from versioning.services import version_save

pytestmark = pytest.mark.django_db(transaction=True)

V1 = """async function onTrack(event, settings) {
  await fetch('https://api.example.com/t',
    { method: 'POST', body: JSON.stringify({ plan: event.properties.plan }) });
}
"""
V2 = """async function onTrack(event, settings) {
  if (!event.properties.plan) throw new ValidationError('no plan');
  await fetch('https://api.example.com/t',
    { method: 'POST', body: JSON.stringify({ tier: event.properties.plan }) });
}
"""


def test_the_behaviour_of_a_change_is_shown_before_it_is_restored_or_deployed(
    page, log_in, screenshot, workspace
):
    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    _, source = make_source(workspace=workspace)
    function, _ = make_destination(workspace=workspace, sources=[source], code=V1)
    deploy_now(function, latest_version(function=function))
    for name, properties in (("pro plan", {"plan": "pro"}), ("no plan", {})):
        SavedPayload.objects.create(
            function=function,
            name=name,
            kind="event",
            data={"type": "track", "event": "Signed Up", "properties": properties},
        )
    version_save(function=function, user=None, code=V2, base_version_id=None)
    log_in("owner")

    page.goto(f"/w/{workspace.slug}/functions/{function.public_id}/versions/compare/")
    summary = page.locator("#behaviour .behaviour-summary")
    expect(summary).to_contain_text("v2 → v1 changes 2 of 2 saved payloads.")
    row = page.locator(".behaviour-table > tbody > tr", has_text="no plan")
    expect(row).to_contain_text("newly passing")
    row.locator("summary").click()
    expect(row.locator(".json-diff .diff-delete")).to_contain_text(
        ["message_rejected", "ValidationError: no plan"]
    )
    screenshot("behaviour-01-compare")

    # Save & Deploy: the editor's code against DEPLOYED (v1), before anything is saved.
    page.goto(f"/w/{workspace.slug}/functions/{function.public_id}/edit/")
    page.click("#save-deploy-button")
    dialog = page.locator(".deploy-dialog")
    expect(dialog.locator(".behaviour-summary")).to_contain_text(
        "v1 (DEPLOYED) → your code changes 2 of 2 saved payloads."
    )
    expect(dialog.locator(".behaviour-table")).to_contain_text("newly failing")
    screenshot("behaviour-02-save-and-deploy")


def test_replay_real_events_on_the_instance_page(page, log_in, screenshot, workspace):
    from tests.deploys.helpers import drain_deliveries, run_source

    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    _, source = make_source(workspace=workspace)
    function, warehouse = make_destination(workspace=workspace, sources=[source], code=V1)
    for plan in ("pro", None, "team"):
        run_source(source, {"event": "Signed Up", "plan": plan})
    drain_deliveries(workspace.pk)
    version_save(function=function, user=None, code=V2, base_version_id=None)
    log_in("owner")
    page.goto(f"/w/{workspace.slug}/instances/{warehouse.public_id}/")
    page.locator("#replay-card select[name=version]").select_option(label="v2 · LATEST")
    page.click("#replay-button")
    summary = page.locator(".replay-summary")
    expect(summary.locator("[data-replay=different]")).to_have_text("3")
    expect(summary).to_contain_text("The last 3 events: v1 (runs here) against v2")
    page.locator("#replay-result .behaviour-details summary").first.click()
    screenshot("behaviour-03-replay")
