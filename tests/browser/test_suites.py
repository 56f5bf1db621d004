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
