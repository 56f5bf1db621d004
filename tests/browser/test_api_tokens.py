"""An owner creates an API token, sees it once, uses it, and revokes it; the docs page."""

from __future__ import annotations

import pytest
import redis
from playwright.sync_api import expect

from functions_ui.permissions.models import Role
from tests.browser.conftest import SCREENSHOTS
from tests.factories import make_function, make_member, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _api_redis(settings, redis_server):
    settings.REDIS_URL = redis_server.url
    redis.Redis.from_url(redis_server.url).flushdb()


def test_owner_creates_uses_and_revokes_a_token(page, log_in, screenshot):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    owner = make_member(workspace=workspace, role=Role.WORKSPACE_OWNER)
    function = make_function(workspace=workspace, resource_type="SOURCE", display_name="Hook")

    log_in(owner.username)
    page.goto("/w/acme/functions/")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()
    page.fill("#id_description", "CI deploys")
    page.get_by_role("button", name="Create token").click()

    secret = page.locator("#new-token")
    expect(secret).to_be_visible()
    raw = secret.input_value()
    assert raw.startswith("fui_")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("[data-copy='#new-token']")
    expect(page.locator("[data-copy='#new-token']")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == raw
    screenshot("api-token-created")

    answer = page.request.get(
        "/api/v1/functions?resourceType=SOURCE", headers={"Authorization": f"Bearer {raw}"}
    )
    assert answer.status == 200
    assert answer.json()["data"]["functions"][0]["id"] == function.public_id
    assert answer.headers["x-ratelimit-remaining"]

    # Shown once: the list has only the hint, and now the last use.
    page.goto("/w/acme/settings/api-tokens/")
    expect(page.locator("#new-token")).to_have_count(0)
    assert raw not in page.content()
    row = page.locator(".token-row")
    expect(row).to_contain_text("CI deploys")
    expect(row).to_contain_text("ago")
    screenshot("api-token-list")

    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(".token-row")).to_contain_text("revoked")
    refused = page.request.get(
        "/api/v1/functions?resourceType=SOURCE", headers={"Authorization": f"Bearer {raw}"}
    )
    assert refused.status == 401
    assert refused.json()["errors"][0]["type"] == "Unauthorized"
    screenshot("api-token-revoked")


def test_the_docs_page_reads_without_any_cdn(page, screenshot):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/docs/")
    expect(page.locator("#listFunctions")).to_contain_text("/functions")
    expect(page.locator("#schema-FunctionV1")).to_contain_text("isLatestVersion")
    screenshot("api-docs")
    page.screenshot(path=str(SCREENSHOTS / "api-docs-top.png"))
    base = page.url.split("/api/")[0]
    assert all(url.startswith(base) for url in requested)
