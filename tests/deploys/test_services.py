import pytest
from django.core.exceptions import ValidationError

from catalog.models import ResourceType
from catalog.secrets import decrypt_value
from functions_ui.audit.models import AuditAction, AuditEvent
from functions_ui.deploys import instances, services
from functions_ui.deploys.models import Deploy, DeployStatus
from tests.deploys.helpers import (
    SOURCE_CODE,
    deploy_now,
    latest,
    make_destination,
    make_insert,
    make_source,
)
from tests.factories import make_function, make_setting, make_workspace
from versioning.selectors import deployed_version
from versioning.services import version_save

pytestmark = pytest.mark.django_db


def save(function, code):
    return version_save(function=function, user=None, code=code, base_version_id=None)


# Instances ----------------------------------------------------------------------------------


def test_source_instance_stores_sensitive_values_only_encrypted(workspace):
    function, instance = make_source(workspace=workspace)
    assert instance.setting_values == {}
    token = instance.secret_values["apiKey"]
    assert "sk_live_secret123" not in token
    assert decrypt_value(token) == "sk_live_secret123"
    assert instance.version == latest(function)
    assert len(instance.webhook_token) >= 40


def test_one_instance_create_connects_every_type_with_what_it_takes(workspace):
    """The dashboard's Connect form and the API both go through instances.instance_create."""
    _, source = make_source(workspace=workspace)
    made = {}
    for resource_type in ResourceType:
        function = make_function(workspace=workspace, resource_type=resource_type)
        made[resource_type] = instances.instance_create(
            function=function,
            user=None,
            name=f"{resource_type.label} one",
            raw_settings={},
            source_ids=[source.public_id],
            destination_id=made.get(ResourceType.DESTINATION, source).public_id,
            enabled=False,
        )
    assert {type(i).__name__ for i in made.values()} == {
        "SourceInstance",
        "DestinationInstance",
        "InsertInstance",
    }
    assert list(made[ResourceType.DESTINATION].sources.all()) == [source]
    insert = made[ResourceType.INSERT_DESTINATION]
    assert (insert.destination, insert.enabled) == (made[ResourceType.DESTINATION], False)


def test_required_settings_are_enforced(workspace):
    function = make_function(workspace=workspace, resource_type=ResourceType.SOURCE)
    make_setting(function=function, name="apiKey", required=True, label="API Key")
    with pytest.raises(ValidationError) as error:
        instances.source_instance_create(function=function, user=None, name="S", raw_settings={})
    assert error.value.message_dict == {"apiKey": ["“API Key” is required."]}


def test_a_blank_sensitive_value_keeps_the_stored_one(workspace):
    _, instance = make_source(workspace=workspace)
    before = instance.secret_values["apiKey"]
    instances.instance_settings_update(instance=instance, raw_settings={"apiKey": ""})
    assert instance.secret_values["apiKey"] == before
    instances.instance_settings_update(instance=instance, raw_settings={"apiKey": "new-key"})
    assert decrypt_value(instance.secret_values["apiKey"]) == "new-key"


def test_rotating_the_token_changes_the_webhook_url(workspace):
    _, instance = make_source(workspace=workspace)
    old = instance.webhook_token
    instances.source_instance_rotate_token(instance=instance)
    assert instance.webhook_token != old
    assert instance.token_rotated_at is not None


def test_renaming_an_instance_records_the_old_name_and_checks_the_new_one(workspace):
    from functions_ui.audit.models import AuditAction, AuditEvent

    _, instance = make_source(workspace=workspace, name="Website")
    instances.instance_rename(instance=instance, name="  Shop  ")
    instance.refresh_from_db()
    assert instance.name == "Shop"
    event = AuditEvent.objects.filter(action=AuditAction.INSTANCE_UPDATE).get()
    assert event.details["change"] == "name" and event.details["old_name"] == "Website"
    instances.instance_rename(instance=instance, name="Shop")
    assert AuditEvent.objects.filter(action=AuditAction.INSTANCE_UPDATE).count() == 1
    for bad in ("   ", "x" * 121):
        with pytest.raises(ValidationError) as error:
            instances.instance_rename(instance=instance, name=bad)
        assert set(error.value.message_dict) == {"name"}
    instance.refresh_from_db()
    assert instance.name == "Shop"


def test_destination_connects_only_to_sources_of_its_workspace(workspace):
    _, source = make_source(workspace=workspace)
    _, elsewhere = make_source(workspace=make_workspace())
    with pytest.raises(ValidationError):
        make_destination(workspace=workspace, sources=[source, elsewhere])
    _, destination = make_destination(workspace=workspace, sources=[source])
    assert list(destination.sources.all()) == [source]


def test_one_insert_function_per_destination(workspace):
    _, source = make_source(workspace=workspace)
    _, destination = make_destination(workspace=workspace, sources=[source])
    make_insert(workspace=workspace, destination=destination)
    with pytest.raises(ValidationError, match="already has an insert"):
        make_insert(workspace=workspace, destination=destination)


# Deploys ------------------------------------------------------------------------------------


def test_deploy_is_enqueued_only_after_commit(workspace, django_capture_on_commit_callbacks):
    function, _ = make_source(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deploy = services.deploy_start(function=function, version=latest(function), user=None)
    assert deploy.status == DeployStatus.QUEUED
    assert len(callbacks) == 1


def test_deploy_switches_chosen_instances_and_moves_deployed(workspace):
    function, first = make_source(workspace=workspace, name="First")
    second = instances.source_instance_create(
        function=function, user=None, name="Second", raw_settings={"apiKey": "k1234"}
    )
    v1 = latest(function)
    v2 = save(function, SOURCE_CODE + "\n// v2\n")
    deploy = deploy_now(function, v2, instance_ids=[second.public_id])
    assert deploy.status == DeployStatus.SUCCEEDED
    assert deploy.duration_ms is not None
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.version, second.version) == (v1, v2)
    assert deployed_version(function=function) == v2


def test_failed_deploy_leaves_every_instance_where_it_was(workspace):
    function, instance = make_source(workspace=workspace)
    v1 = latest(function)
    broken = save(function, "async function onRequest(request {")
    deploy = deploy_now(function, broken)
    assert deploy.status == DeployStatus.FAILED
    assert "SyntaxError" in deploy.message
    instance.refresh_from_db()
    assert instance.version == v1
    assert deployed_version(function=function) is None
    # The audit trail has the failure, with its reason, as it has every successful deploy.
    failure = AuditEvent.objects.get(action=AuditAction.DEPLOY_FAIL)
    assert failure.target_id == function.public_id
    assert failure.details["deploy"] == deploy.pk and "SyntaxError" in failure.details["reason"]


def test_a_deploy_whose_task_gave_up_is_audited_once(workspace):
    function, _ = make_source(workspace=workspace)
    deploy = services.deploy_start(function=function, version=latest(function), user=None)
    services.deploy_fail(deploy_id=deploy.pk, message="The deploy could not finish.")
    services.deploy_fail(deploy_id=deploy.pk, message="The deploy could not finish.")
    assert AuditEvent.objects.filter(action=AuditAction.DEPLOY_FAIL).count() == 1


def test_deploy_needs_the_handlers_of_its_type(workspace):
    function, _ = make_source(workspace=workspace)
    version = save(function, "async function onTrack(event) {}")
    deploy = deploy_now(function, version)
    assert deploy.status == DeployStatus.FAILED
    assert "onRequest" in deploy.message


def test_code_calling_our_own_webhooks_cannot_deploy(workspace, settings):
    settings.DEPLOYS_WEBHOOK_BASE_URL = "https://functions.example.com"
    function, _ = make_source(workspace=workspace)
    code = SOURCE_CODE + "\nfetch('https://functions.example.com/hooks/abc', {method: 'POST'});"
    deploy = deploy_now(function, save(function, code))
    assert deploy.status == DeployStatus.FAILED
    assert "originating source" in deploy.message
    loopback = SOURCE_CODE + "\n// http://127.0.0.1:8000/hooks/xyz\n"
    assert deploy_now(function, save(function, loopback)).status == DeployStatus.FAILED


def test_deploying_an_older_version_is_a_rollback(workspace):
    function, instance = make_source(workspace=workspace)
    v1 = latest(function)
    v2 = save(function, SOURCE_CODE + "// 2")
    deploy_now(function, v2)
    rollback = deploy_now(function, v1)
    assert rollback.status == DeployStatus.SUCCEEDED
    assert rollback.is_rollback
    instance.refresh_from_db()
    assert instance.version == v1
    assert deployed_version(function=function) == v1


def test_a_finished_deploy_runs_once_however_often_its_task_runs(workspace):
    function, instance = make_source(workspace=workspace)
    v2 = save(function, SOURCE_CODE + "// 2")
    deploy = deploy_now(function, v2)
    instance.refresh_from_db()
    updated_at = instance.updated_at
    again = services.deploy_execute(deploy_id=deploy.pk)
    assert again.status == DeployStatus.SUCCEEDED
    assert again.attempts == 1
    instance.refresh_from_db()
    assert instance.updated_at == updated_at


def test_a_deploy_interrupted_while_running_is_carried_through(workspace):
    function, instance = make_source(workspace=workspace)
    v2 = save(function, SOURCE_CODE + "// 2")
    deploy = services.deploy_start(function=function, version=v2, user=None)
    Deploy.objects.filter(pk=deploy.pk).update(status=DeployStatus.RUNNING, attempts=1)
    done = services.deploy_execute(deploy_id=deploy.pk)
    assert (done.status, done.attempts) == (DeployStatus.SUCCEEDED, 2)
    instance.refresh_from_db()
    assert instance.version == v2


def test_deploys_of_one_function_wait_for_earlier_ones(workspace):
    function, instance = make_source(workspace=workspace)
    v2 = save(function, SOURCE_CODE + "// 2")
    first = services.deploy_start(function=function, version=v2, user=None)
    second = services.deploy_start(function=function, version=latest(function), user=None)
    with pytest.raises(services.DeployWaiting):
        services.deploy_execute(deploy_id=second.pk)
    assert Deploy.objects.get(pk=second.pk).status == DeployStatus.QUEUED
    services.deploy_execute(deploy_id=first.pk)
    assert services.deploy_execute(deploy_id=second.pk).status == DeployStatus.SUCCEEDED


def test_a_stale_earlier_deploy_no_longer_holds_later_ones(workspace, settings):
    settings.DEPLOYS_STALE_SECONDS = 0
    function, _ = make_source(workspace=workspace)
    first = services.deploy_start(function=function, version=latest(function), user=None)
    second = services.deploy_start(function=function, version=latest(function), user=None)
    assert services.deploy_execute(deploy_id=second.pk).status == DeployStatus.SUCCEEDED
    first.refresh_from_db()
    assert first.status == DeployStatus.FAILED
    assert "Abandoned" in first.message


def test_deploy_rejects_instances_of_another_function(workspace):
    function, _ = make_source(workspace=workspace)
    _, other = make_source(workspace=workspace, name="Other")
    with pytest.raises(ValidationError):
        services.deploy_start(
            function=function, version=latest(function), user=None, instance_ids=[other.public_id]
        )


def test_save_and_deploy_saves_a_version_then_deploys_it(workspace):
    function, instance = make_source(workspace=workspace)
    version, deploy = services.save_and_deploy(
        function=function, user=None, code=SOURCE_CODE + "// 3", base_version_id=None
    )
    assert version.number == 2
    assert deploy.version == version
    assert list(deploy.source_instances.all()) == [instance]


def test_deploy_fail_marks_only_unfinished_deploys(workspace):
    function, _ = make_source(workspace=workspace)
    deploy = services.deploy_start(function=function, version=latest(function), user=None)
    services.deploy_fail(deploy_id=deploy.pk, message="gave up")
    deploy.refresh_from_db()
    assert (deploy.status, deploy.message) == (DeployStatus.FAILED, "gave up")


def test_a_finished_deploy_is_not_sent_to_the_broker(workspace, settings):
    """The demo data deploys in place; its deploys must not wake a (not yet started) broker."""
    from functions_ui.deploys.tasks import deploy_enqueue

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    function, _ = make_source(workspace=workspace)
    deploy = deploy_now(function, latest(function))
    assert deploy.status == DeployStatus.SUCCEEDED
    assert deploy_enqueue(deploy.pk) is True
