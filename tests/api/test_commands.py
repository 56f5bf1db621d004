"""`manage.py create_api_token` prints a working token."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from functions_ui.permissions.models import Role
from tests.api.conftest import ApiClient
from tests.factories import make_member, make_user

pytestmark = pytest.mark.django_db


def test_prints_a_token_that_works(workspace):
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY)
    out = StringIO()
    call_command("create_api_token", workspace="acme", user=user.username, stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("fui_") and "\n" not in raw
    assert ApiClient(raw).get("/functions?resourceType=SOURCE").status_code == 200


@pytest.mark.parametrize(
    ("workspace_slug", "username", "message"),
    [
        ("nope", "member", "No workspace"),
        ("acme", "ghost", "No user"),
        ("acme", "outsider", "not a member"),
    ],
)
def test_refuses_unknown_workspaces_users_and_non_members(
    workspace, workspace_slug, username, message
):
    make_member(workspace=workspace, user=make_user(username="member"))
    make_user(username="outsider")
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", workspace=workspace_slug, user=username)
