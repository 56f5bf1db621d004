"""The settings a test run gets: every type as its type, as the page shows it."""

from __future__ import annotations

import pytest

from catalog.models import ResourceType, SettingType
from catalog.services import setting_test_value_set
from functions_ui.editor.services import test_settings as settings_for_test_run
from tests.factories import make_function, make_setting

pytestmark = pytest.mark.django_db


def test_each_type_reaches_the_code_as_its_type(workspace):
    function = make_function(workspace=workspace, resource_type=ResourceType.DESTINATION)
    flags = {
        name: make_setting(function=function, name=name, label=name, type=SettingType.BOOLEAN)
        for name in ("unset", "on", "off")
    }
    items = make_setting(function=function, name="items", label="Items", type=SettingType.ARRAY)
    pairs = make_setting(function=function, name="pairs", label="Pairs", type=SettingType.TEXT_MAP)
    setting_test_value_set(setting=flags["on"], raw="true")
    setting_test_value_set(setting=flags["off"], raw="false")
    setting_test_value_set(setting=items, raw="a\nb")
    setting_test_value_set(setting=pairs, raw="k=v")
    values, _ = settings_for_test_run(function=function)
    # An unset Boolean is shown switched off: the code gets false, never undefined.
    assert values == {
        "unset": False,
        "on": True,
        "off": False,
        "items": ["a", "b"],
        "pairs": {"k": "v"},
    }
