"""Instance writes through the API: create, change and remove, under /functions/{id}/instances
and Segment's /insert-function-instances, with sensitive values never sent back."""

from __future__ import annotations

import logging

import pytest

from catalog.models import ResourceType
from catalog.secrets import decrypt_value
from functions_ui.api.services import api_token_create
from functions_ui.audit.models import AuditAction, AuditEvent
from functions_ui.deploys import instances
from functions_ui.deploys.models import DestinationInstance, InsertInstance, SourceInstance
from functions_ui.permissions.models import Role
from functions_ui.runtime.masking import MASK
from tests.api.conftest import ApiClient
from tests.factories import make_function, make_member, make_setting, make_workspace

pytestmark = pytest.mark.django_db

SECRET = "sk_live_SUPERSECRET_0042"
NEW_SECRET = "sk_live_REPLACED_0043"


def source_function(workspace, **kwargs):
    function = make_function(workspace=workspace, resource_type=ResourceType.SOURCE, **kwargs)
    make_setting(function=function, name="apiKey", sensitive=True, required=True)
    make_setting(function=function, name="region")
    return function


def source_instance(function, name="Website"):
    return instances.source_instance_create(
        function=function, user=None, name=name, raw_settings={"apiKey": SECRET, "region": "eu"}
    )


def destination(workspace, sources, name="Warehouse"):
    function = make_function(workspace=workspace, resource_type=ResourceType.DESTINATION)
    return instances.destination_instance_create(
        function=function,
        user=None,
        name=name,
        raw_settings={},
        source_ids=[s.public_id for s in sources],
    )


def insert_function(workspace):
    function = make_function(workspace=workspace, resource_type=ResourceType.INSERT_DESTINATION)
    make_setting(function=function, name="apiKey", sensitive=True)
    make_setting(function=function, name="mode")
    return function


def errors(response):
    return [(e["type"], e.get("field")) for e in response.json()["errors"]]


@pytest.fixture
def source(workspace):
    return source_function(workspace)


@pytest.fixture
def world(workspace, source):
    """A source instance feeding a destination instance, and an insert function."""
    site = source_instance(source)
    return {
        "site": site,
        "destination": destination(workspace, [site]),
        "insert_function": insert_function(workspace),
    }


# Create under /functions/{id}/instances -------------------------------------------------------


class TestCreate:
    def test_a_source_instance_keeps_its_secret_out_of_every_answer_log_and_audit(
        self, api, source, caplog
    ):
        caplog.set_level(logging.DEBUG)
        body = {"name": "Shop", "settings": {"apiKey": SECRET, "region": "us"}}
        response = api.post(f"/functions/{source.public_id}/instances", body)
        assert response.status_code == 200, response.content
        assert SECRET.encode() not in response.content
        data = response.json()["data"]["instance"]
        assert (data["name"], data["kind"], data["enabled"]) == ("Shop", "SOURCE", True)
        assert data["settings"] == {"region": "us"} and data["sensitiveSettings"] == ["apiKey"]
        instance = SourceInstance.objects.get(public_id=data["id"])
        assert decrypt_value(instance.secret_values["apiKey"]) == SECRET
        assert SECRET not in caplog.text
        event = AuditEvent.objects.get(action=AuditAction.INSTANCE_CONNECT)
        assert SECRET not in str(event.details)
        listed = api.get(f"/functions/{source.public_id}/instances")
        assert SECRET.encode() not in listed.content

    def test_the_audit_event_says_it_came_through_the_api_and_which_token(self, api, source):
        api.post(f"/functions/{source.public_id}/instances", {"settings": {"apiKey": SECRET}})
        assert not AuditEvent.objects.filter(action=AuditAction.INSTANCE_CONNECT).exists()
        body = {"name": "Shop", "settings": {"apiKey": SECRET}}
        api.post(f"/functions/{source.public_id}/instances", body)
        event = AuditEvent.objects.get(action=AuditAction.INSTANCE_CONNECT)
        assert (event.via, event.actor_id) == ("api", api.user.pk)
        assert event.api_token_label.startswith(api.token_obj.hint)

    def test_a_destination_connects_to_the_sources_given(self, api, workspace, world):
        function = make_function(workspace=workspace, resource_type=ResourceType.DESTINATION)
        body = {"name": "Lake", "sourceIds": [world["site"].public_id]}
        response = api.post(f"/functions/{function.public_id}/instances", body)
        assert response.status_code == 200, response.content
        instance = DestinationInstance.objects.get(
            public_id=response.json()["data"]["instance"]["id"]
        )
        assert list(instance.sources.all()) == [world["site"]]

    def test_an_insert_instance_sits_before_its_destination(self, api, world):
        function = world["insert_function"]
        body = {
            "name": "Enricher",
            "destinationId": world["destination"].public_id,
            "enabled": False,
            "settings": {"mode": "strict"},
        }
        response = api.post(f"/functions/{function.public_id}/instances", body)
        assert response.status_code == 200, response.content
        data = response.json()["data"]["instance"]
        assert (data["kind"], data["enabled"], data["settings"]) == (
            "INSERT",
            False,
            {"mode": "strict"},
        )
        assert InsertInstance.objects.get(public_id=data["id"]).destination == world["destination"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "Shop"}, "settings.apiKey"),
            ({"name": "Shop", "settings": {"apiKey": ""}}, "settings.apiKey"),
            ({"name": "Shop", "settings": {"apiKey": 42}}, "settings.apiKey"),
            ({"name": "Shop", "settings": {"apiKey": SECRET, "nope": "x"}}, "settings.nope"),
            ({"name": "Shop", "settings": [SECRET]}, "settings"),
            ({"settings": {"apiKey": SECRET}}, "name"),
            ({"name": "   ", "settings": {"apiKey": SECRET}}, "name"),
            ({"name": "x" * 121, "settings": {"apiKey": SECRET}}, "name"),
            ({"name": 7, "settings": {"apiKey": SECRET}}, "name"),
            ({"name": "Shop", "settings": {"apiKey": SECRET}, "sourceIds": []}, "sourceIds"),
            (
                {"name": "Shop", "settings": {"apiKey": SECRET}, "destinationId": "x"},
                "destinationId",
            ),
            ({"name": "Shop", "settings": {"apiKey": SECRET}, "enabled": True}, "enabled"),
            ({"name": "Shop", "settings": {"apiKey": SECRET}, "colour": "red"}, "colour"),
        ],
    )
    def test_bad_input_is_a_422_naming_the_field_without_echoing_secrets(
        self, api, source, body, field
    ):
        response = api.post(f"/functions/{source.public_id}/instances", body)
        assert response.status_code == 422, response.content
        assert errors(response)[0] == ("ValidationFailure", field)
        assert SECRET.encode() not in response.content
        assert "42" not in response.json()["errors"][0]["message"]
        assert not SourceInstance.objects.exists()

    def test_a_setting_called_name_is_told_apart_from_the_instance_name(self, api, workspace):
        function = make_function(workspace=workspace, resource_type=ResourceType.SOURCE)
        make_setting(function=function, name="name", required=True)
        response = api.post(f"/functions/{function.public_id}/instances", {"name": "Shop"})
        assert errors(response) == [("ValidationFailure", "settings.name")]

    def test_destination_sources_are_required_and_of_this_workspace(self, api, workspace, world):
        function = make_function(workspace=workspace, resource_type=ResourceType.DESTINATION)
        url = f"/functions/{function.public_id}/instances"
        assert errors(api.post(url, {"name": "Lake"})) == [("ValidationFailure", "sourceIds")]
        elsewhere = source_instance(source_function(make_workspace()))
        body = {"name": "Lake", "sourceIds": [elsewhere.public_id]}
        assert errors(api.post(url, body)) == [("ValidationFailure", "sourceIds")]
        body = {"name": "Lake", "sourceIds": [world["site"].public_id], "destinationId": "x"}
        assert errors(api.post(url, body)) == [("ValidationFailure", "destinationId")]

    def test_an_insert_needs_a_free_destination_of_this_workspace(self, api, world):
        url = f"/functions/{world['insert_function'].public_id}/instances"
        assert errors(api.post(url, {"name": "I"})) == [("ValidationFailure", "destinationId")]
        body = {"name": "I", "destinationId": world["destination"].public_id}
        assert api.post(url, body).status_code == 200
        assert errors(api.post(url, body)) == [("ValidationFailure", "destinationId")]
        body = {"name": "I", "destinationId": world["destination"].public_id, "sourceIds": []}
        assert errors(api.post(url, body)) == [("ValidationFailure", "sourceIds")]

    @pytest.mark.parametrize(
        ("role", "status"),
        [
            (Role.WORKSPACE_OWNER, 200),
            (Role.SOURCE_ADMIN, 200),
            (Role.FUNCTIONS_ADMIN, 403),
            (Role.FUNCTIONS_READ_ONLY, 403),
            (None, 404),
        ],
    )
    def test_only_owners_and_source_admins_connect(self, api_as, source, role, status):
        client = api_as(role)
        body = {"name": "Shop", "settings": {"apiKey": SECRET}}
        response = client.post(f"/functions/{source.public_id}/instances", body)
        assert response.status_code == status
        if status == 403:
            denied = AuditEvent.objects.get(action=AuditAction.ACCESS_DENIED)
            assert denied.via == "api" and SECRET not in str(denied.details)

    def test_a_function_of_another_workspace_is_404_and_no_token_is_401(self, api, workspace):
        theirs = source_function(make_workspace())
        body = {"name": "Shop", "settings": {"apiKey": SECRET}}
        assert api.post(f"/functions/{theirs.public_id}/instances", body).status_code == 404
        anonymous = ApiClient(None)
        assert anonymous.post(f"/functions/{theirs.public_id}/instances", body).status_code == 401
        assert not SourceInstance.objects.exists()


# Change and remove under /functions/{id}/instances/{instanceId} --------------------------------


class TestUpdate:
    def url(self, instance):
        return f"/functions/{instance.function.public_id}/instances/{instance.public_id}"

    def test_name_enabled_and_settings_change_and_secrets_stay_write_only(self, api, world):
        site = world["site"]
        body = {"name": "Store", "enabled": False, "settings": {"apiKey": NEW_SECRET}}
        response = api.patch(self.url(site), body)
        assert response.status_code == 200, response.content
        assert (
            NEW_SECRET.encode() not in response.content and SECRET.encode() not in response.content
        )
        data = response.json()["data"]["instance"]
        # A setting left out keeps its value; so does a sensitive one sent blank.
        assert (data["name"], data["enabled"], data["settings"]) == (
            "Store",
            False,
            {"region": "eu"},
        )
        site.refresh_from_db()
        assert decrypt_value(site.secret_values["apiKey"]) == NEW_SECRET
        api.patch(self.url(site), {"settings": {"apiKey": "", "region": "us"}})
        site.refresh_from_db()
        assert decrypt_value(site.secret_values["apiKey"]) == NEW_SECRET
        assert site.setting_values == {"region": "us"}
        changes = AuditEvent.objects.filter(action=AuditAction.INSTANCE_UPDATE)
        assert {e.details["change"] for e in changes} == {"name", "enabled", "settings"}
        assert {e.via for e in changes} == {"api"}
        assert all(NEW_SECRET not in str(e.details) for e in changes)

    def test_an_empty_body_changes_nothing(self, api, world):
        response = api.patch(self.url(world["site"]), {})
        assert response.status_code == 200
        assert not AuditEvent.objects.filter(action=AuditAction.INSTANCE_UPDATE).exists()

    def test_a_destination_gets_new_sources(self, api, world, source):
        other = source_instance(source, name="App")
        response = api.patch(self.url(world["destination"]), {"sourceIds": [other.public_id]})
        assert response.status_code == 200
        assert list(world["destination"].sources.all()) == [other]
        response = api.patch(self.url(world["destination"]), {"sourceIds": []})
        assert errors(response) == [("ValidationFailure", "sourceIds")]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"sourceIds": []}, "sourceIds"),
            ({"name": ""}, "name"),
            ({"enabled": "yes"}, "enabled"),
            ({"settings": {"region": ["eu"]}}, "settings.region"),
            ({"settings": {"other": "x"}}, "settings.other"),
            ({"destinationId": "dst_x"}, "destinationId"),
        ],
    )
    def test_bad_input_is_a_422_naming_the_field(self, api, world, body, field):
        response = api.patch(self.url(world["site"]), {"name": "Renamed", **body})
        assert errors(response)[0] == ("ValidationFailure", field)

    def test_a_failed_update_changes_nothing(self, api, workspace, world):
        function = world["site"].function
        make_setting(function=function, name="token", required=True)
        body = {"name": "Renamed", "enabled": False, "settings": {"region": "us"}}
        response = api.patch(self.url(world["site"]), body)
        assert errors(response) == [("ValidationFailure", "settings.token")]
        world["site"].refresh_from_db()
        assert (world["site"].name, world["site"].enabled) == ("Website", True)
        assert not AuditEvent.objects.filter(action=AuditAction.INSTANCE_UPDATE).exists()

    @pytest.mark.parametrize(
        ("role", "status"),
        [
            (Role.WORKSPACE_OWNER, 200),
            (Role.SOURCE_ADMIN, 200),
            (Role.FUNCTIONS_ADMIN, 403),
            (Role.FUNCTIONS_READ_ONLY, 403),
            (None, 404),
        ],
    )
    def test_only_owners_and_source_admins_change_instances(self, api_as, world, role, status):
        response = api_as(role).patch(self.url(world["site"]), {"name": "Renamed"})
        assert response.status_code == status
        world["site"].refresh_from_db()
        assert (world["site"].name == "Renamed") is (status == 200)

    def test_an_instance_of_another_function_or_workspace_is_404(self, api, workspace, world):
        site = world["site"]
        other = make_function(workspace=workspace, resource_type=ResourceType.SOURCE)
        theirs = source_instance(source_function(make_workspace()))
        for url in (
            f"/functions/{other.public_id}/instances/{site.public_id}",
            f"/functions/{site.function.public_id}/instances/{theirs.public_id}",
            f"/functions/{site.function.public_id}/instances/src_nope",
        ):
            assert api.patch(url, {"name": "X"}).status_code == 404
            assert api.delete(url).status_code == 404
        site.refresh_from_db()
        assert site.name == "Website"

    def test_a_forbidden_member_cannot_learn_of_another_functions_instances(self, api_as, world):
        # A Functions Admin sees both functions; the mismatch is a 404 before the 403.
        other = make_function(workspace=world["site"].function.workspace, resource_type="SOURCE")
        url = f"/functions/{other.public_id}/instances/{world['site'].public_id}"
        assert api_as(Role.FUNCTIONS_ADMIN).patch(url, {"name": "X"}).status_code == 404


class TestDelete:
    def test_removes_the_instance_and_records_it(self, api, world):
        site = world["site"]
        url = f"/functions/{site.function.public_id}/instances/{site.public_id}"
        response = api.delete(url)
        assert response.json() == {"data": {"status": "SUCCESS"}}
        assert not SourceInstance.objects.filter(pk=site.pk).exists()
        event = AuditEvent.objects.get(action=AuditAction.INSTANCE_DELETE)
        assert (event.via, event.target_id) == ("api", site.public_id)
        assert api.delete(url).status_code == 404

    @pytest.mark.parametrize(
        ("role", "status"),
        [
            (Role.SOURCE_ADMIN, 200),
            (Role.FUNCTIONS_ADMIN, 403),
            (Role.FUNCTIONS_READ_ONLY, 403),
            (None, 404),
        ],
    )
    def test_only_owners_and_source_admins_remove(self, api_as, world, role, status):
        site = world["site"]
        url = f"/functions/{site.function.public_id}/instances/{site.public_id}"
        assert api_as(role).delete(url).status_code == status
        assert SourceInstance.objects.filter(pk=site.pk).exists() is (status != 200)


# Segment's /insert-function-instances ----------------------------------------------------------


class TestInsertFunctionInstances:
    def create(self, api, world, **overrides):
        body = {
            "functionId": world["insert_function"].catalog_id,
            "integrationId": world["destination"].public_id,
            "name": "Enricher",
            "settings": {"apiKey": SECRET, "mode": "strict"},
            **overrides,
        }
        return api.post("/insert-function-instances", body)

    @pytest.mark.parametrize("prefixed", [False, True])
    def test_create_in_segments_shape_with_or_without_the_prefix(self, api, world, prefixed):
        function = world["insert_function"]
        function_id = function.public_id if prefixed else function.catalog_id
        response = self.create(api, world, functionId=function_id, enabled=False)
        assert response.status_code == 200, response.content
        assert SECRET.encode() not in response.content
        data = response.json()["data"]["instance"]
        assert data["integrationId"] == world["destination"].public_id
        assert (data["classId"], data["functionId"]) == (function.catalog_id, function.public_id)
        assert (data["name"], data["enabled"]) == ("Enricher", False)
        assert data["settings"] == {"mode": "strict"}
        assert data["encryptedSettings"] == {"apiKey": MASK}
        assert {"createdAt", "updatedAt"} <= set(data)
        event = AuditEvent.objects.get(action=AuditAction.INSTANCE_CONNECT, target_id=data["id"])
        assert event.via == "api" and SECRET not in str(event.details)

    def test_enabled_by_default(self, api, world):
        assert self.create(api, world).json()["data"]["instance"]["enabled"] is True

    @pytest.mark.parametrize(
        ("overrides", "status", "field"),
        [
            ({"functionId": None}, 422, "functionId"),
            ({"functionId": 5}, 422, "functionId"),
            ({"functionId": "nope"}, 404, None),
            ({"integrationId": None}, 422, "integrationId"),
            ({"integrationId": "dst_nope"}, 422, "integrationId"),
            ({"name": None}, 422, "name"),
            ({"settings": {"apiKey": SECRET, "mode": 1}}, 422, "settings.mode"),
            ({"sourceIds": []}, 422, "sourceIds"),
            ({"destinationId": "dst_x"}, 422, "destinationId"),
        ],
    )
    def test_bad_input(self, api, world, overrides, status, field):
        response = self.create(api, world, **overrides)
        assert response.status_code == status
        if field:
            assert errors(response)[0] == ("ValidationFailure", field)
        assert SECRET.encode() not in response.content
        assert not InsertInstance.objects.exists()

    def test_a_function_of_another_type_is_a_422_and_a_taken_destination_too(
        self, api, world, source
    ):
        response = self.create(api, world, functionId=source.public_id)
        assert errors(response) == [("ValidationFailure", "functionId")]
        assert self.create(api, world).status_code == 200
        assert errors(self.create(api, world)) == [("ValidationFailure", "integrationId")]

    def test_list_get_update_and_delete(self, api, world):
        created = self.create(api, world).json()["data"]["instance"]
        function = world["insert_function"]
        for function_id in (function.catalog_id, function.public_id):
            listed = api.get(f"/insert-function-instances?functionId={function_id}")
            assert listed.status_code == 200
            assert [i["id"] for i in listed.json()["data"]["instances"]] == [created["id"]]
            assert "current" in listed.json()["data"]["pagination"]
        url = f"/insert-function-instances/{created['id']}"
        assert api.get(url).json()["data"]["instance"] == created
        response = api.patch(url, {"enabled": False, "name": "Renamed", "settings": {"apiKey": ""}})
        assert response.status_code == 200, response.content
        data = response.json()["data"]["instance"]
        assert (data["enabled"], data["name"]) == (False, "Renamed")
        assert data["encryptedSettings"] == {"apiKey": MASK}
        instance = InsertInstance.objects.get(public_id=created["id"])
        assert decrypt_value(instance.secret_values["apiKey"]) == SECRET
        assert errors(api.patch(url, {"integrationId": "x"})) == [
            ("ValidationFailure", "integrationId")
        ]
        assert api.delete(url).json() == {"data": {"status": "SUCCESS"}}
        assert api.get(url).status_code == 404

    def test_the_list_needs_an_insert_functions_id(self, api, world, source):
        assert errors(api.get("/insert-function-instances")) == [
            ("ValidationFailure", "functionId")
        ]
        response = api.get(f"/insert-function-instances?functionId={source.public_id}")
        assert errors(response) == [("ValidationFailure", "functionId")]
        theirs = insert_function(make_workspace())
        response = api.get(f"/insert-function-instances?functionId={theirs.catalog_id}")
        assert response.status_code == 404

    def test_other_instances_are_not_insert_function_instances(self, api, world):
        theirs_site = source_instance(source_function(make_workspace()))
        for instance in (world["site"], world["destination"], theirs_site):
            url = f"/insert-function-instances/{instance.public_id}"
            assert api.get(url).status_code == 404
            assert api.patch(url, {"enabled": False}).status_code == 404
            assert api.delete(url).status_code == 404

    @pytest.mark.parametrize(
        ("role", "read", "write"),
        [
            (Role.SOURCE_ADMIN, 200, 200),
            (Role.FUNCTIONS_ADMIN, 200, 403),
            (Role.FUNCTIONS_READ_ONLY, 200, 403),
            (None, 404, 404),
        ],
    )
    def test_roles(self, api, api_as, world, role, read, write):
        created = self.create(api, world).json()["data"]["instance"]
        client = api_as(role)
        function_id = world["insert_function"].catalog_id
        url = f"/insert-function-instances/{created['id']}"
        assert (
            client.get(f"/insert-function-instances?functionId={function_id}").status_code == read
        )
        assert client.get(url).status_code == read
        assert client.patch(url, {"enabled": False}).status_code == write
        assert client.delete(url).status_code == write
        InsertInstance.objects.filter(public_id=created["id"]).delete()
        assert self.create(client, world).status_code == write

    def test_another_workspaces_token_sees_nothing(self, api, world):
        created = self.create(api, world).json()["data"]["instance"]
        other = make_workspace()
        owner = make_member(workspace=other, role=Role.WORKSPACE_OWNER)
        _, raw = api_token_create(workspace=other, user=owner)
        outsider = ApiClient(raw)
        url = f"/insert-function-instances/{created['id']}"
        assert outsider.get(url).status_code == 404
        assert outsider.delete(url).status_code == 404
        assert self.create(outsider, world).status_code == 404
        assert ApiClient(None).get(url).status_code == 401
