"""On a phone (390 × 844) no main page scrolls sideways, and the navigation stays reachable."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.pages import main_pages
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def test_no_main_page_scrolls_sideways_on_a_phone(browser, live_server, workspace):
    pages = main_pages(workspace)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
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
