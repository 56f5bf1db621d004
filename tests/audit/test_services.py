import pytest

from functions_ui.audit.context import VIA_API, VIA_UI, audit_via
from functions_ui.audit.models import AuditAction, Via
from functions_ui.audit.services import audit_record
from tests.factories import make_function, make_user, make_workspace

pytestmark = pytest.mark.django_db


def test_records_who_what_and_the_target():
    workspace, user = make_workspace(), make_user(username="ada")
    function = make_function(workspace=workspace, display_name="Stripe")
    event = audit_record(
        workspace=workspace,
        user=user,
        action=AuditAction.FUNCTION_SAVE,
        target=function,
        details={"version": "v2"},
        versions=(None, "ver_1", "ver_2"),
    )
    assert (event.actor, event.actor_name, event.via) == (user, "ada", Via.SYSTEM)
    assert (event.target_type, event.target_id, event.target_label) == (
        "function",
        function.public_id,
        "Stripe",
    )
    assert event.version_ids == ["ver_1", "ver_2"]
    assert event.details == {"version": "v2"}


def test_the_actor_comes_from_the_context_when_not_given():
    workspace, user = make_workspace(), make_user(username="grace")
    with audit_via(VIA_UI, user=user):
        event = audit_record(workspace=workspace, action=AuditAction.MEMBER_ADD)
    assert (event.actor, event.actor_name, event.via) == (user, "grace", Via.UI)
    assert event.api_token_label == ""


def test_through_an_api_token_the_token_is_named():
    workspace, user = make_workspace(), make_user(username="ci")
    with audit_via(VIA_API, token_label="Deploy bot (sgp_4f2a)", user=user):
        event = audit_record(workspace=workspace, action=AuditAction.TOKEN_CREATE)
    assert (event.via, event.api_token_label, event.actor_name) == (
        Via.API,
        "Deploy bot (sgp_4f2a)",
        "ci",
    )


def test_a_token_without_a_user_is_the_actor_by_its_label():
    with audit_via(VIA_API, token_label="sgp_4f2a"):
        event = audit_record(workspace=make_workspace(), action=AuditAction.FUNCTION_DELETE)
    assert event.actor is None
    assert event.actor_name == "API token sgp_4f2a"


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_record(workspace=make_workspace(), action="function.explode")


@pytest.mark.parametrize("key", ["value", "secret", "password", "token"])
def test_details_that_would_carry_a_value_are_refused(key):
    with pytest.raises(ValueError, match="must not carry values"):
        audit_record(
            workspace=make_workspace(), action=AuditAction.SETTINGS_CHANGE, details={key: "x"}
        )
