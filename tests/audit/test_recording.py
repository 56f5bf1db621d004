"""Every service that changes a function leaves one audit event, with the versions involved."""

import json

import pytest

from catalog import services as catalog_services
from catalog.models import SettingType
from functions_ui.audit.context import VIA_UI, audit_via
from functions_ui.audit.models import AuditAction, AuditEvent
from tests.factories import make_function, make_setting, make_user, make_workspace
from versioning import services as version_services
from versioning.selectors import latest_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return make_user(username="ada")


@pytest.fixture
def function(user):
    return make_function(workspace=make_workspace(), display_name="Enricher", user=user)


def last_event(function, action):
    return AuditEvent.objects.filter(workspace=function.workspace, action=action).first()


def test_create_records_the_function_and_its_first_version(function, user):
    event = last_event(function, AuditAction.FUNCTION_CREATE)
    assert event.actor == user
    assert (event.target_id, event.target_label) == (function.public_id, "Enricher")
    assert event.version_ids == [latest_version(function=function).id]


def test_a_save_records_the_previous_and_the_new_version(function, user):
    before = latest_version(function=function)
    version = version_services.version_save(
        function=function, user=user, code="// v2", base_version_id=None, note="faster"
    )
    event = last_event(function, AuditAction.FUNCTION_SAVE)
    assert event.version_ids == [before.id, version.id]
    assert event.details == {"version": "v2", "note": "faster"}


def test_a_save_without_changes_records_nothing(function, user):
    version_services.version_save(
        function=function, user=user, code=function.code, base_version_id=None
    )
    assert last_event(function, AuditAction.FUNCTION_SAVE) is None


def test_a_restore_records_the_versions_involved(function, user):
    v1 = latest_version(function=function)
    v2 = version_services.version_save(
        function=function, user=user, code="// v2", base_version_id=None
    )
    v3 = version_services.version_restore(version=v1, user=user)
    event = last_event(function, AuditAction.VERSION_RESTORE)
    assert event.version_ids == [v2.id, v3.id]
    assert event.details["restored"] == "v1"


def test_marking_deployed_records_the_previous_deployed_version(function, user):
    v1 = latest_version(function=function)
    version_services.version_mark_deployed(version=v1)
    v2 = version_services.version_save(
        function=function, user=user, code="// v2", base_version_id=None
    )
    version_services.version_mark_deployed(version=v2, user=user, details={"instances": ["a"]})
    event = last_event(function, AuditAction.FUNCTION_DEPLOY)
    assert event.version_ids == [v1.id, v2.id]
    assert event.actor == user
    assert event.details == {"version": "v2", "instances": ["a"]}


def test_delete_records_the_function_by_name_after_it_is_gone(function, user):
    workspace, public_id = function.workspace, function.public_id
    with audit_via(VIA_UI, user=user):
        catalog_services.function_delete(function=function)
    event = AuditEvent.objects.get(workspace=workspace, action=AuditAction.FUNCTION_DELETE)
    assert (event.target_id, event.target_label, event.actor) == (public_id, "Enricher", user)


def test_settings_changes_are_recorded_by_name(function, user):
    with audit_via(VIA_UI, user=user):
        setting = catalog_services.setting_create(function=function, label="API Key")
        catalog_services.setting_update(
            setting=setting, label="Secret Key", type=SettingType.STRING, sensitive=True
        )
        other = catalog_services.setting_create(function=function, label="Region")
        catalog_services.setting_move(setting=other, offset=-1)
        catalog_services.setting_delete(setting=other)
    changes = [
        e.details
        for e in AuditEvent.objects.filter(action=AuditAction.SETTINGS_CHANGE).order_by("id")
    ]
    assert changes == [
        {"change": "added", "setting": "apiKey"},
        {
            "change": "changed",
            "setting": "secretKey",
            "fields": ["label", "sensitive"],
            "renamed_from": "apiKey",
        },
        {"change": "added", "setting": "region"},
        {"change": "moved", "setting": "region", "direction": "up"},
        {"change": "removed", "setting": "region"},
    ]


def test_a_move_that_goes_nowhere_records_nothing(function):
    setting = make_setting(function=function, name="region")
    catalog_services.setting_move(setting=setting, offset=-1)
    assert last_event(function, AuditAction.SETTINGS_CHANGE) is None


def test_a_test_value_is_recorded_by_setting_name_never_by_value(function):
    setting = make_setting(function=function, name="apiKey", sensitive=True)
    catalog_services.setting_test_value_set(setting=setting, raw="sk_live_SUPERSECRET")
    plain = make_setting(function=function, name="region")
    catalog_services.setting_test_value_set(setting=plain, raw="eu-west-1")
    events = AuditEvent.objects.filter(action=AuditAction.SETTINGS_CHANGE)
    stored = json.dumps([e.details for e in events]) + "".join(
        f"{e.target_label}{e.actor_name}" for e in events
    )
    assert {e.details["setting"] for e in events} == {"apiKey", "region"}
    assert "SUPERSECRET" not in stored
    assert "eu-west-1" not in stored
