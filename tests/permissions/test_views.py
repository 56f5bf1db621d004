import pytest
from django.urls import reverse

from functions_ui.audit.models import AuditAction, AuditEvent
from functions_ui.permissions.models import Role, RoleGrant
from functions_ui.permissions.policy import member_access
from functions_ui.workspaces.models import Membership
from tests.factories import make_function, make_member, make_user
from tests.html import disabled_of

pytestmark = pytest.mark.django_db


def url(name, workspace, *args):
    return reverse(f"members:{name}", args=[workspace.slug, *args])


def membership_of(workspace, user):
    return Membership.objects.get(workspace=workspace, user=user)


@pytest.mark.parametrize(
    "role", [Role.FUNCTIONS_ADMIN, Role.FUNCTIONS_READ_ONLY, Role.SOURCE_ADMIN, None]
)
def test_only_owners_see_the_members_page(client, login_as, workspace, role):
    login_as(role)
    response = client.get(url("list", workspace))
    assert response.status_code == 403
    assert b"Only Workspace Owners can manage the workspace." in response.content


def test_members_page_lists_roles_and_scopes(
    client, login_as, workspace, django_assert_max_num_queries
):
    owner = login_as(Role.WORKSPACE_OWNER)
    billing = make_function(workspace=workspace, display_name="Billing")
    scoped = make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY, functions=[billing])
    plain = make_member(workspace=workspace, role=None)
    for _ in range(3):
        make_member(workspace=workspace, role=Role.SOURCE_ADMIN)
    with django_assert_max_num_queries(12):
        response = client.get(url("list", workspace))
    content = response.content.decode()
    assert response.status_code == 200
    assert f'data-username="{owner.username}"' in content
    assert f'data-username="{scoped.username}"' in content
    assert "1 function: Billing" in content
    assert f'data-username="{plain.username}"' in content
    assert "No roles: no access to functions" in content
    # The only owner cannot be removed: the control is disabled and says why.
    assert disabled_of(content)["Remove"].startswith(
        "A workspace needs at least one Workspace Owner"
    )


def test_add_a_member_with_a_scoped_role(client, login_as, workspace):
    owner = login_as(Role.WORKSPACE_OWNER)
    billing = make_function(workspace=workspace, display_name="Billing")
    make_function(workspace=workspace, display_name="Other")
    user = make_user(username="lin")
    response = client.post(
        url("add", workspace),
        {
            "username": "lin",
            "role_functions_admin": "on",
            "scope_functions_admin": "list",
            "functions_functions_admin": [billing.pk],
        },
    )
    assert response.status_code == 302
    access = member_access(user, workspace)
    assert access.can("function.edit", billing)
    assert not access.sees_all_functions()
    assert AuditEvent.objects.get(action=AuditAction.MEMBER_ADD).actor == owner


def test_add_with_an_empty_list_scope_asks_for_functions(client, login_as, workspace):
    login_as(Role.WORKSPACE_OWNER)
    make_user(username="lin")
    response = client.post(
        url("add", workspace),
        {"username": "lin", "role_functions_read_only": "on", "scope_functions_read_only": "list"},
    )
    assert response.status_code == 422
    assert "Choose at least one function" in response.content.decode()
    assert not Membership.objects.filter(user__username="lin").exists()


def test_add_an_unknown_username(client, login_as, workspace):
    login_as(Role.WORKSPACE_OWNER)
    response = client.post(url("add", workspace), {"username": "ghost"})
    assert response.status_code == 422
    assert "There is no user with this username;" in response.content.decode()


def test_edit_roles(client, login_as, workspace):
    login_as(Role.WORKSPACE_OWNER)
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY)
    edit = url("edit", workspace, membership_of(workspace, user).pk)
    page = client.get(edit).content.decode()
    assert 'name="role_functions_read_only" id="id_role_functions_read_only" checked' in page
    response = client.post(edit, {"role_source_admin": "on"})
    assert response.status_code == 302
    roles = list(RoleGrant.objects.filter(membership__user=user).values_list("role", flat=True))
    assert roles == [Role.SOURCE_ADMIN]


def test_the_last_owner_cannot_demote_themselves(client, login_as, workspace):
    owner = login_as(Role.WORKSPACE_OWNER)
    edit = url("edit", workspace, membership_of(workspace, owner).pk)
    page = client.get(edit).content.decode()
    assert 'name="role_workspace_owner" id="id_role_workspace_owner" checked disabled' in page
    # The disabled checkbox is not posted; the form keeps the role anyway.
    response = client.post(edit, {"role_functions_admin": "on"})
    assert response.status_code == 302
    assert member_access(owner, workspace).can("workspace.manage")


def test_removing_the_last_owner_is_refused_with_a_reason(client, login_as, workspace):
    owner = login_as(Role.WORKSPACE_OWNER)
    response = client.post(url("remove", workspace, membership_of(workspace, owner).pk))
    assert response.status_code == 422
    assert "A workspace needs at least one Workspace Owner" in response.content.decode()
    assert member_access(owner, workspace).is_member


def test_remove_a_member(client, login_as, workspace):
    login_as(Role.WORKSPACE_OWNER)
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    remove = url("remove", workspace, membership_of(workspace, user).pk)
    assert client.get(remove).status_code == 200
    response = client.post(remove)
    assert response.status_code == 302
    assert not member_access(user, workspace).is_member


def test_a_membership_of_another_workspace_is_404(client, login_as, workspace):
    from tests.factories import make_workspace

    login_as(Role.WORKSPACE_OWNER)
    elsewhere = make_workspace()
    stranger = make_member(workspace=elsewhere, role=Role.FUNCTIONS_ADMIN)
    membership = membership_of(elsewhere, stranger)
    assert client.get(url("edit", workspace, membership.pk)).status_code == 404
    assert client.post(url("remove", workspace, membership.pk)).status_code == 404
    assert member_access(stranger, elsewhere).is_member


def test_owners_see_members_and_audit_links_others_do_not(client, login_as, workspace):
    catalog = reverse("catalog:function_list", args=[workspace.slug])
    login_as(Role.FUNCTIONS_ADMIN)
    content = client.get(catalog).content.decode()
    assert url("list", workspace) not in content
    assert reverse("audit:event_list", args=[workspace.slug]) not in content
    client.logout()
    login_as(Role.WORKSPACE_OWNER)
    content = client.get(catalog).content.decode()
    assert f'href="{url("list", workspace)}"' in content
    assert f'href="{reverse("audit:event_list", args=[workspace.slug])}"' in content


def test_owner_can_create_an_account_for_a_new_member_and_sees_its_password_once(
    client, login_as, workspace
):
    from django.contrib.auth import get_user_model

    login_as(Role.WORKSPACE_OWNER)
    response = client.post(
        reverse("members:add", args=[workspace.slug]),
        {
            "username": "newcomer",
            "create_account": "on",
            "role_functions_read_only": "on",
            "scope_functions_read_only": "all",
        },
    )
    content = response.content.decode()
    assert response.status_code == 200, content[:500]
    assert "Account “newcomer” created." in content
    field = content.split('id="new-account-password"')[0]
    password = field.rsplit('value="', 1)[1].split('"')[0]
    assert get_user_model().objects.get(username="newcomer").check_password(password)
    members_page = client.get(reverse("members:list", args=[workspace.slug])).content.decode()
    assert password not in members_page
    assert "newcomer" in members_page
    assert client.login(username="newcomer", password=password)


def test_without_the_box_an_unknown_username_creates_nothing(client, login_as, workspace):
    from django.contrib.auth import get_user_model

    login_as(Role.WORKSPACE_OWNER)
    response = client.post(
        reverse("members:add", args=[workspace.slug]),
        {"username": "ghost", "role_functions_read_only": "on", "scope_functions_read_only": "all"},
    )
    assert response.status_code == 422
    assert "tick “Create an account”" in response.content.decode()
    assert not get_user_model().objects.filter(username="ghost").exists()
