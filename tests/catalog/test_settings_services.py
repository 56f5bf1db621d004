import pytest
from django.core.exceptions import ValidationError

from catalog.models import SettingType
from catalog.secrets import decrypt_value
from catalog.services import (
    parse_setting_value,
    setting_create,
    setting_delete,
    setting_move,
    setting_name_from_label,
    setting_test_value_set,
    setting_update,
)
from tests.factories import make_function, make_workspace

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("API Key", "apiKey"),
        ("api key", "apiKey"),
        ("Webhook URL", "webhookUrl"),
        ("  region  ", "region"),
        ("3rd party token", "setting3rdPartyToken"),
        ("Événement ID", "evenementId"),
        ("!!!", ""),
    ],
)
def test_names_are_camel_cased_labels(label, name):
    assert setting_name_from_label(label) == name


@pytest.fixture
def function():
    return make_function(workspace=make_workspace())


def test_create_appends_in_order_with_generated_names(function):
    first = setting_create(function=function, label="API Key", required=True, sensitive=True)
    second = setting_create(function=function, label="Region", type=SettingType.STRING)
    assert (first.name, first.position, first.required, first.sensitive) == (
        "apiKey",
        0,
        True,
        True,
    )
    assert (second.name, second.position) == ("region", 1)


def test_duplicate_name_is_a_clear_error(function):
    setting_create(function=function, label="API Key")
    with pytest.raises(ValidationError) as error:
        setting_create(function=function, label="api-key")
    assert error.value.message_dict["label"] == [
        "A setting named “apiKey” already exists; choose another label."
    ]


def test_label_without_letters_is_refused(function):
    with pytest.raises(ValidationError) as error:
        setting_create(function=function, label="???")
    assert "label" in error.value.message_dict


def test_move_reorders(function):
    a = setting_create(function=function, label="A")
    b = setting_create(function=function, label="B")
    c = setting_create(function=function, label="C")
    setting_move(setting=c, offset=-1)
    assert [s.name for s in function.settings.all()] == ["a", "c", "b"]
    setting_move(setting=a, offset=-1)  # already first: stays
    assert [s.name for s in function.settings.all()] == ["a", "c", "b"]
    setting_move(setting=b, offset=1)
    assert [s.name for s in function.settings.all()] == ["a", "c", "b"]


def test_update_renames_and_changing_sensitivity_drops_the_test_value(function):
    setting = setting_create(function=function, label="Token")
    setting_test_value_set(setting=setting, raw="visible")
    setting = setting_update(setting=setting, label="Access Token", type="STRING", sensitive=True)
    assert setting.name == "accessToken"
    assert setting.test_value is None and setting.test_value_encrypted == ""


def test_sensitive_test_value_is_only_stored_encrypted(function):
    setting = setting_create(function=function, label="API Key", sensitive=True)
    setting_test_value_set(setting=setting, raw="sk_live_secret")
    setting.refresh_from_db()
    assert setting.test_value is None
    assert "sk_live_secret" not in setting.test_value_encrypted
    assert decrypt_value(setting.test_value_encrypted) == "sk_live_secret"
    assert setting.has_test_value


@pytest.mark.parametrize(
    ("setting_type", "raw", "value"),
    [
        (SettingType.STRING, "eu-west", "eu-west"),
        (SettingType.BOOLEAN, "true", True),
        (SettingType.BOOLEAN, "false", False),
        (SettingType.ARRAY, "Order Completed\n\n Signed Up \n", ["Order Completed", "Signed Up"]),
        (SettingType.TEXT_MAP, "plan=pro\nregion = eu\n", {"plan": "pro", "region": "eu"}),
        (SettingType.TEXT_MAP, {"a": 1}, {"a": "1"}),
    ],
)
def test_values_are_parsed_by_type(setting_type, raw, value):
    assert parse_setting_value(setting_type, raw) == value


def test_map_lines_without_equals_sign_are_refused_with_the_line():
    with pytest.raises(ValidationError, match="Line 2: write each entry as key=value."):
        parse_setting_value(SettingType.TEXT_MAP, "a=1\nnot a pair")


def test_delete(function):
    setting = setting_create(function=function, label="A")
    setting_delete(setting=setting)
    assert function.settings.count() == 0
