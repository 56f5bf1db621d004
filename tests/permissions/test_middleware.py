import pytest
from django.urls import reverse

from functions_ui.audit.models import AuditAction, AuditEvent, Via
from functions_ui.permissions.models import Role
from tests.factories import make_function, make_member, make_workspace

pytestmark = pytest.mark.django_db


def save_url(function):
    return reverse("editor:save", args=[function.workspace.slug, function.public_id])


def test_a_refused_write_is_recorded_and_answered_403(client, login_as, workspace):
    user = login_as(Role.FUNCTIONS_READ_ONLY)
    function = make_function(workspace=workspace, display_name="Billing")
    response = client.post(save_url(function), {"code": "// forged"})
    assert response.status_code == 403
    assert b"Only Workspace Owners and Functions Admins can edit functions." in response.content
    event = AuditEvent.objects.get(action=AuditAction.ACCESS_DENIED)
    assert (event.actor, event.via, event.workspace) == (user, Via.UI, workspace)
    assert (event.target_type, event.target_id, event.target_label) == (
        "function",
        function.public_id,
        "Billing",
    )
    assert event.details == {
        "method": "POST",
        "path": save_url(function),
        "route": "editor:save",
        "reason": "Only Workspace Owners and Functions Admins can edit functions.",
    }


def test_a_refused_read_is_not_recorded(client, login_as, workspace):
    login_as(Role.FUNCTIONS_ADMIN)
    response = client.get(reverse("members:list", args=[workspace.slug]))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED).exists()


def test_out_of_scope_and_foreign_objects_are_404_and_not_recorded(client, login_as, workspace):
    mine = make_function(workspace=workspace)
    hidden = make_function(workspace=workspace)
    login_as(Role.FUNCTIONS_ADMIN, functions=[mine])
    assert client.post(save_url(hidden), {"code": "x"}).status_code == 404
    foreign = make_function(workspace=make_workspace())
    make_member(workspace=foreign.workspace, role=Role.WORKSPACE_OWNER)
    assert client.post(save_url(foreign), {"code": "x"}).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED).exists()


def test_an_allowed_write_records_what_it_did_not_a_denial(client, login_as, workspace):
    login_as(Role.FUNCTIONS_ADMIN)
    function = make_function(workspace=workspace)
    assert client.post(save_url(function), {"code": "// v2"}).status_code == 302
    assert not AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED).exists()
    assert AuditEvent.objects.filter(action=AuditAction.FUNCTION_SAVE, via=Via.UI).exists()
