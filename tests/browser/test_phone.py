"""On a phone (390 × 844) no main page scrolls sideways, and the navigation stays reachable."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from functions_ui.permissions.models import Role
from tests.browser.conftest import SCREENSHOTS
from tests.deploys.helpers import drain_deliveries, make_destination, make_source, run_source
from tests.factories import PASSWORD, make_function, make_member, make_user
from versioning.services import version_save

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def test_no_main_page_scrolls_sideways_on_a_phone(browser, live_server, workspace):
    owner = make_user(username="owner")
    make_member(workspace=workspace, role=Role.WORKSPACE_OWNER, user=owner)
    make_function(workspace=workspace, display_name="A" * 120)  # a long name without spaces
    _, shop = make_source(workspace=workspace, name="Shop hooks")
    function, warehouse = make_destination(workspace=workspace, sources=[shop], name="Warehouse")
    run_source(shop, {"event": "Order Completed", "userId": "user-with-a-long-identifier-1234"})
    drain_deliveries(workspace.pk)
    version_save(function=function, user=None, code=function.code + "\n// v2", base_version_id=None)

    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    base = f"/w/{workspace.slug}"
    pages = {
        "catalog": f"{base}/functions/",
        "function": function.get_absolute_url(),
        "editor": f"{base}/functions/{function.public_id}/edit/",
        "compare": f"{base}/functions/{function.public_id}/versions/compare/",
        "deploys": f"{base}/functions/{function.public_id}/deploys/",
        "source instance": f"{base}/instances/{shop.public_id}/",
        "destination instance": f"{base}/instances/{warehouse.public_id}/",
        "members": f"{base}/members/",
        "audit": f"{base}/audit/",
        "api tokens": f"{base}/settings/api-tokens/",
        "settings": f"{base}/settings/health/",
    }
    wide = {}
    for name, url in pages.items():
        page.goto(url)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[name] = width
        nav = page.locator(".topnav")
        expect(nav.get_by_role("link", name="Functions", exact=True)).to_be_in_viewport()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name in ("catalog", "function", "editor", "destination instance"):
        page.goto(pages[name])
        page.wait_for_load_state("networkidle")
        page.screenshot(
            path=str(SCREENSHOTS / f"phone-{name.replace(' ', '-')}.png"), full_page=True
        )
    context.close()
    assert wide == {}, f"pages wider than the phone: {wide}"
