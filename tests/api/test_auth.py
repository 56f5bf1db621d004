"""Bearer tokens: missing, malformed, unknown, revoked, and the member behind them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from functions_ui.api.models import ApiToken
from functions_ui.api.services import api_token_revoke
from functions_ui.permissions.models import Role
from functions_ui.workspaces.models import Membership
from tests.api.conftest import ApiClient
from tests.factories import make_function

pytestmark = pytest.mark.django_db
LIST = "/functions?resourceType=SOURCE"


def assert_401(response) -> None:
    assert response.status_code == 401
    assert response.json()["errors"][0]["type"] == "Unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "X-RateLimit-Remaining" not in response


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token fui_abc",
        "Bearer fui_wrong",
        "Bearer not-even-our-prefix",
        "Bearer fui_" + "a" * 500,
    ],
)
def test_missing_or_bad_tokens_are_401_in_the_envelope(workspace, header):
    client = ApiClient(None)
    headers = {} if header is None else {"Authorization": header}
    assert_401(client.get(LIST, **headers))


def test_the_scheme_is_case_insensitive(api):
    response = api.get(LIST, Authorization=f"bearer {api.token}")
    assert response.status_code == 200


def test_a_revoked_token_stops_working_at_once(api):
    assert api.get(LIST).status_code == 200
    api_token_revoke(token=api.token_obj)
    assert_401(api.get(LIST))


def test_a_token_of_a_user_who_left_the_workspace_is_refused(api, workspace):
    Membership.objects.filter(user=api.user, workspace=workspace).delete()
    assert_401(api.get(LIST))


def test_a_token_of_a_deactivated_user_is_refused(api):
    api.user.is_active = False
    api.user.save()
    assert_401(api.get(LIST))


def test_a_signed_in_browser_session_is_not_a_token(client, login_as):
    login_as(Role.WORKSPACE_OWNER)
    assert_401(client.get("/api/v1" + LIST))


def test_writes_need_no_csrf_token(workspace, api):
    api.client = type(api.client)(enforce_csrf_checks=True)
    body = {"code": "x", "displayName": "No CSRF", "resourceType": "SOURCE"}
    assert api.post("/functions", body).status_code == 200


def test_the_api_sets_no_session_cookie(api):
    response = api.get(LIST)
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


def test_last_used_is_recorded_to_the_minute(api):
    assert api.token_obj.last_used_at is None
    api.get(LIST)
    token = ApiToken.objects.get(pk=api.token_obj.pk)
    assert token.last_used_at is not None
    first = token.last_used_at
    api.get(LIST)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get(LIST)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first - timedelta(seconds=1)


def test_a_token_reaches_only_its_own_workspace(api_as, workspace):
    from tests.factories import make_workspace

    other = make_workspace()
    function = make_function(workspace=other)
    client = api_as(Role.WORKSPACE_OWNER, workspace_=workspace)
    # The same user owning the other workspace does not widen this token.
    Membership.objects.create(workspace=other, user=client.user)
    assert client.get(f"/functions/{function.public_id}").status_code == 404


def test_what_changes_through_a_token_is_audited_as_the_api(api):
    from functions_ui.audit.models import AuditEvent

    api.post("/functions", {"code": "x", "displayName": "Audited", "resourceType": "SOURCE"})
    event = AuditEvent.objects.get(action="function.create")
    assert event.via == "api" and event.actor_id == api.user.pk
    assert api.token_obj.hint in event.api_token_label


def test_revoked_tokens_keep_their_row(api):
    api_token_revoke(token=api.token_obj)
    token = ApiToken.objects.get(pk=api.token_obj.pk)
    assert token.revoked_at <= timezone.now() and not token.is_active


def test_removing_a_member_revokes_their_tokens_for_good(api_as, workspace):
    """Re-adding the person, even with another role, must not bring an old token back."""
    from functions_ui.permissions.services import membership_remove
    from tests.factories import make_member

    owner_client = api_as(Role.WORKSPACE_OWNER)
    leaver = api_as(Role.FUNCTIONS_ADMIN)
    membership = Membership.objects.get(user=leaver.user, workspace=workspace)
    membership_remove(membership=membership, by=owner_client.user)
    assert ApiToken.objects.get(user=leaver.user).revoked_at is not None
    make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY, user=leaver.user)
    assert_401(leaver.get("/functions?resourceType=SOURCE"))
