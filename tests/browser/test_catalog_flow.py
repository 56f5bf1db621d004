import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from catalog.models import Function, ResourceType
from functions_ui.permissions.models import Role
from tests.factories import make_function, make_member, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_a_function_in_three_steps_and_find_it_in_the_catalog(page, log_in, screenshot):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    make_function(
        workspace=workspace, display_name="Existing Source", resource_type=ResourceType.SOURCE
    )

    log_in(user.username)
    expect(page.locator("h1")).to_have_text("Functions")
    screenshot("catalog")

    page.click("text=+ New Function")
    expect(page.locator(".stepper li.current")).to_contain_text("Select type")
    page.click(".type-card:has-text('Destination function')")

    expect(page.locator(".stepper li.current")).to_contain_text("Build function")
    # The real code editor, with the template in it (the textarea behind it is what is posted).
    editor = page.locator(".create-editor .cm-content")
    expect(editor).to_contain_text("async function onTrack(event, settings)")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text("async function onTrack(event, settings) {\n  return event;\n}\n")
    screenshot("create-step-2-editor")
    page.click("text=Next: Configure & create")

    expect(page.locator(".stepper li.current")).to_contain_text("Configure")
    # The input stops at 120 characters; the server's own check is covered by the view tests.
    expect(page.locator("#id_display_name")).to_have_attribute("maxlength", "120")
    page.click("text=Create Function")
    expect(page.locator(".error")).to_contain_text("Give the function a name.")

    page.fill("#id_display_name", "Warehouse Mirror")
    page.fill("#id_description", "Copies events to the warehouse.")
    page.click("text=Create Function")
    # Created, the function opens in its editor.
    expect(page.locator("h1")).to_contain_text("Warehouse Mirror")
    expect(page.locator(".editor-main .cm-content")).to_contain_text("return event;")
    expect(page.locator(".message-success")).to_contain_text("created")

    page.click("nav.topnav >> text=Functions")
    row = page.locator(".function-row", has_text="Warehouse Mirror")
    expect(row).to_contain_text("Destination")
    expect(row).to_contain_text(f"by {user.username}")

    function = Function.objects.get(display_name="Warehouse Mirror")
    assert function.code == "async function onTrack(event, settings) {\n  return event;\n}\n"


def test_catalog_tabs_and_search_update_in_place(page, log_in, screenshot):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY)
    make_function(
        workspace=workspace, display_name="Stripe Hooks", resource_type=ResourceType.SOURCE
    )
    make_function(
        workspace=workspace, display_name="Mailchimp Sync", resource_type=ResourceType.DESTINATION
    )
    make_function(
        workspace=workspace,
        display_name="PII Scrubber",
        resource_type=ResourceType.INSERT_DESTINATION,
    )

    log_in(user.username)
    page.click(".tab:has-text('Source')")
    expect(page.locator(".function-row")).to_have_count(1)
    expect(page.locator(".function-row")).to_contain_text("Stripe Hooks")
    assert "type=source" in page.url

    page.click(".tab:has-text('All')")
    expect(page.locator(".function-row")).to_have_count(3)
    page.fill("#catalog-q", "mail")
    expect(page.locator(".function-row")).to_have_count(1)
    expect(page.locator(".function-row")).to_contain_text("Mailchimp Sync")
    assert "q=mail" in page.url
    create = page.get_by_role("button", name="+ New Function")
    expect(create).to_be_disabled()
    expect(create).to_have_accessible_description(
        "Only Workspace Owners and Functions Admins can create functions."
    )
    screenshot("catalog-search")


def test_a_long_name_without_spaces_widens_no_page(page, log_in):
    from catalog.models import ResourceType
    from functions_ui.permissions.models import Role
    from tests.factories import make_function, make_member, make_workspace

    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    name = "A" * 120
    function = make_function(
        workspace=workspace, display_name=name, resource_type=ResourceType.DESTINATION
    )
    log_in(user.username)
    for url in (
        "/w/acme/functions/",
        f"/w/acme/functions/{function.public_id}/",
        f"/w/acme/functions/{function.public_id}/edit/",
        f"/w/acme/functions/{function.public_id}/deploys/",
    ):
        page.goto(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (url, overflow)
    page.goto("/w/acme/functions/")
    expect(page.locator(".function-name-text").first).to_have_attribute("title", name)


def test_the_catalog_shows_each_function_s_last_day(page, log_in, screenshot):
    from django.utils import timezone

    from functions_ui.deploys import metrics
    from functions_ui.deploys.models import RunStatus
    from functions_ui.permissions.models import Role
    from tests.deploys.helpers import make_source
    from tests.factories import make_member, make_workspace

    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    function, source = make_source(workspace=workspace, display_name="Zendesk Tickets")
    now = timezone.now()
    metrics.record(
        metrics.Outcome(
            function.pk, source.public_id, RunStatus.DELIVERED, 2.0, now - timedelta(hours=h)
        )
        for h in range(24)
        for _ in range(h % 5 + 1)
    )
    log_in(user.username)
    page.goto("/w/acme/functions/")
    row = page.locator(".function-row", has_text="Zendesk Tickets")
    expect(row.locator("svg.sparkline polyline")).to_have_count(1)
    expect(row.locator("[data-events]")).to_have_text("70")
    screenshot("catalog-activity")


def test_search_urls_name_each_parameter_once(page, log_in):
    from urllib.parse import parse_qs, urlparse

    from functions_ui.permissions.models import Role
    from tests.factories import make_function, make_member, make_workspace

    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    make_function(workspace=workspace, display_name="Zendesk Tickets")
    log_in(user.username)
    page.goto("/w/acme/functions/?type=destination")
    for text in ("Zen", "Zendesk"):
        page.fill("#catalog-q", text)
        page.press("#catalog-q", "Enter")
        expect(page).to_have_url(re.compile(f"q={text}(&|$)"))
    query = parse_qs(urlparse(page.url).query)
    assert query == {"q": ["Zendesk"], "type": ["destination"]}


def test_catalog_search_says_it_is_searching(page, log_in):
    import re

    from functions_ui.permissions.models import Role
    from tests.factories import make_function, make_member, make_workspace

    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    make_function(workspace=workspace, display_name="Stripe Hooks")
    make_function(workspace=workspace, display_name="Mailer")
    log_in(user.username)
    indicator = page.locator("#catalog-searching")
    expect(indicator).to_be_hidden()
    held = []
    # The answer waits here until the test lets it go.
    page.route(re.compile(r".*/functions/\?q=str.*"), lambda route: held.append(route))
    page.fill("#catalog-q", "str")
    expect(indicator).to_be_visible()
    expect(indicator).to_contain_text("Searching…")
    held[0].continue_()
    expect(page.locator(".function-row")).to_have_count(1)
    expect(indicator).to_be_hidden()
