"""function_update, function_settings_replace and function_create with settings."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from catalog.models import FunctionSetting
from catalog.services import (
    SETTING_LIMIT,
    function_create,
    function_settings_replace,
    function_update,
    validate_settings_schema,
)
from tests.factories import make_function, make_setting
from versioning.models import Version

pytestmark = pytest.mark.django_db


def test_update_changes_only_the_fields_given(workspace):
    function = make_function(workspace=workspace, display_name="Old", description="Kept")
    function_update(function=function, user=None, display_name="  New  ")
    function.refresh_from_db()
    assert (function.display_name, function.description) == ("New", "Kept")


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"display_name": "x" * 121}, "display_name"),
        ({"display_name": " "}, "display_name"),
        ({"display_name": "taken"}, "display_name"),
        ({"logo_url": "not a url"}, "logo_url"),
    ],
)
def test_update_refuses_bad_values(workspace, fields, error_field):
    make_function(workspace=workspace, display_name="Taken")
    function = make_function(workspace=workspace, display_name="Mine")
    with pytest.raises(ValidationError) as error:
        function_update(function=function, user=None, **fields)
    assert error_field in error.value.message_dict


def test_update_may_keep_its_own_name_in_another_case(workspace):
    function = make_function(workspace=workspace, display_name="Mine")
    function_update(function=function, user=None, display_name="MINE")
    function.refresh_from_db()
    assert function.display_name == "MINE"


def test_create_with_settings_records_them_in_version_1(workspace):
    function = function_create(
        workspace=workspace,
        user=None,
        resource_type="SOURCE",
        display_name="With settings",
        code="x",
        settings=[{"name": "apiKey", "label": "API key", "type": "STRING", "sensitive": True}],
    )
    version = Version.objects.get(function=function)
    assert version.settings_schema == [
        {
            "name": "apiKey",
            "label": "API key",
            "description": "",
            "type": "STRING",
            "required": False,
            "sensitive": True,
        }
    ]


def test_create_with_bad_settings_creates_nothing(workspace):
    with pytest.raises(ValidationError):
        function_create(
            workspace=workspace,
            user=None,
            resource_type="SOURCE",
            display_name="Nope",
            settings=[{"name": "a", "label": "", "type": "STRING"}],
        )
    assert not workspace.functions.exists()


def test_replace_matches_by_name_and_drops_values_whose_kind_changed(workspace):
    function = make_function(workspace=workspace)
    make_setting(function=function, name="keep", test_value="same")
    make_setting(function=function, name="retype", test_value="text")
    make_setting(function=function, name="gone")
    function_settings_replace(
        function=function,
        settings=[
            {"name": "retype", "label": "Retyped", "type": "BOOLEAN"},
            {"name": "keep", "label": "Keep", "type": "STRING"},
            {"name": "added", "label": "Added", "type": "ARRAY", "required": True},
        ],
    )
    rows = {s.name: s for s in FunctionSetting.objects.filter(function=function)}
    assert list(rows) == ["retype", "keep", "added"]
    assert rows["keep"].test_value == "same" and rows["retype"].test_value is None
    assert rows["added"].required is True


@pytest.mark.parametrize(
    "schema",
    [
        [{"name": "Upper", "label": "x", "type": "STRING"}],
        [
            {"name": "a", "label": "x", "type": "STRING"},
            {"name": "a", "label": "y", "type": "STRING"},
        ],
        [{"name": "a", "label": "x" * 101, "type": "STRING"}],
        [{"name": "a", "label": "x", "type": "NUMBER"}],
        [{"name": f"s{n}", "label": "x", "type": "STRING"} for n in range(SETTING_LIMIT + 1)],
    ],
)
def test_invalid_schemas_are_refused(schema):
    with pytest.raises(ValidationError) as error:
        validate_settings_schema(schema)
    assert "settings" in error.value.message_dict
