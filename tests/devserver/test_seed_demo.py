import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import Function
from functions_ui.audit.models import AuditEvent
from functions_ui.deploys.models import (
    Deploy,
    DeployStatus,
    DestinationInstance,
    InsertInstance,
    SourceInstance,
)
from functions_ui.permissions.models import Role, RoleGrant
from functions_ui.workspaces.models import Workspace
from versioning.models import Label
from versioning.selectors import deployed_version

pytestmark = pytest.mark.django_db

COUNTED = (
    Workspace,
    Function,
    RoleGrant,
    get_user_model(),
    SourceInstance,
    DestinationInstance,
    InsertInstance,
    AuditEvent,
)


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_seed_demo_creates_acme_with_one_user_per_role(capsys, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "s3cret-demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    workspace = Workspace.objects.get(slug="acme")
    roles = dict(
        RoleGrant.objects.filter(membership__workspace=workspace).values_list(
            "membership__user__username", "role"
        )
    )
    assert roles == {
        "owner": Role.WORKSPACE_OWNER,
        "functions-admin": Role.FUNCTIONS_ADMIN,
        "functions-readonly": Role.FUNCTIONS_READ_ONLY,
        "source-admin": Role.SOURCE_ADMIN,
    }
    assert get_user_model().objects.get(username="owner").check_password("s3cret-demo")
    assert "local use only" in out
    assert "functions-readonly" in out
    assert workspace.functions.count() >= 5
    assert set(workspace.functions.values_list("resource_type", flat=True)) == {
        "SOURCE",
        "DESTINATION",
        "INSERT_DESTINATION",
    }
    # A connected pipeline shows deploys: source -> insert -> destination, all deployed.
    destination = DestinationInstance.objects.get(name="Analytics collector")
    assert [s.name for s in destination.sources.all()] == ["Zendesk production"]
    assert InsertInstance.objects.get(destination=destination).enabled
    assert destination.version is not None
    assert "demo-analytics-key" not in str(destination.secret_values)
    # Deployed as a person deploys: a succeeded deploy behind every DEPLOYED label, so the
    # editor, the deploys page and the history say the same.
    deployed = workspace.functions.filter(version_labels__label=Label.DEPLOYED)
    assert deployed.count() == 3
    for function in deployed:
        deploy = Deploy.objects.filter(function=function).latest("id")
        assert deploy.status == DeployStatus.SUCCEEDED
        assert deployed_version(function=function) == deploy.version


def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo")
    first = counts()
    updated = dict(Function.objects.values_list("pk", "updated_at"))
    call_command("seed_demo")
    assert counts() == first
    assert dict(Function.objects.values_list("pk", "updated_at")) == updated


def test_the_demo_insert_function_has_a_passing_test_suite():
    from catalog.models import Function
    from functions_ui.suites.services import suite_check

    call_command("seed_demo")
    scrubber = Function.objects.get(display_name="PII Scrubber")
    expects = dict(scrubber.saved_payloads.values_list("name", "expect"))
    assert expects["Test user is dropped"]["status"] == "dropped"
    assert "email" not in expects["E-mail is removed"]["returned"]["properties"]
    assert suite_check(function=scrubber, code=scrubber.code).failures == []
