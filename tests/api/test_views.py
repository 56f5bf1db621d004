"""Every endpoint, positive and negative, through the real URL map and services."""

from __future__ import annotations

import pytest

from catalog.content import CODE_MAX_BYTES
from catalog.models import Function, FunctionSetting
from functions_ui.permissions.models import Role
from tests.factories import make_function, make_setting, make_workspace
from versioning.models import Version
from versioning.selectors import latest_version
from versioning.services import version_mark_deployed, version_save

CREATE = {
    "code": "async function onTrack(event) {}",
    "displayName": "Forwarder",
    "resourceType": "DESTINATION",
}


def errors_of(response) -> list[dict]:
    body = response.json()
    assert "data" not in body
    return body["errors"]


def field_of(response) -> str | None:
    return errors_of(response)[0].get("field")


# Create -------------------------------------------------------------------------------


@pytest.mark.django_db
class TestCreate:
    def test_creates_a_function_with_version_1_and_settings(self, api, workspace):
        body = {
            **CREATE,
            "description": "Sends events on",
            "logoUrl": "https://example.com/logo.png",
            "settings": [
                {"name": "apiKey", "label": "API Key", "type": "STRING", "sensitive": True},
                {"name": "regions", "label": "Regions", "type": "ARRAY", "required": True},
            ],
        }
        response = api.post("/functions", body)
        assert response.status_code == 200
        data = response.json()["data"]["function"]
        function = Function.objects.get(public_id=data["id"])
        assert data["id"].startswith("dfn_") and data["catalogId"] == function.catalog_id
        assert data["displayName"] == "Forwarder" and data["code"] == CREATE["code"]
        assert data["createdBy"] == str(api.user.pk)
        assert [s["name"] for s in data["settings"]] == ["apiKey", "regions"]
        assert data["settings"][0]["sensitive"] is True
        version = Version.objects.get(function=function)
        assert version.number == 1 and version.code == CREATE["code"]
        assert [s["name"] for s in version.settings_schema] == ["apiKey", "regions"]
        assert data["latestVersionId"] == version.id and data["isLatestVersion"] is False

    @pytest.mark.parametrize("resource_type", ["SOURCE", "DESTINATION", "INSERT_DESTINATION"])
    def test_every_type_gets_its_prefix(self, api, resource_type):
        response = api.post("/functions", {**CREATE, "resourceType": resource_type})
        prefix = {"SOURCE": "sfnc_", "DESTINATION": "dfn_", "INSERT_DESTINATION": "ifnd_"}
        assert response.json()["data"]["function"]["id"].startswith(prefix[resource_type])

    def test_accepts_segment_media_types_and_answers_in_the_one_asked_for(self, api):
        response = api.post(
            "/functions",
            CREATE,
            content_type="application/vnd.segment.v1alpha+json",
            Accept="application/vnd.segment.v1+json",
        )
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.segment.v1+json")

    @pytest.mark.parametrize("missing", ["code", "displayName", "resourceType"])
    def test_a_missing_required_field_is_named(self, api, missing):
        body = {k: v for k, v in CREATE.items() if k != missing}
        response = api.post("/functions", body)
        assert response.status_code == 422
        assert field_of(response) == missing
        assert errors_of(response)[0]["type"] == "ValidationFailure"

    def test_an_unknown_resource_type_is_a_422(self, api):
        response = api.post("/functions", {**CREATE, "resourceType": "INSERT_SOURCE"})
        assert (response.status_code, field_of(response)) == (422, "resourceType")

    def test_a_display_name_over_120_characters_is_a_422_not_a_500(self, api):
        response = api.post("/functions", {**CREATE, "displayName": "x" * 121})
        assert (response.status_code, field_of(response)) == (422, "displayName")
        assert not Function.objects.exists()

    def test_a_taken_display_name_is_a_422_whatever_its_case(self, api, workspace):
        make_function(workspace=workspace, display_name="Forwarder")
        response = api.post("/functions", {**CREATE, "displayName": "FORWARDER"})
        assert (response.status_code, field_of(response)) == (422, "displayName")

    def test_code_over_the_size_limit_is_a_422(self, api):
        response = api.post("/functions", {**CREATE, "code": "x" * (CODE_MAX_BYTES + 1)})
        assert (response.status_code, field_of(response)) == (422, "code")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({**CREATE, "code": 12}, "code"),
            ({**CREATE, "displayName": "a\x00b"}, "displayName"),
            ({**CREATE, "logoUrl": "not a url"}, "logoUrl"),
            ({**CREATE, "settings": "apiKey"}, "settings"),
            ({**CREATE, "settings": [{"name": "apiKey", "label": "x"}]}, "settings[0].type"),
            (
                {**CREATE, "settings": [{"name": "Bad Name", "label": "x", "type": "STRING"}]},
                "settings[0].name",
            ),
            (
                {**CREATE, "settings": [{"name": "a", "label": "x", "type": "NUMBER"}]},
                "settings[0].type",
            ),
            (
                {
                    **CREATE,
                    "settings": [{"name": "a", "label": "x", "type": "STRING", "required": "yes"}],
                },
                "settings[0].required",
            ),
            ({**CREATE, "colour": "red"}, "colour"),
        ],
    )
    def test_bad_fields_are_named(self, api, body, field):
        response = api.post("/functions", body)
        assert (response.status_code, field_of(response)) == (422, field)
        assert not Function.objects.exists()

    def test_a_lone_surrogate_is_a_422(self, api):
        raw = '{"code": "x", "displayName": "\\ud800", "resourceType": "SOURCE"}'
        response = api.post("/functions", raw=raw)
        assert (response.status_code, field_of(response)) == (422, "displayName")

    @pytest.mark.parametrize("raw", ["{", "[1, 2]", '"text"', '{"a": NaN}', b"\xff\xfe"])
    def test_malformed_json_is_a_400(self, api, raw):
        response = api.post("/functions", raw=raw)
        assert (response.status_code, errors_of(response)[0]["type"]) == (400, "BadRequest")

    def test_a_wrong_content_type_is_a_415(self, api):
        response = api.post(
            "/functions", raw="code=x", content_type="application/x-www-form-urlencoded"
        )
        assert (response.status_code, field_of(response)) == (415, "Content-Type")

    def test_a_body_over_django_s_limit_is_a_413(self, api, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        response = api.post("/functions", {**CREATE, "code": "x" * 2000})
        assert response.status_code == 413

    @pytest.mark.parametrize("role", [Role.FUNCTIONS_READ_ONLY, Role.SOURCE_ADMIN, None])
    def test_roles_that_cannot_create_get_a_403(self, api_as, role):
        response = api_as(role).post("/functions", CREATE)
        assert (response.status_code, errors_of(response)[0]["type"]) == (403, "Forbidden")
        assert "Functions Admins" in errors_of(response)[0]["message"]


# List ---------------------------------------------------------------------------------


@pytest.mark.django_db
class TestList:
    def test_lists_one_type_oldest_first_without_code(self, api, workspace):
        first = make_function(workspace=workspace, resource_type="SOURCE", display_name="A")
        make_function(workspace=workspace, resource_type="DESTINATION", display_name="B")
        second = make_function(workspace=workspace, resource_type="SOURCE", display_name="C")
        response = api.get("/functions?resourceType=SOURCE")
        assert response.status_code == 200
        data = response.json()["data"]
        assert [f["id"] for f in data["functions"]] == [first.public_id, second.public_id]
        assert "code" not in data["functions"][0] and "settings" not in data["functions"][0]
        assert data["pagination"]["totalEntries"] == 2
        assert data["pagination"]["next"] is None and data["pagination"]["previous"] is None

    def test_resource_type_is_required_and_checked(self, api):
        assert field_of(api.get("/functions")) == "resourceType"
        response = api.get("/functions?resourceType=source")
        assert (response.status_code, field_of(response)) == (422, "resourceType")

    @pytest.mark.parametrize("count", ["0", "1001", "ten", "-1", "٣"])
    def test_a_bad_count_is_a_422(self, api, count):
        response = api.get(f"/functions?resourceType=SOURCE&pagination.count={count}")
        assert (response.status_code, field_of(response)) == (422, "pagination.count")

    @pytest.mark.parametrize("cursor", ["nonsense", "ZjpuOi0x", "djpuOjA", "%00", "x" * 300])
    def test_a_foreign_or_forged_cursor_is_a_422(self, api, cursor):
        response = api.get(f"/functions?resourceType=SOURCE&pagination.cursor={cursor}")
        assert (response.status_code, field_of(response)) == (422, "pagination.cursor")

    @pytest.mark.parametrize("style", ["pagination.{}", "pagination[{}]"])
    def test_walks_pages_with_either_parameter_style(self, api, workspace, style):
        functions = [make_function(workspace=workspace, resource_type="SOURCE") for _ in range(5)]
        seen, cursor = [], None
        while True:
            query = f"resourceType=SOURCE&{style.format('count')}=2"
            if cursor:
                query += f"&{style.format('cursor')}={cursor}"
            data = api.get(f"/functions?{query}").json()["data"]
            seen += [f["id"] for f in data["functions"]]
            cursor = data["pagination"]["next"]
            if cursor is None:
                break
        assert seen == [f.public_id for f in functions]

    def test_members_with_a_function_list_see_only_those(self, api_as, workspace):
        mine = make_function(workspace=workspace, resource_type="SOURCE")
        make_function(workspace=workspace, resource_type="SOURCE")
        client = api_as(Role.FUNCTIONS_READ_ONLY, functions=[mine])
        data = client.get("/functions?resourceType=SOURCE").json()["data"]
        assert [f["id"] for f in data["functions"]] == [mine.public_id]
        assert data["pagination"]["totalEntries"] == 1

    def test_a_member_without_roles_sees_an_empty_list(self, api_as, workspace):
        make_function(workspace=workspace, resource_type="SOURCE")
        data = api_as(None).get("/functions?resourceType=SOURCE").json()["data"]
        assert data["functions"] == []

    def test_other_workspaces_functions_never_appear(self, api):
        make_function(workspace=make_workspace(), resource_type="SOURCE")
        assert api.get("/functions?resourceType=SOURCE").json()["data"]["functions"] == []

    def test_query_count_is_the_same_on_every_page(
        self, api, workspace, django_assert_max_num_queries
    ):
        for _ in range(7):
            make_function(workspace=workspace, resource_type="SOURCE")
        first = api.get("/functions?resourceType=SOURCE&pagination.count=3").json()["data"]
        counts = []
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for cursor in (None, first["pagination"]["next"]):
            url = "/functions?resourceType=SOURCE&pagination.count=3"
            if cursor:
                url += f"&pagination.cursor={cursor}"
            with CaptureQueriesContext(connection) as queries:
                assert api.get(url).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1] <= 8


# Get, update, delete ------------------------------------------------------------------


@pytest.mark.django_db
class TestGet:
    def test_gets_code_settings_and_deploy_state_but_never_a_setting_value(self, api, workspace):
        function = make_function(workspace=workspace, resource_type="SOURCE", code="let a = 1;")
        make_setting(
            function=function,
            name="apiKey",
            sensitive=True,
            test_value_encrypted="gAAAAA-secret-token",
        )
        make_setting(function=function, name="region", test_value="eu-west-1")
        version_mark_deployed(version=latest_version(function=function))
        response = api.get(f"/functions/{function.public_id}")
        data = response.json()["data"]["function"]
        assert data["code"] == "let a = 1;"
        assert data["settings"][0] == {
            "name": "apiKey",
            "label": "apiKey",
            "description": "",
            "type": "STRING",
            "required": False,
            "sensitive": True,
        }
        assert data["isLatestVersion"] is True and data["deployedAt"]
        assert b"gAAAAA" not in response.content and b"eu-west-1" not in response.content

    def test_shows_the_preview_webhook_of_a_source(self, api, workspace):
        from functions_ui.editor.services import test_webhook_get_or_create

        function = make_function(workspace=workspace, resource_type="SOURCE")
        hook = test_webhook_get_or_create(function=function)
        data = api.get(f"/functions/{function.public_id}").json()["data"]["function"]
        assert data["previewWebhookUrl"].endswith(f"/hooks/test/{hook.token}/")

    def test_unknown_other_workspace_and_out_of_scope_functions_are_404(self, api_as, workspace):
        other = make_function(workspace=make_workspace())
        hidden = make_function(workspace=workspace)
        mine = make_function(workspace=workspace)
        client = api_as(Role.FUNCTIONS_READ_ONLY, functions=[mine])
        for function_id in ("dfn_nope", other.public_id, hidden.public_id):
            response = client.get(f"/functions/{function_id}")
            assert response.status_code == 404
            assert errors_of(response) == [{"type": "NotFound", "message": "Resource not found"}]
        assert client.get(f"/functions/{mine.public_id}").status_code == 200


@pytest.mark.django_db
class TestUpdate:
    def test_changing_code_saves_a_new_latest_version(self, api, workspace):
        function = make_function(workspace=workspace, code="v1")
        response = api.patch(f"/functions/{function.public_id}", {"code": "v2"})
        assert response.status_code == 200
        latest = latest_version(function=function)
        assert (latest.number, latest.code, latest.author_id) == (2, "v2", api.user.pk)
        assert response.json()["data"]["function"]["latestVersionId"] == latest.id

    def test_same_code_adds_no_version(self, api, workspace):
        function = make_function(workspace=workspace, code="v1")
        api.patch(f"/functions/{function.public_id}", {"code": "v1", "description": "new"})
        assert Version.objects.filter(function=function).count() == 1
        function.refresh_from_db()
        assert function.description == "new"

    def test_replacing_settings_keeps_test_values_by_name_and_versions_the_schema(
        self, api, workspace
    ):
        function = make_function(workspace=workspace)
        make_setting(function=function, name="apiKey", test_value="abc")
        make_setting(function=function, name="old")
        body = {
            "settings": [
                {"name": "region", "label": "Region", "type": "STRING"},
                {"name": "apiKey", "label": "API key", "type": "STRING"},
            ]
        }
        response = api.patch(f"/functions/{function.public_id}", body)
        assert response.status_code == 200
        settings = list(FunctionSetting.objects.filter(function=function))
        assert [s.name for s in settings] == ["region", "apiKey"]
        assert settings[1].test_value == "abc" and settings[1].label == "API key"
        latest = latest_version(function=function)
        assert [s["name"] for s in latest.settings_schema] == ["region", "apiKey"]

    def test_an_invalid_part_changes_nothing(self, api, workspace):
        function = make_function(workspace=workspace, display_name="Before", code="v1")
        body = {
            "displayName": "After",
            "code": "v2",
            "settings": [
                {"name": "a", "label": "A", "type": "STRING"},
                {"name": "a", "label": "A again", "type": "STRING"},
            ],
        }
        response = api.patch(f"/functions/{function.public_id}", body)
        assert (response.status_code, field_of(response)) == (422, "settings")
        function.refresh_from_db()
        assert (function.display_name, function.code) == ("Before", "v1")
        assert Version.objects.filter(function=function).count() == 1

    def test_resource_type_cannot_change_but_may_be_repeated(self, api, workspace):
        function = make_function(workspace=workspace, resource_type="SOURCE")
        url = f"/functions/{function.public_id}"
        response = api.patch(url, {"resourceType": "DESTINATION"})
        assert (response.status_code, field_of(response)) == (422, "resourceType")
        assert api.patch(url, {"resourceType": "SOURCE"}).status_code == 200

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"displayName": "y" * 121}, "displayName"),
            ({"displayName": "   "}, "displayName"),
            ({"code": "x" * (CODE_MAX_BYTES + 1)}, "code"),
            ({"logoUrl": "ftp:/nope"}, "logoUrl"),
            ({"description": ["a"]}, "description"),
        ],
    )
    def test_bad_fields_are_named(self, api, workspace, body, field):
        function = make_function(workspace=workspace)
        response = api.patch(f"/functions/{function.public_id}", body)
        assert (response.status_code, field_of(response)) == (422, field)

    def test_a_name_taken_by_another_function_is_a_422(self, api, workspace):
        make_function(workspace=workspace, display_name="Taken")
        function = make_function(workspace=workspace)
        response = api.patch(f"/functions/{function.public_id}", {"displayName": "taken"})
        assert (response.status_code, field_of(response)) == (422, "displayName")

    def test_a_refused_write_is_in_the_audit_trail_as_through_the_api(self, api_as, workspace):
        from functions_ui.audit.models import AuditEvent

        function = make_function(workspace=workspace)
        client = api_as(Role.FUNCTIONS_READ_ONLY)
        client.patch(f"/functions/{function.public_id}", {"code": "x"})
        event = AuditEvent.objects.get(action="access.denied")
        assert (event.via, event.actor_id) == ("api", client.user.pk)


@pytest.mark.django_db
class TestDelete:
    def test_deletes(self, api, workspace):
        function = make_function(workspace=workspace)
        response = api.delete(f"/functions/{function.public_id}")
        assert response.json() == {"data": {"status": "SUCCESS"}}
        assert not Function.objects.filter(pk=function.pk).exists()
        assert api.delete(f"/functions/{function.public_id}").status_code == 404

    def test_needs_the_delete_role(self, api_as, workspace):
        function = make_function(workspace=workspace)
        assert (
            api_as(Role.SOURCE_ADMIN).delete(f"/functions/{function.public_id}").status_code == 403
        )
        assert Function.objects.filter(pk=function.pk).exists()


# Versions -----------------------------------------------------------------------------


def _three_versions(workspace, user=None) -> tuple[Function, list[Version]]:
    function = make_function(workspace=workspace, code="one\n")
    for code in ("one\ntwo\n", "one\ntwo\nthree\n"):
        version_save(function=function, user=user, code=code, base_version_id=None)
    return function, list(Version.objects.filter(function=function).order_by("number"))


@pytest.mark.django_db
class TestVersion:
    def test_lists_newest_first_with_labels(self, api, workspace):
        function, versions = _three_versions(workspace)
        version_mark_deployed(version=versions[1])
        data = api.get(f"/functions/{function.public_id}/versions").json()["data"]
        assert [v["id"] for v in data["versions"]] == [v.id for v in reversed(versions)]
        assert [v["isDeployed"] for v in data["versions"]] == [False, True, False]
        assert data["versions"][1]["deployedAt"] and data["versions"][0]["deployedAt"] is None
        assert data["versions"][0]["code"] == "one\ntwo\nthree\n"

    def test_pages_of_versions_stay_right_when_one_is_saved_between_them(self, api, workspace):
        function, versions = _three_versions(workspace)
        url = f"/functions/{function.public_id}/versions?pagination.count=2"
        first = api.get(url).json()["data"]
        version_save(function=function, user=None, code="four\n", base_version_id=None)
        second = api.get(url + f"&pagination.cursor={first['pagination']['next']}").json()
        ids = [v["id"] for v in first["versions"] + second["data"]["versions"]]
        assert ids == [v.id for v in reversed(versions)]
        assert second["data"]["pagination"]["next"] is None

    def test_gets_one_version(self, api, workspace):
        function, versions = _three_versions(workspace)
        response = api.get(f"/functions/{function.public_id}/versions/{versions[0].id}")
        assert response.json()["data"]["version"]["code"] == "one\n"

    def test_another_function_s_version_or_a_bad_id_is_404(self, api, workspace):
        function, _ = _three_versions(workspace)
        _, others = _three_versions(workspace)
        for version_id in (others[0].id, "nope", "z" * 27):
            url = f"/functions/{function.public_id}/versions/{version_id}"
            assert api.get(url).status_code == 404

    def test_restore_makes_a_new_latest_copy(self, api, workspace):
        function, versions = _three_versions(workspace)
        response = api.post(
            f"/functions/{function.public_id}/versions", {"versionId": versions[0].id}
        )
        data = response.json()["data"]["version"]
        assert (data["number"], data["code"], data["restoredFrom"]) == (4, "one\n", versions[0].id)
        assert data["isLatest"] is True and data["isDeployed"] is False
        function.refresh_from_db()
        assert function.code == "one\n"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "versionId"),
            ({"versionId": 3}, "versionId"),
            ({"versionId": "nope"}, "versionId"),
            ({"id": "x"}, "id"),
        ],
    )
    def test_restore_input_is_checked(self, api, workspace, body, field):
        function, _ = _three_versions(workspace)
        response = api.post(f"/functions/{function.public_id}/versions", body)
        assert response.status_code == 422
        assert field in [error.get("field") for error in errors_of(response)]

    def test_restore_needs_edit_rights(self, api_as, workspace):
        function, versions = _three_versions(workspace)
        client = api_as(Role.FUNCTIONS_READ_ONLY)
        response = client.post(
            f"/functions/{function.public_id}/versions", {"versionId": versions[0].id}
        )
        assert response.status_code == 403
        assert client.get(f"/functions/{function.public_id}/versions").status_code == 200

    def test_compare_returns_hunks_and_unified_text(self, api, workspace):
        function, versions = _three_versions(workspace)
        url = f"/functions/{function.public_id}/versions/{versions[0].id}/compare/{versions[2].id}"
        diff = api.get(url).json()["data"]["diff"]
        assert (diff["added"], diff["removed"], diff["identical"]) == (2, 0, False)
        assert diff["hunks"] == [
            {
                "oldStart": 1,
                "oldLines": 1,
                "newStart": 1,
                "newLines": 3,
                "lines": [
                    {"type": "context", "oldNumber": 1, "newNumber": 1, "text": "one"},
                    {"type": "insert", "oldNumber": None, "newNumber": 2, "text": "two"},
                    {"type": "insert", "oldNumber": None, "newNumber": 3, "text": "three"},
                ],
            }
        ]
        assert diff["unified"].startswith("--- v1\n+++ v3\n@@ -1 +1,3 @@\n")

    def test_compare_options_are_checked(self, api, workspace):
        function, versions = _three_versions(workspace)
        url = f"/functions/{function.public_id}/versions/{versions[0].id}/compare/{versions[1].id}"
        assert api.get(url + "?context=0&ignoreWhitespace=true").status_code == 200
        assert field_of(api.get(url + "?context=many")) == "context"
        assert field_of(api.get(url + "?ignoreWhitespace=yes")) == "ignoreWhitespace"


# Deploys and instances ----------------------------------------------------------------


@pytest.mark.django_db
class TestDeploy:
    def test_deploys_latest_to_every_instance(
        self, api, workspace, django_capture_on_commit_callbacks
    ):
        from functions_ui.deploys.models import Deploy

        function = make_function(workspace=workspace, resource_type="DESTINATION")
        with django_capture_on_commit_callbacks() as callbacks:
            response = api.post(f"/functions/{function.public_id}/deploy")
        assert response.status_code == 200
        data = response.json()["data"]["functionDeployment"]
        deploy = Deploy.objects.get(pk=data["id"])
        assert data["status"] == "SUCCESS" and data["deployStatus"] == "QUEUED"
        assert deploy.version == latest_version(function=function) and deploy.target_all
        assert len(callbacks) == 1  # the deploy task is enqueued once committed
        follow = api.get(f"/functions/{function.public_id}/deploys/{deploy.pk}")
        assert follow.json()["data"]["functionDeployment"]["id"] == str(deploy.pk)

    def test_deploys_a_chosen_version_to_chosen_instances(self, api, workspace):
        from functions_ui.deploys.instances import source_instance_create
        from functions_ui.deploys.models import Deploy

        function, versions = _three_versions(workspace)
        function.resource_type = "SOURCE"
        function.save()
        instance = source_instance_create(function=function, user=None, name="One", raw_settings={})
        source_instance_create(function=function, user=None, name="Two", raw_settings={})
        body = {"versionId": versions[0].id, "instanceIds": [instance.public_id]}
        response = api.post(f"/functions/{function.public_id}/deploy", body)
        assert response.status_code == 200, response.content
        deploy = Deploy.objects.get()
        assert deploy.version == versions[0] and not deploy.target_all
        assert list(deploy.source_instances.all()) == [instance]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"versionId": "nope"}, "versionId"),
            ({"instanceIds": "all"}, "instanceIds"),
            ({"instanceIds": ["src_nope"]}, "instances"),
            ({"when": "now"}, "when"),
        ],
    )
    def test_bad_deploy_input_is_named(self, api, workspace, body, field):
        function = make_function(workspace=workspace)
        response = api.post(f"/functions/{function.public_id}/deploy", body)
        assert (response.status_code, field_of(response)) == (422, field)

    def test_unknown_deploy_is_404(self, api, workspace):
        function = make_function(workspace=workspace)
        assert api.get(f"/functions/{function.public_id}/deploys/999").status_code == 404
        assert api.get(f"/functions/{function.public_id}/deploys/abc").status_code == 404


@pytest.mark.django_db
class TestInstance:
    def test_lists_instances_with_plain_values_only(self, api, workspace):
        from functions_ui.deploys.instances import source_instance_create

        function = make_function(workspace=workspace, resource_type="SOURCE")
        make_setting(function=function, name="region")
        make_setting(function=function, name="apiKey", sensitive=True)
        instance = source_instance_create(
            function=function,
            user=None,
            name="Prod",
            raw_settings={"region": "eu", "apiKey": "s3cr3t-value"},
        )
        response = api.get(f"/functions/{function.public_id}/instances")
        assert b"s3cr3t-value" not in response.content
        (item,) = response.json()["data"]["instances"]
        assert item["id"] == instance.public_id and item["kind"] == "SOURCE"
        assert item["settings"] == {"region": "eu"} and item["sensitiveSettings"] == ["apiKey"]
        one = api.get(f"/functions/{function.public_id}/instances/{instance.public_id}")
        assert one.json()["data"]["instance"]["name"] == "Prod"

    def test_an_instance_of_another_function_is_404(self, api, workspace):
        from functions_ui.deploys.instances import source_instance_create

        function = make_function(workspace=workspace, resource_type="SOURCE")
        other = make_function(workspace=workspace, resource_type="SOURCE")
        instance = source_instance_create(function=other, user=None, name="X", raw_settings={})
        url = f"/functions/{function.public_id}/instances/{instance.public_id}"
        assert api.get(url).status_code == 404


class TestMetrics:
    def test_instance_metrics_answer_a_series_in_the_documented_shape(self, api, workspace):
        from functions_ui.deploys import metrics
        from functions_ui.deploys.models import RunStatus
        from tests.deploys.helpers import T0, make_destination, make_source

        _, source = make_source(workspace=workspace)
        function, destination = make_destination(workspace=workspace, sources=[source])
        metrics.record(
            [
                metrics.Outcome(function.pk, destination.public_id, RunStatus.DELIVERED, 4, T0),
                metrics.Outcome(function.pk, destination.public_id, RunStatus.FAILED, 900, T0),
            ]
        )
        url = f"/functions/{function.public_id}/instances/{destination.public_id}/metrics"
        body = api.get(
            url + "?startTime=2026-01-01T11:00:00Z&endTime=2026-01-01T14:00:00Z&granularity=HOUR"
        ).json()
        series = body["data"]["series"]
        assert [point["time"] for point in series] == [
            "2026-01-01T11:00:00.000Z",
            "2026-01-01T12:00:00.000Z",
            "2026-01-01T13:00:00.000Z",
        ]
        assert series[1] == {
            "time": "2026-01-01T12:00:00.000Z",
            "delivered": 1,
            "filtered": 0,
            "unsupported": 0,
            "rejected": 0,
            "retrying": 0,
            "failed": 1,
            "durationP50Ms": 5.0,
            "durationP95Ms": 1000.0,
            "durationP99Ms": 1000.0,
        }
        assert series[0]["durationP50Ms"] is None
        whole = api.get(
            f"/functions/{function.public_id}/metrics"
            "?startTime=2026-01-01T12:00:00&endTime=2026-01-01T13:00:00"
        )
        assert sum(p["delivered"] for p in whole.json()["data"]["series"]) == 1

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("startTime=2026-01-02T00:00:00Z&endTime=2026-01-01T00:00:00Z", "startTime"),
            (
                "startTime=2025-01-01T00:00:00Z&endTime=2026-01-01T00:00:00Z&granularity=MINUTE",
                "granularity",
            ),
            ("granularity=WEEK", "granularity"),
            ("startTime=yesterday", "startTime"),
        ],
    )
    def test_bad_ranges_are_named(self, api, workspace, query, field):
        function = make_function(workspace=workspace)
        response = api.get(f"/functions/{function.public_id}/metrics?{query}")
        assert (response.status_code, field_of(response)) == (422, field)
