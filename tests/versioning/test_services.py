import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.content import CODE_MAX_BYTES
from catalog.models import FunctionSetting
from catalog.secrets import encrypt_value
from catalog.services import setting_create
from tests.factories import make_function, make_setting, make_user
from versioning import selectors
from versioning.models import Label, Version, VersionLabel
from versioning.services import (
    StaleVersionError,
    version_mark_deployed,
    version_restore,
    version_save,
)

pytestmark = pytest.mark.django_db


def labels(function):
    return dict(
        VersionLabel.objects.filter(function=function).values_list("label", "version__number")
    )


class TestFunctionCreate:
    def test_creating_a_function_is_version_1_labelled_latest(self, workspace):
        user = make_user(username="ada")
        function = make_function(workspace=workspace, code="// hi\n", user=user)
        version = function.versions.get()
        assert (version.number, version.code, version.note) == (1, "// hi\n", "Created")
        assert version.author == user
        assert version.author_name == "ada"
        assert labels(function) == {"LATEST": 1}


class TestVersionSave:
    def test_a_save_creates_the_next_version_and_moves_latest(self, workspace):
        user = make_user(username="grace")
        function = make_function(workspace=workspace, code="a\n")
        v1 = function.versions.get()
        v2 = version_save(
            function=function, user=user, code="b\n", base_version_id=v1.id, note=" fix "
        )
        assert (v2.number, v2.code, v2.note, v2.author_name) == (2, "b\n", "fix", "grace")
        assert labels(function) == {"LATEST": 2}
        function.refresh_from_db()
        assert function.code == "b\n"
        assert function.updated_by == user
        assert Version.objects.get(pk=v1.pk).code == "a\n"

    def test_a_save_that_changes_nothing_creates_nothing(self, workspace):
        function = make_function(workspace=workspace, code="a\n")
        v1 = function.versions.get()
        assert version_save(function=function, user=None, code="a\n", base_version_id=v1.id) is None
        assert function.versions.count() == 1

    def test_a_settings_change_alone_is_a_new_version(self, workspace):
        function = make_function(workspace=workspace, code="a\n")
        setting_create(function=function, label="API Key", sensitive=True)
        version = version_save(function=function, user=None, code="a\n", base_version_id=None)
        assert version.number == 2
        assert version.settings_schema == [
            {
                "name": "apiKey",
                "label": "API Key",
                "description": "",
                "type": "STRING",
                "required": False,
                "sensitive": True,
            }
        ]

    @pytest.mark.postgres
    def test_a_stale_save_is_refused_and_names_the_new_latest(self, workspace):
        function = make_function(workspace=workspace, code="a\n")
        v1 = function.versions.get()
        v2 = version_save(function=function, user=None, code="b\n", base_version_id=v1.id)
        with pytest.raises(StaleVersionError) as caught:
            version_save(function=function, user=None, code="mine\n", base_version_id=v1.id)
        assert caught.value.latest == v2
        assert "v2" in str(caught.value)
        assert function.versions.count() == 2
        function.refresh_from_db()
        assert function.code == "b\n"

    def test_oversized_code_is_refused(self, workspace):
        function = make_function(workspace=workspace)
        with pytest.raises(ValidationError):
            version_save(
                function=function, user=None, code="x" * (CODE_MAX_BYTES + 1), base_version_id=None
            )
        assert function.versions.count() == 1

    def test_secret_values_never_reach_a_version(self, workspace, settings):
        settings.SECRETS_ENCRYPTION_KEYS = ["ZmFrZS1rZXktZm9yLXRlc3RzLW9ubHktMzItYnl0ZXM="]
        function = make_function(workspace=workspace, code="a\n")
        make_setting(
            function=function,
            name="token",
            sensitive=True,
            test_value_encrypted=encrypt_value("hunter2-secret"),
        )
        make_setting(function=function, name="region", test_value="eu-west-1")
        version = version_save(function=function, user=None, code="b\n", base_version_id=None)
        stored = str(Version.objects.filter(pk=version.pk).values().get())
        assert "hunter2" not in stored
        assert "eu-west-1" not in stored
        assert {item["name"] for item in version.settings_schema} == {"token", "region"}

    def test_labels_move_in_the_same_transaction_as_the_save(self, workspace, monkeypatch):
        from versioning import services

        function = make_function(workspace=workspace, code="a\n")

        def fail(**kwargs):
            raise RuntimeError("label write failed")

        monkeypatch.setattr(services, "_label_move", fail)
        with pytest.raises(RuntimeError):
            version_save(function=function, user=None, code="b\n", base_version_id=None)
        assert function.versions.count() == 1
        function.refresh_from_db()
        assert function.code == "a\n"

    def test_version_rows_are_only_ever_inserted(self, workspace):
        function = make_function(workspace=workspace, code="a\n")
        with CaptureQueriesContext(connection) as queries:
            v2 = version_save(function=function, user=None, code="b\n", base_version_id=None)
            version_restore(version=function.versions.get(number=1), user=None)
            version_mark_deployed(version=v2)
        sql = [query["sql"] for query in queries.captured_queries]
        assert not [
            q
            for q in sql
            if q.startswith(('UPDATE "versioning_version"', 'DELETE FROM "versioning_version"'))
        ]
        assert any(q.startswith('INSERT INTO "versioning_version"') for q in sql)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_from_one_base_keep_one_and_refuse_the_other(workspace):
    # SQLite serialises writers, PostgreSQL the select_for_update: either way one save wins.
    function = make_function(workspace=workspace, code="a\n")
    base = function.versions.get().id
    results: list[object] = []

    def save(code):
        try:
            results.append(
                version_save(function=function, user=None, code=code, base_version_id=base)
            )
        except StaleVersionError as error:
            results.append(error)
        except Exception as error:  # SQLite may report the lock instead
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(f"{n}\n",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Never two versions built on one base; SQLite may also refuse both with "locked".
    successes = sum(isinstance(result, Version) for result in results)
    assert successes <= 1
    assert function.versions.count() == 1 + successes
    assert not [r for r in results if not isinstance(r, Version | StaleVersionError)] or (
        connection.vendor == "sqlite"
    )


class TestVersionRestore:
    def test_restore_copies_the_version_as_a_new_latest(self, workspace):
        user = make_user(username="linus")
        function = make_function(workspace=workspace, code="a\n")
        v1 = function.versions.get()
        version_save(function=function, user=None, code="b\n", base_version_id=None)
        v3 = version_restore(version=v1, user=user)
        assert (v3.number, v3.code, v3.restored_from, v3.note) == (3, "a\n", v1, "Restored v1")
        assert v3.author_name == "linus"
        assert labels(function) == {"LATEST": 3}
        function.refresh_from_db()
        assert function.code == "a\n"
        assert function.versions.count() == 3

    def test_restore_deploys_nothing(self, workspace):
        function = make_function(workspace=workspace, code="a\n")
        v1 = function.versions.get()
        v2 = version_save(function=function, user=None, code="b\n", base_version_id=None)
        version_mark_deployed(version=v2)
        version_restore(version=v1, user=None)
        assert labels(function) == {"LATEST": 3, "DEPLOYED": 2}

    def test_restore_brings_back_the_settings_schema_and_keeps_test_values(self, workspace):
        function = make_function(workspace=workspace, code="a\n")
        region = make_setting(function=function, name="region", label="Region", test_value="eu")
        secret = make_setting(
            function=function, name="token", sensitive=True, test_value_encrypted="tok-123"
        )
        v2 = version_save(function=function, user=None, code="b\n", base_version_id=None)
        FunctionSetting.objects.filter(pk=region.pk).update(label="Area", required=True)
        FunctionSetting.objects.filter(pk=secret.pk).delete()
        make_setting(function=function, name="extra")
        version_save(function=function, user=None, code="c\n", base_version_id=None)

        version_restore(version=v2, user=None)

        rows = {s.name: s for s in FunctionSetting.objects.filter(function=function)}
        assert set(rows) == {"region", "token"}
        assert (rows["region"].label, rows["region"].required) == ("Region", False)
        assert rows["region"].test_value == "eu"
        assert rows["token"].sensitive is True
        assert rows["token"].test_value_encrypted == ""

    def test_restore_then_undo_loses_no_test_value(self, workspace):
        """Test values belong to the setting's name: a restore that removes the setting parks
        them, and the Undo (a restore of the version before) brings them back."""
        function = make_function(workspace=workspace, code="a\n")
        v1 = function.versions.get()
        make_setting(function=function, name="region", label="Region", test_value="eu")
        make_setting(function=function, name="token", sensitive=True, test_value_encrypted="tok")
        v2 = version_save(function=function, user=None, code="b\n", base_version_id=None)

        version_restore(version=v1, user=None)  # v1 has no settings
        assert not FunctionSetting.objects.filter(function=function).exists()
        function.refresh_from_db()
        assert "tok" not in str(function.parked_test_values.get("region"))
        version_restore(version=v2, user=None)  # Undo

        rows = {s.name: s for s in FunctionSetting.objects.filter(function=function)}
        assert rows["region"].test_value == "eu"
        assert rows["token"].test_value_encrypted == "tok"
        function.refresh_from_db()
        assert function.parked_test_values == {}

    def test_restore_keeps_a_secret_whose_setting_still_exists(self, workspace):
        function = make_function(workspace=workspace, code="a\n")
        make_setting(function=function, name="token", sensitive=True, test_value_encrypted="tok")
        v2 = version_save(function=function, user=None, code="b\n", base_version_id=None)
        version_save(function=function, user=None, code="c\n", base_version_id=None)
        version_restore(version=v2, user=None)
        assert FunctionSetting.objects.get(function=function).test_value_encrypted == "tok"

    def test_restore_drops_a_test_value_whose_setting_changed_type(self, workspace):
        function = make_function(workspace=workspace, code="a\n")
        setting = make_setting(function=function, name="flag", type="STRING", test_value="yes")
        v2 = version_save(function=function, user=None, code="b\n", base_version_id=None)
        FunctionSetting.objects.filter(pk=setting.pk).update(type="BOOLEAN", test_value=True)
        version_save(function=function, user=None, code="c\n", base_version_id=None)
        version_restore(version=v2, user=None)
        setting.refresh_from_db()
        assert (setting.type, setting.test_value) == ("STRING", None)

    @pytest.mark.postgres
    def test_a_stale_editor_after_a_restore_is_refused(self, workspace):
        function = make_function(workspace=workspace, code="a\n")
        v1 = function.versions.get()
        v2 = version_save(function=function, user=None, code="b\n", base_version_id=v1.id)
        v3 = version_restore(version=v1, user=None)
        with pytest.raises(StaleVersionError) as caught:
            version_save(function=function, user=None, code="x\n", base_version_id=v2.id)
        assert caught.value.latest == v3


class TestVersionMarkDeployed:
    def test_deployed_moves_and_can_share_a_version_with_latest(self, workspace):
        function = make_function(workspace=workspace, code="a\n")
        v1 = function.versions.get()
        version_mark_deployed(version=v1)
        assert labels(function) == {"LATEST": 1, "DEPLOYED": 1}
        v2 = version_save(function=function, user=None, code="b\n", base_version_id=None)
        version_mark_deployed(version=v2)
        assert labels(function) == {"LATEST": 2, "DEPLOYED": 2}
        assert selectors.deployed_version(function=function) == v2
        assert VersionLabel.objects.filter(function=function, label=Label.DEPLOYED).count() == 1
