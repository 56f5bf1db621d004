"""Instance changes and deploys leave audit events naming who asked, not the worker."""

import pytest

from functions_ui.audit.context import VIA_API, audit_via
from functions_ui.audit.models import AuditEvent
from functions_ui.deploys import instances, services
from functions_ui.permissions.models import Role
from tests.deploys.helpers import make_destination, make_source
from tests.factories import make_member, make_workspace
from versioning.selectors import latest_version

pytestmark = pytest.mark.django_db


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("created_at", "id"))


def test_connecting_and_changing_instances_is_audited_without_values():
    workspace = make_workspace()
    _, source = make_source(workspace=workspace, name="Shop hooks")
    _, destination = make_destination(workspace=workspace, sources=[source])
    instances.instance_settings_update(instance=source, raw_settings={"apiKey": "sk_new_value_9"})
    instances.source_instance_rotate_token(instance=source)
    instances.instance_delete(instance=destination)

    connected = events("instance.connect")
    assert [e.target_label for e in connected] == ["Shop hooks", "Warehouse"]
    assert connected[1].details["sources"] == ["Shop hooks"]
    changes = [e.details["change"] for e in events("instance.update")]
    assert changes == ["settings", "webhook token rotated"]
    assert events("instance.update")[0].details["settings"] == ["apiKey"]
    assert [e.target_label for e in events("instance.delete")] == ["Warehouse"]
    for event in AuditEvent.objects.all():
        assert "sk_new_value_9" not in str(event.details)
        assert "sk_live_secret123" not in str(event.details)


def test_a_deploy_run_by_a_worker_is_audited_as_the_requester_through_the_api():
    workspace = make_workspace()
    owner = make_member(workspace=workspace, role=Role.WORKSPACE_OWNER)
    function, source = make_source(workspace=workspace, name="Shop hooks")
    with audit_via(VIA_API, token_label="fui_ab… CI pipeline", user=owner):
        deploy = services.deploy_start(
            function=function, version=latest_version(function=function), user=owner
        )
    # The worker runs outside any request: no context of its own.
    services.deploy_execute(deploy_id=deploy.pk)

    [event] = events("function.deploy")
    assert (event.actor, event.via, event.api_token_label) == (owner, "api", "fui_ab… CI pipeline")
    assert event.details["instances"] == ["Shop hooks"]
    assert event.details["deploy"] == deploy.pk
