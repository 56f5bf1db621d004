import pytest
from django.urls import reverse
from playwright.sync_api import expect

from functions_ui.permissions.models import Role
from tests.factories import make_function, make_member, make_workspace
from versioning.services import version_mark_deployed, version_save

pytestmark = pytest.mark.django_db(transaction=True)

V1 = """async function onTrack(event, settings) {
  const endpoint = 'https://example.com/track';
  await fetch(endpoint, { method: 'POST', body: JSON.stringify(event) });
}
""" + "".join(f"// padding line {n}\n" for n in range(30))

V2 = V1.replace("example.com/track", "api.example.com/v2/track").replace(
    "// padding line 29\n", "// padding line 29\nconsole.log('<b>sent</b>');\n"
)


def test_history_compare_restore_and_undo(page, log_in, screenshot, live_server):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    function = make_function(workspace=workspace, display_name="Mirror", code=V1, user=user)
    version_save(function=function, user=user, code=V2, base_version_id=None, note="New endpoint")
    version_mark_deployed(version=function.versions.get(number=2))
    history_url = reverse("versioning:history", args=[workspace.slug, function.public_id])

    log_in(user.username)
    page.goto(history_url)
    entries = page.locator(".version-entry")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_contain_text("v2")
    expect(entries.nth(0).locator(".vlabel-latest")).to_have_text("LATEST")
    expect(entries.nth(0).locator(".vlabel-deployed")).to_have_text("DEPLOYED")
    expect(entries.nth(0)).to_contain_text("New endpoint")
    screenshot("versioning-history")

    # Select v1: compared with LATEST, LATEST on the left.
    entries.nth(1).locator("text=Compare with LATEST").click()
    expect(page.locator("h1")).to_have_text("Compare v2 with v1")
    if page.locator("table.diff-unified").count():
        page.click("[data-diff-toggle]")
    expect(page.locator("table.diff-split")).to_be_visible()
    expect(page.locator(".diff-stats")).to_contain_text("+1")
    expect(page.locator(".diff-stats")).to_contain_text("−2")
    expect(page.locator("mark.dl-del").first).to_be_visible()
    expect(page.locator(".diff-code", has_text="<b>sent</b>")).to_have_count(1)
    screenshot("versioning-compare-split")

    # Expand a collapsed stretch in place.
    before = page.locator("table.diff tbody tr").count()
    page.locator(".diff-collapsed a").first.click()
    expect(page.locator("table.diff tbody tr")).not_to_have_count(before)
    expect(page.locator(".diff-code", has_text="padding line 10").first).to_be_visible()

    # The key s switches to unified, and the choice is remembered.
    page.keyboard.press("s")
    expect(page.locator("table.diff-unified")).to_be_visible()
    page.keyboard.press("n")
    expect(page.locator("tr.diff-current")).to_have_count(1)
    screenshot("versioning-compare-unified")
    page.goto(history_url)
    page.locator(".version-entry").nth(1).locator("text=Compare with LATEST").click()
    expect(page.locator("table.diff-unified")).to_be_visible()

    # Restore v1 through the confirmation screen.
    page.click("text=Restore v1")
    expect(page.locator("h1")).to_have_text("Restore v1?")
    expect(page.locator(".restore-effects")).to_contain_text("Nothing is deployed")
    expect(page.locator(".restore-effects")).to_contain_text("stays on v2")
    screenshot("versioning-restore-confirm")
    page.click("button:has-text('Restore')")
    page.wait_for_url(lambda url: url.endswith("/edit/"))
    # The editor opens on the restored code, with an Undo banner.
    expect(page.locator(".editor-main .cm-content")).to_contain_text("https://example.com/track")
    expect(page.locator("main > .undo-banner")).to_contain_text("Restored as v3")

    page.goto(history_url)
    entries = page.locator(".version-entry")
    expect(entries).to_have_count(3)
    expect(entries.nth(0)).to_contain_text("v3")
    expect(entries.nth(0).locator(".vlabel-latest")).to_be_visible()
    expect(entries.nth(1).locator(".vlabel-deployed")).to_be_visible()
    expect(entries.nth(0)).to_contain_text("Restored v1")
    expect(page.locator(".undo-banner")).to_contain_text("Restored as v3")
    screenshot("versioning-after-restore")

    page.click(".undo-banner button:has-text('Undo')")
    page.goto(history_url)
    expect(page.locator(".version-entry")).to_have_count(4)
    expect(page.locator(".version-entry").nth(0).locator(".vlabel-latest")).to_be_visible()
    expect(page.locator(".version-entry").nth(0)).to_contain_text("Undid the restore of v3")
    expect(page.locator(".undo-banner")).to_have_count(0)
    function.refresh_from_db()
    assert function.code == V2
    screenshot("versioning-after-undo")


def test_read_only_member_sees_restore_disabled(page, log_in, screenshot):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY)
    function = make_function(workspace=workspace, display_name="Mirror", code=V1)
    version_save(function=function, user=None, code=V2, base_version_id=None)
    v1 = function.versions.get(number=1)

    log_in(user.username)
    page.goto(
        reverse("versioning:compare", args=[workspace.slug, function.public_id])
        + f"?target={v1.id}&view=unified"
    )
    restore = page.locator(".page-header .btn", has_text="Restore v1")
    expect(restore).to_be_disabled()
    expect(restore).to_have_attribute(
        "title", "Only Workspace Owners and Functions Admins can edit functions."
    )
    screenshot("versioning-compare-read-only")


def test_a_compare_says_it_is_comparing_while_the_next_one_is_built(page, log_in):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    function = make_function(workspace=workspace, code="one\n")
    version_save(function=function, user=None, code="one\ntwo\n", base_version_id=None)
    log_in(user.username)
    page.goto(reverse("versioning:compare", args=[workspace.slug, function.public_id]))
    # The form is sent as a person would, but the page stays (the browser's navigation is the
    # one part not under test), so what it shows while the next compare is built can be read.
    page.evaluate(
        """() => {
          const form = document.querySelector('.compare-picker');
          form.addEventListener('submit', (event) => event.preventDefault());
          form.requestSubmit();
        }"""
    )
    button = page.locator(".compare-picker button[type=submit]")
    expect(button).to_have_text("Comparing…")
    expect(button).to_be_disabled()
    expect(page.locator(".compare-picker")).to_have_attribute("aria-busy", "true")
