import re

import pytest
from playwright.sync_api import expect

from catalog.models import ResourceType
from functions_ui.permissions.models import Role
from tests.factories import make_function, make_member, make_workspace
from versioning.selectors import latest_version

pytestmark = pytest.mark.django_db(transaction=True)

CODE = """async function onTrack(event, settings) {
  console.log('region is', settings.region);
  if (event.properties.fail) {
    throw new Error('asked to fail');
  }
  return { ...event, region: settings.region };
}
"""


def replace_code(page, code):
    editor = page.locator(".editor-main .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    # CodeMirror auto-indents and closes brackets as a person types; insert the text as a paste.
    page.keyboard.insert_text(code)


def open_editor(page, log_in, resource_type=ResourceType.INSERT_DESTINATION, **function_fields):
    """Sign in as a Functions Admin of a new workspace and open a new function's editor."""
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    function = make_function(
        workspace=workspace, display_name="Enricher", resource_type=resource_type, **function_fields
    )
    log_in(user.username)
    page.goto(f"/w/acme/functions/{function.public_id}/edit/")
    return function


def test_edit_add_a_setting_run_and_save(page, log_in, screenshot):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    function = make_function(
        workspace=workspace, display_name="Enricher", resource_type=ResourceType.INSERT_DESTINATION
    )

    log_in(user.username)
    page.goto(f"/w/acme/functions/{function.public_id}/edit/")
    expect(page.locator(".editor-main .cm-editor")).to_be_visible()
    expect(page.locator("#dirty-marker")).to_be_hidden()

    replace_code(page, CODE)
    expect(page.locator("#dirty-marker")).to_be_visible()

    page.click(".panel-tab[data-tab=settings]")
    page.fill("#settings-panel input[name=label]", "Region")
    expect(page.locator("#settings-panel .name-preview")).to_contain_text("settings.region")
    page.check("#settings-panel input[name=required]")
    page.click("#settings-panel button:has-text('+ Add setting')")
    expect(page.locator(".setting-item")).to_contain_text("settings.region")

    page.click(".panel-tab[data-tab=test]")
    expect(page.locator("#run-button")).to_be_disabled()
    expect(page.locator("#run-disabled-reason")).to_contain_text(
        "Fill in the test value of Region."
    )
    page.fill("#test-values input[name=value]", "eu-west-1")
    page.click("#test-values button:has-text('Save')")
    expect(page.locator("#run-button")).to_be_enabled()

    page.click("#run-button")
    result = page.locator("#run-result")
    expect(result.locator(".status-badge")).to_have_text("Success")
    expect(result).to_contain_text("region is eu-west-1")
    expect(result).to_contain_text('"region": "eu-west-1"')
    screenshot("editor-run-success")

    event_editor = page.locator("#event-input .cm-content")
    event_editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text('{"type": "track", "event": "X", "properties": {"fail": true}}')
    page.click("#run-button")
    expect(result.locator(".status-badge")).to_have_text("Bad Request")
    expect(result).to_contain_text("asked to fail")
    expect(page.locator(".editor-main .cm-error-line")).to_have_count(1)
    expect(page.locator(".editor-main .cm-error-line")).to_contain_text(
        "throw new Error('asked to fail');"
    )
    screenshot("editor-run-error")

    page.locator(".editor-main .cm-content").click()
    page.keyboard.press("Control+s")
    expect(page.locator("#save-status")).to_contain_text("Saved as version 2")
    expect(page.locator("#dirty-marker")).to_be_hidden()
    assert latest_version(function=function).code == CODE


def test_invalid_json_keeps_run_disabled_with_the_reason(page, log_in):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    function = make_function(workspace=workspace, display_name="Mailer")
    log_in(user.username)
    page.goto(f"/w/acme/functions/{function.public_id}/edit/")
    expect(page.locator("#run-button")).to_be_enabled()
    page.locator("#event-input .cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text('{"type": ')
    expect(page.locator("#run-button")).to_be_disabled()
    expect(page.locator("#run-disabled-reason")).to_contain_text("The event is not valid JSON")


def test_template_replaces_code_after_confirmation(page, log_in):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    function = make_function(workspace=workspace, display_name="Mailer", code="// mine\n")
    log_in(user.username)
    page.goto(f"/w/acme/functions/{function.public_id}/edit/")
    page.click(".panel-tab[data-tab=templates]")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("[data-starter='starter-destination-batch']")
    expect(page.locator(".editor-main .cm-content")).to_contain_text("// mine")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-starter='starter-destination-batch']")
    expect(page.locator(".editor-main .cm-content")).to_contain_text(
        "async function onBatch(events, settings)"
    )
    expect(page.locator("#dirty-marker")).to_be_visible()


def test_read_only_member_sees_the_editor_without_save(page, log_in, screenshot):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY)
    function = make_function(workspace=workspace, display_name="Mailer")
    log_in(user.username)
    page.goto(f"/w/acme/functions/{function.public_id}/edit/")
    expect(page.locator(".editor-main .cm-content")).to_have_attribute("contenteditable", "false")
    expect(page.locator("#save-button")).to_have_count(0)
    reason = "Only Workspace Owners and Functions Admins can edit functions."
    for name in ("Save & Deploy", "Save"):
        button = page.locator(".editor-actions").get_by_role("button", name=name, exact=True)
        expect(button).to_be_disabled()
        expect(button).to_have_accessible_description(reason)
    screenshot("editor-read-only")


def test_side_requests_of_the_test_panel_do_not_carry_the_code(page, log_in):
    """Only Run sends the code: the sample switch (a GET) stays short, whatever the code's size
    (gunicorn refuses request lines past 4 KB with 414)."""
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    big = "// " + "x" * 6000 + "\n" + CODE
    function = make_function(
        workspace=workspace, display_name="Big", resource_type=ResourceType.DESTINATION, code=big
    )
    log_in(user.username)
    page.goto(f"/w/acme/functions/{function.public_id}/edit/")
    expect(page.locator(".editor-main .cm-editor")).to_be_visible()
    with page.expect_request(re.compile(r"/sample")) as sample:
        page.select_option("#sample-type", "identify")
    assert "code=" not in sample.value.url
    assert len(sample.value.url) < 1000


def test_a_source_gets_its_test_url_on_request_and_a_captured_webhook_fills_the_builder(
    page, log_in, screenshot, live_server
):
    import json
    import urllib.request

    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    function = make_function(
        workspace=workspace, display_name="Zendesk", resource_type=ResourceType.SOURCE
    )
    log_in(user.username)
    page.goto(f"/w/acme/functions/{function.public_id}/edit/")
    page.click(".panel-tab[data-tab=test]")
    expect(page.locator("#capture-url")).to_have_count(0)
    page.click("#capture-create")
    url = page.locator("#capture-url")
    expect(url).to_have_value(re.compile(r"/hooks/test/[\w-]+/$"))
    expect(page.locator("#capture-status")).to_contain_text("Waiting for a request")

    request = urllib.request.Request(
        url.input_value(),
        data=json.dumps({"ticket": "T-4711"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.load(answer) == {"status": "captured"}
    expect(page.locator("#request-builder")).to_contain_text("T-4711", timeout=10_000)
    screenshot("editor-capture")


def test_the_version_note_goes_with_its_save_and_the_event_box_stays_an_editor(
    page, log_in, screenshot
):
    function = open_editor(page, log_in)
    expect(page.locator(".editor-main .cm-editor")).to_be_visible()

    replace_code(page, CODE)
    page.fill("#version-note", "renamed the handler")
    page.click("#save-button")
    expect(page.locator("#save-status")).to_contain_text("Saved as version 2")
    expect(page.locator("#version-note")).to_have_value("")
    replace_code(page, CODE + "\n// again\n")
    page.click("#save-button")
    expect(page.locator("#save-status")).to_contain_text("Saved as version 3")
    notes = list(function.versions.order_by("number").values_list("note", flat=True))
    assert notes[1:] == ["renamed the handler", ""]

    # Another sample event replaces the event box; it is still a code editor, not a textarea.
    page.click(".panel-tab[data-tab=test]")
    expect(page.locator("#event-input .cm-editor")).to_be_visible()
    page.select_option("#sample-type", "identify")
    expect(page.locator("#event-input .cm-content")).to_contain_text('"identify"')
    expect(page.locator("#event-input .cm-editor")).to_have_count(1)
    expect(page.locator("#event-input textarea#event")).to_be_hidden()


def test_a_save_conflict_offers_keep_mine_load_theirs_and_close(page, log_in, screenshot):
    from versioning.services import version_save

    function = open_editor(page, log_in)
    expect(page.locator(".editor-main .cm-editor")).to_be_visible()
    theirs = CODE + "\n// theirs\n"
    version_save(function=function, user=None, code=theirs, base_version_id=None)  # a colleague

    replace_code(page, CODE + "\n// mine\n")
    page.click("#save-button")
    conflict = page.locator(".conflict")
    expect(conflict).to_contain_text("Not saved")
    page.click("#conflict-close")
    expect(conflict).to_have_count(0)

    page.click("#save-button")
    expect(conflict).to_be_visible()
    screenshot("editor-conflict")
    page.click("#conflict-load-theirs")
    expect(conflict).to_have_count(0)
    expect(page.locator(".editor-main .cm-content")).to_contain_text("// theirs")
    page.click("#save-button")
    expect(page.locator("#save-status")).to_contain_text("No changes to save")
    assert function.versions.count() == 2


def test_saving_code_that_cannot_run_marks_the_line(page, log_in, screenshot):
    open_editor(page, log_in)
    expect(page.locator(".editor-main .cm-editor")).to_be_visible()
    replace_code(page, "async function onTrack(event) {\n  return event +;\n}\n")
    page.click("#save-button")
    expect(page.locator("#save-status")).to_contain_text("Saved as version 2")
    expect(page.locator("#save-status .status-warning")).to_contain_text("line 2")
    expect(page.locator(".editor-main .cm-error-line")).to_have_count(1)
    screenshot("editor-save-warning")


def test_run_uses_the_test_value_on_screen_even_before_its_save(page, log_in):
    from tests.factories import make_setting

    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    function = make_function(
        workspace=workspace,
        display_name="Enricher",
        resource_type=ResourceType.INSERT_DESTINATION,
        code=CODE,
    )
    make_setting(function=function, name="region", label="Region", required=False)
    log_in(user.username)
    page.goto(f"/w/acme/functions/{function.public_id}/edit/")
    page.click(".panel-tab[data-tab=test]")
    page.fill("#test-values input[name=value]", "ap-south-1")  # typed, not saved
    page.click("#run-button")
    expect(page.locator("#run-output")).to_contain_text("region is ap-south-1", timeout=10_000)
    setting = function.settings.get()
    setting.refresh_from_db()
    assert setting.test_value == "ap-south-1"  # saved on the way


def test_the_panel_tabs_are_a_tab_list_the_arrow_keys_move_through(page, log_in):
    open_editor(page, log_in)
    tabs = page.get_by_role("tablist", name="Editor panels").get_by_role("tab")
    expect(tabs).to_have_count(4)
    test_tab = page.get_by_role("tab", name="Test")
    expect(test_tab).to_have_attribute("aria-selected", "true")
    test_tab.focus()
    page.keyboard.press("ArrowRight")
    settings = page.get_by_role("tab", name="Settings")
    expect(settings).to_be_focused()
    expect(settings).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Settings")).to_be_visible()
    expect(test_tab).to_have_attribute("tabindex", "-1")
    page.keyboard.press("End")
    expect(page.get_by_role("tab", name="History")).to_be_focused()
    page.keyboard.press("ArrowRight")  # wraps round
    expect(test_tab).to_be_focused()
    expect(page.get_by_role("tabpanel", name="Test")).to_be_visible()


def test_run_shows_its_progress_and_can_be_cancelled(page, log_in):
    from catalog.models import ResourceType

    slow = """async function onTrack(event, settings) {
  const end = Date.now() + 3000;
  while (Date.now() < end) {}
  return event;
}
"""
    open_editor(page, log_in, resource_type=ResourceType.DESTINATION, code=slow)
    page.get_by_role("button", name="▶ Run").click()
    progress = page.locator("#run-output .run-progress")
    expect(progress).to_contain_text("Running…")
    expect(page.locator("#run-elapsed")).not_to_have_text("Running… 0.0 s")  # it counts up
    page.get_by_role("button", name="Cancel").click()
    expect(progress).to_contain_text("Cancelled: no result is shown.")
    expect(page.locator("#run-cancel")).to_have_count(0)
    expect(page.locator("#run-result")).to_have_count(0)


def test_a_template_adds_its_test_payloads_and_settings(page, log_in, screenshot):
    from catalog.models import ResourceType

    function = open_editor(page, log_in, resource_type=ResourceType.DESTINATION)
    page.get_by_role("tab", name="Templates").click()
    starter = page.locator(".starter", has_text="Slack Notifications")
    starter.get_by_role("button", name="Add its test payloads and settings").click()
    expect(starter).to_contain_text("Added 1 test payload and the settings webhookUrl, events.")
    screenshot("editor-templates-extras")
    page.get_by_role("tab", name="Test").click()
    expect(page.locator("#saved-payloads")).to_contain_text("Slack Notifications: Order completed")
    expect(page.locator("#test-values")).to_contain_text("webhookUrl")
    assert function.saved_payloads.count() == 1
