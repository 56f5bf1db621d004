import pytest
from django.core.exceptions import ValidationError

from functions_ui.audit.models import AuditAction, AuditEvent
from functions_ui.permissions.models import Role, RoleGrant
from functions_ui.permissions.policy import member_access
from functions_ui.permissions.services import (
    LAST_OWNER_MESSAGE,
    GrantSpec,
    membership_add,
    membership_remove,
    role_grants_set,
)
from functions_ui.workspaces.models import Membership
from tests.factories import make_function, make_member, make_user, make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def workspace():
    return make_workspace()


@pytest.fixture
def owner(workspace):
    return make_member(workspace=workspace, role=Role.WORKSPACE_OWNER)


def membership_of(workspace, user):
    return Membership.objects.get(workspace=workspace, user=user)


def test_add_an_existing_user_with_a_scoped_role(workspace, owner):
    user = make_user(username="lin")
    function = make_function(workspace=workspace, display_name="Billing")
    make_function(workspace=workspace, display_name="Other")
    membership_add(
        workspace=workspace,
        username="lin",
        grants=[
            GrantSpec(
                role=Role.FUNCTIONS_ADMIN,
                all_functions=False,
                function_ids=frozenset({function.pk}),
            )
        ],
        by=owner,
    )
    access = member_access(user, workspace)
    assert access.can("function.edit", function)
    assert not access.sees_all_functions()
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_ADD)
    assert (event.actor, event.target_label) == (owner, "lin")
    assert event.details == {"roles": ["Functions Admin (1 function: Billing)"]}


def test_add_refuses_unknown_users_and_existing_members(workspace, owner):
    with pytest.raises(ValidationError, match="no user with this username"):
        membership_add(workspace=workspace, username="nobody", grants=[], by=owner)
    with pytest.raises(ValidationError, match="already a member"):
        membership_add(workspace=workspace, username=owner.username, grants=[], by=owner)


def test_a_scope_may_not_name_functions_of_another_workspace(workspace, owner):
    make_user(username="lin")
    foreign = make_function(workspace=make_workspace())
    with pytest.raises(ValidationError, match="choose functions of this workspace"):
        membership_add(
            workspace=workspace,
            username="lin",
            grants=[
                GrantSpec(
                    role=Role.FUNCTIONS_READ_ONLY,
                    all_functions=False,
                    function_ids=frozenset({foreign.pk}),
                )
            ],
            by=owner,
        )
    assert not Membership.objects.filter(workspace=workspace, user__username="lin").exists()


def test_set_replaces_roles_and_records_before_and_after(workspace, owner):
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY)
    role_grants_set(
        membership=membership_of(workspace, user),
        grants=[GrantSpec(role=Role.FUNCTIONS_ADMIN), GrantSpec(role=Role.SOURCE_ADMIN)],
        by=owner,
    )
    roles = set(RoleGrant.objects.filter(membership__user=user).values_list("role", flat=True))
    assert roles == {Role.FUNCTIONS_ADMIN, Role.SOURCE_ADMIN}
    event = AuditEvent.objects.get(action=AuditAction.ROLE_CHANGE)
    assert event.details == {
        "before": ["Functions Read-only (all functions)"],
        "after": ["Functions Admin (all functions)", "Source Admin (all functions)"],
    }


def test_setting_the_same_roles_records_nothing(workspace, owner):
    user = make_member(workspace=workspace, role=Role.SOURCE_ADMIN)
    role_grants_set(
        membership=membership_of(workspace, user),
        grants=[GrantSpec(role=Role.SOURCE_ADMIN)],
        by=owner,
    )
    assert not AuditEvent.objects.filter(action=AuditAction.ROLE_CHANGE).exists()


def test_the_last_owner_cannot_be_demoted(workspace, owner):
    with pytest.raises(ValidationError) as error:
        role_grants_set(
            membership=membership_of(workspace, owner),
            grants=[GrantSpec(role=Role.FUNCTIONS_ADMIN)],
            by=owner,
        )
    assert error.value.messages == [LAST_OWNER_MESSAGE]
    assert member_access(owner, workspace).can("workspace.manage")


def test_an_owner_can_be_demoted_while_another_remains(workspace, owner):
    other = make_member(workspace=workspace, role=Role.WORKSPACE_OWNER)
    role_grants_set(membership=membership_of(workspace, owner), grants=[], by=other)
    assert not member_access(owner, workspace).can("workspace.manage")
    # Now `other` is the last one.
    with pytest.raises(ValidationError):
        membership_remove(membership=membership_of(workspace, other), by=other)


def test_the_last_owner_cannot_be_removed(workspace, owner):
    with pytest.raises(ValidationError, match="at least one Workspace Owner"):
        membership_remove(membership=membership_of(workspace, owner), by=owner)
    assert Membership.objects.filter(workspace=workspace, user=owner).exists()


def test_an_owner_elsewhere_does_not_count(workspace, owner):
    make_member(workspace=make_workspace(), role=Role.WORKSPACE_OWNER)
    with pytest.raises(ValidationError):
        membership_remove(membership=membership_of(workspace, owner), by=owner)


def test_remove_a_member_records_their_roles(workspace, owner):
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_ADMIN)
    membership_remove(membership=membership_of(workspace, user), by=owner)
    assert not member_access(user, workspace).is_member
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_REMOVE)
    assert event.target_label == user.username
    assert event.details == {"roles": ["Functions Admin (all functions)"]}
