import pytest
from django.contrib.auth.models import AnonymousUser

from functions_ui.permissions.models import Role
from functions_ui.permissions.policy import ACTION_ROLES, member_access
from tests.factories import make_function, make_member, make_user, make_workspace

pytestmark = pytest.mark.django_db

EXPECTED = {
    Role.WORKSPACE_OWNER: set(ACTION_ROLES),
    Role.FUNCTIONS_ADMIN: {"function.view", "function.create", "function.edit", "function.delete"},
    Role.FUNCTIONS_READ_ONLY: {"function.view"},
    Role.SOURCE_ADMIN: {"function.view", "function.deploy", "instance.connect"},
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_may_do_exactly_its_actions(role):
    workspace = make_workspace()
    function = make_function(workspace=workspace)
    access = member_access(make_member(workspace=workspace, role=role), workspace)
    allowed = {action for action in ACTION_ROLES if access.can(action, function)}
    assert allowed == EXPECTED[role]


def test_roles_add_up():
    workspace = make_workspace()
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY)
    make_member(workspace=workspace, role=Role.SOURCE_ADMIN, user=user)
    access = member_access(user, workspace)
    assert access.can("function.view") and access.can("function.deploy")
    assert not access.can("function.edit")


def test_scoped_admin_may_edit_listed_functions_only_and_may_not_create():
    workspace = make_workspace()
    mine, other = make_function(workspace=workspace), make_function(workspace=workspace)
    access = member_access(make_member(workspace=workspace, functions=[mine]), workspace)
    assert access.can("function.edit", mine)
    assert not access.can("function.edit", other)
    assert not access.can("function.create")


def test_membership_elsewhere_gives_nothing_here():
    here, elsewhere = make_workspace(), make_workspace()
    user = make_member(workspace=elsewhere, role=Role.WORKSPACE_OWNER)
    access = member_access(user, here)
    assert not access.is_member
    assert not any(access.can(action) for action in ACTION_ROLES)


def test_anonymous_user_is_no_member():
    assert not member_access(AnonymousUser(), make_workspace()).is_member


def test_member_without_roles_is_a_member_with_no_access():
    workspace = make_workspace()
    access = member_access(make_member(workspace=workspace, role=None), workspace)
    assert access.is_member
    assert not access.can("function.view")


def test_user_outside_every_workspace():
    assert not member_access(make_user(), make_workspace()).is_member
