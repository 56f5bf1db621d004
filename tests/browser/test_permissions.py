import pytest
from django.urls import reverse
from playwright.sync_api import expect

from catalog.models import Function
from functions_ui.audit.models import AuditAction, AuditEvent
from functions_ui.permissions.models import Role
from functions_ui.permissions.policy import member_access
from tests.factories import make_function, make_member, make_setting, make_user, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def test_read_only_editor_has_no_save_and_a_forged_save_is_refused_and_audited(
    page, log_in, screenshot
):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    owner = make_member(workspace=workspace, role=Role.WORKSPACE_OWNER)
    reader = make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY)
    function = make_function(workspace=workspace, display_name="Billing", code="// original\n")
    make_setting(function=function, name="region", label="Region")
    edit_url = reverse("editor:edit", args=[workspace.slug, function.public_id])
    save_url = reverse("editor:save", args=[workspace.slug, function.public_id])

    log_in(reader.username)
    page.goto(edit_url)
    expect(page.locator(".editor-main .cm-editor")).to_be_visible()
    expect(page.locator("#save-button")).to_have_count(0)
    expect(page.locator(".editor-header .read-only-badge")).to_be_visible()
    disabled_save = page.locator(".editor-actions").get_by_role("button", name="Save", exact=True)
    expect(disabled_save).to_be_disabled()
    expect(disabled_save).to_have_accessible_description(
        "Only Workspace Owners and Functions Admins can edit functions."
    )
    # The code cannot be typed into, and the test values offer no Save either.
    expect(page.locator(".editor-main .cm-content")).to_have_attribute("contenteditable", "false")
    expect(page.locator("#test-values button:enabled")).to_have_count(0)
    # Owners' links are not in the top bar.
    expect(page.locator(".topnav", has_text="Members")).to_have_count(0)
    screenshot("permissions-read-only-editor")

    # A save forged with the page's own CSRF token.
    token = page.locator("#save-form input[name=csrfmiddlewaretoken]").get_attribute("value")
    response = page.request.post(
        save_url,
        form={"code": "// forged", "csrfmiddlewaretoken": token},
        headers={"X-CSRFToken": token},
    )
    assert response.status == 403
    assert "Only Workspace Owners and Functions Admins can edit functions." in response.text()
    assert Function.objects.get(pk=function.pk).code == "// original\n"
    denied = AuditEvent.objects.get(action=AuditAction.ACCESS_DENIED)
    assert (denied.actor, denied.details["path"], denied.target_id) == (
        reader,
        save_url,
        function.public_id,
    )

    # The owner finds it in the audit trail.
    page.goto(edit_url)
    page.click(".topbar >> text=Sign out")
    log_in(owner.username)
    page.wait_for_url(f"**{reverse('catalog:function_list', args=[workspace.slug])}")
    page.click(".topnav >> text=Audit trail")
    page.select_option("#id_action", "access.denied")
    rows = page.locator("#audit-results .audit-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(reader.username)
    expect(rows.first).to_contain_text("Access denied")
    expect(rows.first).to_contain_text(save_url)
    expect(rows.first.locator("a", has_text="Billing")).to_have_attribute(
        "href", function.get_absolute_url()
    )
    assert "action=access.denied" in page.url
    screenshot("permissions-audit-trail")


def test_owner_adds_a_member_with_a_scoped_role(page, log_in, screenshot):
    workspace = make_workspace(slug="acme", name="Acme Inc.")
    owner = make_member(workspace=workspace, role=Role.WORKSPACE_OWNER)
    billing = make_function(workspace=workspace, display_name="Billing")
    make_function(workspace=workspace, display_name="Marketing Hooks")
    newcomer = make_user(username="lin")

    log_in(owner.username)
    page.wait_for_url(f"**{reverse('catalog:function_list', args=[workspace.slug])}")
    page.click(".topnav >> text=Members")
    expect(page.locator("h1")).to_have_text("Members")
    # The only owner cannot be removed; the disabled control says why.
    own_row = page.locator(f'.member-row[data-username="{owner.username}"]')
    remove = own_row.get_by_role("button", name="Remove")
    expect(remove).to_be_disabled()
    expect(remove).to_have_accessible_description(
        "A workspace needs at least one Workspace Owner: make someone else an owner first."
    )

    form = page.locator("#add-member")
    form.locator("input[name=username]").fill("lin")
    section = form.locator('[data-role="functions_admin"]')
    expect(section.locator(".role-scope")).to_be_hidden()
    section.locator("input[name=role_functions_admin]").check()
    section.locator("input[value=list]").check()
    section.locator("label", has_text="Billing").locator("input").check()
    screenshot("permissions-add-member-form")
    form.locator("button[type=submit]").click()

    expect(page.locator(".message-success")).to_contain_text("lin is now a member.")
    row = page.locator('.member-row[data-username="lin"]')
    expect(row).to_contain_text("Functions Admin")
    expect(row).to_contain_text("1 function: Billing")
    screenshot("permissions-members")
    access = member_access(newcomer, workspace)
    assert access.can("function.edit", billing)
    assert not access.sees_all_functions()

    # Their own roles: the last owner's Workspace Owner box is locked, with the reason.
    own_row.locator("text=Edit roles").click()
    owner_box = page.locator("input[name=role_workspace_owner]")
    expect(owner_box).to_be_checked()
    expect(owner_box).to_be_disabled()
    expect(page.locator(".role-locked")).to_contain_text("at least one Workspace Owner")
    screenshot("permissions-member-edit-last-owner")

    page.click(".topnav >> text=Audit trail")
    expect(page.locator("#audit-results .audit-row").first).to_contain_text("Member added")
    expect(page.locator("#audit-results .audit-row").first).to_contain_text(
        "Functions Admin (1 function: Billing)"
    )
