"""A Functions admin turns saved payloads into tests, breaks the code, and is told how."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from functions_ui.editor.models import SavedPayload
from tests.browser.test_editor import open_editor, replace_code

pytestmark = pytest.mark.django_db(transaction=True)

CODE = """async function onTrack(event, settings) {
  await fetch('https://api.example.com/t', { method: 'POST',
    body: JSON.stringify({ plan: event.properties.plan }) });
}
"""


def test_expect_this_output_then_a_change_fails_the_tests(page, log_in, screenshot):
    from catalog.models import ResourceType

    function = open_editor(page, log_in, resource_type=ResourceType.DESTINATION, code=CODE)
    SavedPayload.objects.create(
        function=function,
        name="pro plan",
        kind="event",
        data={"type": "track", "event": "Signed Up", "properties": {"plan": "pro"}},
    )
    page.reload()
    row = page.locator(".payload-list li", has_text="pro plan")
    row.get_by_role("button", name="Expect this output").click()
    expect(row.locator(".badge", has_text="test")).to_be_visible()

    replace_code(page, CODE.replace("plan: event", "tier: event"))
    page.get_by_role("button", name="Run tests").click()
    result = page.locator("#suite-result")
    expect(result).to_contain_text("✗ 1 of 1 failed")
    expect(result).to_contain_text('requests[0].body.plan: missing (expected "pro")')
    screenshot("suites-01-run-tests")

    # Saved, the version's badge in History runs the suite on demand (no worker here).
    page.keyboard.press("Control+s")
    expect(page.locator("#save-status")).to_contain_text("2")
    page.locator(".panel-tab[data-tab=history]").click()
    latest = function.versions.order_by("-number").first()
    entry = page.locator(f"#version-{latest.id}")
    expect(entry).to_contain_text("LATEST")
    entry.get_by_role("button", name="Run tests").click()
    expect(entry).to_contain_text("✗ tests 1 of 1 failed")
    screenshot("suites-02-history-badge")


def test_a_failing_save_and_deploy_is_refused_then_an_owner_deploys_anyway(
    page, log_in, screenshot, workspace
):
    from functions_ui.permissions.models import Role
    from functions_ui.suites import services
    from tests.deploys.helpers import make_destination, make_source
    from tests.factories import make_member, make_user

    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    workspace.block_failing_deploys = True
    workspace.save()
    _, source = make_source(workspace=workspace)
    function, _ = make_destination(workspace=workspace, sources=[source], code=CODE)
    payload = SavedPayload.objects.create(
        function=function,
        name="pro plan",
        kind="event",
        data={"type": "track", "event": "Signed Up", "properties": {"plan": "pro"}},
    )
    services.expectation_capture(payload=payload, code=CODE)
    log_in("owner")
    page.goto(f"/w/{workspace.slug}/functions/{function.public_id}/edit/")
    replace_code(page, CODE.replace("plan: event", "tier: event"))
    page.click("#save-deploy-button")
    page.click("#confirm-deploy")
    status = page.locator("#deploy-status")
    expect(status).to_contain_text("Not deployed. This code fails 1 of 1 tests (pro plan)")
    expect(status).to_contain_text('requests[0].body.plan: missing (expected "pro")')
    screenshot("suites-03-deploy-blocked")
    assert function.versions.count() == 1
    page.click("#deploy-anyway")
    expect(page.locator("#deploy-status [data-status]")).to_be_visible()
    assert function.versions.count() == 2


def test_a_smoke_test_fails_code_that_throws_and_says_what_it_checked(page, log_in, screenshot):
    from catalog.models import ResourceType

    function = open_editor(page, log_in, resource_type=ResourceType.DESTINATION, code=CODE)
    for name in ("free plan", "pro plan"):
        SavedPayload.objects.create(
            function=function,
            name=name,
            kind="event",
            data={"type": "track", "event": "Signed Up", "properties": {"plan": name[:-5]}},
        )
    page.reload()
    free = page.locator(".payload-list li", has_text="free plan")
    free.get_by_role("button", name="Expect this output").click()
    expect(free.get_by_role("button", name="Update expected")).to_be_visible()
    pro = page.locator(".payload-list li", has_text="pro plan")
    pro.get_by_role("button", name="Must run without error").click()
    expect(pro.locator(".badge", has_text="smoke test")).to_be_visible()
    expect(pro.get_by_role("button", name="Expect this output")).to_be_visible()

    replace_code(page, "async function onTrack(event) {\n  throw new Error('broken')\n}\n")
    page.get_by_role("button", name="Run tests").click()
    result = page.locator("#suite-result")
    expect(result).to_contain_text("✗ 2 of 2 failed")
    expect(result.locator("li", has_text="pro plan").first).to_contain_text(
        "must run without error"
    )
    expect(result).to_contain_text("expected the run to succeed, got bad_request (Error: broken)")
    expect(result.locator("li", has_text="free plan").first).to_contain_text(
        "checks 2 expectations (status, requests)"
    )
    screenshot("suites-04-smoke-test")
