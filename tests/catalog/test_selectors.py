import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from catalog.models import ResourceType
from catalog.selectors import function_get_for_user, function_list, function_type_counts
from functions_ui.permissions.models import Role
from functions_ui.permissions.policy import member_access
from tests.factories import make_function, make_member, make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    workspace = make_workspace()
    functions = {
        "hooks": make_function(
            workspace=workspace, display_name="Stripe Hooks", resource_type=ResourceType.SOURCE
        ),
        "mailer": make_function(
            workspace=workspace, display_name="Mailer", resource_type=ResourceType.DESTINATION
        ),
        "scrub": make_function(
            workspace=workspace,
            display_name="Scrubber",
            resource_type=ResourceType.INSERT_DESTINATION,
        ),
    }
    make_function(workspace=make_workspace(), display_name="Elsewhere")
    return workspace, functions


def access_for(workspace, role=Role.FUNCTIONS_ADMIN, **kwargs):
    return member_access(make_member(workspace=workspace, role=role, **kwargs), workspace)


def names(functions):
    return sorted(f.display_name for f in functions)


def test_list_holds_only_this_workspace(catalog):
    workspace, _ = catalog
    assert names(function_list(workspace=workspace, access=access_for(workspace))) == [
        "Mailer",
        "Scrubber",
        "Stripe Hooks",
    ]


@pytest.mark.parametrize(
    ("type_slug", "expected"),
    [
        ("source", ["Stripe Hooks"]),
        ("destination", ["Mailer"]),
        ("insert", ["Scrubber"]),
        ("", ["Mailer", "Scrubber", "Stripe Hooks"]),
    ],
)
def test_list_filters_by_type(catalog, type_slug, expected):
    workspace, _ = catalog
    assert (
        names(function_list(workspace=workspace, access=access_for(workspace), type_slug=type_slug))
        == expected
    )


def test_list_searches_names_ignoring_case(catalog):
    workspace, _ = catalog
    assert names(
        function_list(workspace=workspace, access=access_for(workspace), search="STRIPE")
    ) == ["Stripe Hooks"]


def test_list_is_newest_saved_first(catalog):
    workspace, functions = catalog
    functions["hooks"].save()  # touches updated_at
    assert function_list(workspace=workspace, access=access_for(workspace))[0] == functions["hooks"]


def test_a_scoped_member_sees_only_the_chosen_functions(catalog):
    workspace, functions = catalog
    access = access_for(workspace, role=Role.FUNCTIONS_READ_ONLY, functions=[functions["mailer"]])
    assert names(function_list(workspace=workspace, access=access)) == ["Mailer"]
    assert function_type_counts(workspace=workspace, access=access)["all"] == 1


def test_a_member_without_a_role_sees_nothing(catalog):
    workspace, _ = catalog
    assert names(function_list(workspace=workspace, access=access_for(workspace, role=None))) == []


def test_type_counts_follow_the_search(catalog):
    workspace, _ = catalog
    counts = function_type_counts(workspace=workspace, access=access_for(workspace), search="er")
    assert counts == {"all": 2, "source": 0, "destination": 1, "insert": 1}


def test_get_another_workspaces_function_is_404(catalog):
    workspace, _ = catalog
    other = make_function(workspace=make_workspace())
    with pytest.raises(Http404):
        function_get_for_user(
            workspace=workspace, access=access_for(workspace), function_id=other.public_id
        )


def test_get_outside_scope_is_404_and_forbidden_action_is_403(catalog):
    workspace, functions = catalog
    access = access_for(workspace, role=Role.FUNCTIONS_READ_ONLY, functions=[functions["mailer"]])
    with pytest.raises(Http404):
        function_get_for_user(
            workspace=workspace, access=access, function_id=functions["hooks"].public_id
        )
    with pytest.raises(PermissionDenied):
        function_get_for_user(
            workspace=workspace,
            access=access,
            function_id=functions["mailer"].public_id,
            action="function.delete",
        )
    found = function_get_for_user(
        workspace=workspace, access=access, function_id=functions["mailer"].public_id
    )
    assert found == functions["mailer"]
