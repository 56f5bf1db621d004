"""A workspace owner sets the health check's thresholds, and sees what is not healthy now."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from functions_ui.deploys.models import Health, SourceInstance
from functions_ui.permissions.models import Role
from tests.deploys.helpers import make_source
from tests.factories import make_member, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_sets_the_thresholds_and_sees_the_paused_instances(
    page, log_in, screenshot, workspace
):
    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    _, source = make_source(workspace=workspace, name="Shop hooks")
    SourceInstance.objects.filter(pk=source.pk).update(
        health=Health.PAUSED, health_reason="90% of 40 runs failed in the 5 minutes to 12:00 UTC."
    )
    log_in("owner")
    page.goto(f"/w/{workspace.slug}/functions/")
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.locator("#unhealthy")).to_contain_text("Shop hooks")
    expect(page.locator("#unhealthy")).to_contain_text("paused")

    page.get_by_label("Degraded at (% errors)").fill("40")
    page.get_by_label("Paused at (% errors)").fill("30")
    page.get_by_role("button", name="Save health check").click()
    expect(page.get_by_role("alert")).to_contain_text("Pausing needs at least")
    screenshot("health-04-thresholds-error")
    page.get_by_label("Paused at (% errors)").fill("0")
    page.get_by_role("button", name="Save health check").click()
    expect(page.get_by_text("Health check saved.")).to_be_visible()
    expect(page.get_by_label("Paused at (% errors)")).to_have_value("0")
    workspace.refresh_from_db()
    assert (workspace.health_degraded_percent, workspace.health_pause_percent) == (40, 0)
    screenshot("health-05-thresholds-saved")
