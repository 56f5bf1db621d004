import pytest
from django.db import IntegrityError, transaction

from catalog.models import Function, FunctionSetting, ResourceType
from tests.factories import make_function, make_workspace

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("resource_type", "prefix", "type_slug"),
    [
        (ResourceType.SOURCE, "sfnc_", "source"),
        (ResourceType.DESTINATION, "dfn_", "destination"),
        (ResourceType.INSERT_DESTINATION, "ifnd_", "insert"),
    ],
)
def test_public_id_carries_segment_type_prefix(resource_type, prefix, type_slug):
    function = make_function(workspace=make_workspace(), resource_type=resource_type)
    assert function.public_id.startswith(prefix)
    assert len(function.catalog_id) == 22
    assert function.public_id == prefix + function.catalog_id
    assert function.type_slug == type_slug


def test_names_are_unique_per_workspace_ignoring_case_in_the_database():
    workspace = make_workspace()
    make_function(workspace=workspace, display_name="Mailer")
    with pytest.raises(IntegrityError), transaction.atomic():
        Function.objects.create(
            workspace=workspace,
            public_id="dfn_x",
            resource_type="DESTINATION",
            display_name="MAILER",
        )


def test_same_name_is_fine_in_another_workspace():
    make_function(workspace=make_workspace(), display_name="Mailer")
    other = make_function(workspace=make_workspace(), display_name="Mailer")
    assert other.display_name == "Mailer"


def test_database_refuses_unknown_resource_type():
    with pytest.raises(IntegrityError), transaction.atomic():
        Function.objects.create(
            workspace=make_workspace(), public_id="x_1", resource_type="LAMBDA", display_name="A"
        )


def test_database_refuses_empty_display_name():
    with pytest.raises(IntegrityError), transaction.atomic():
        Function.objects.create(
            workspace=make_workspace(), public_id="x_2", resource_type="SOURCE", display_name=""
        )


@pytest.mark.parametrize("name", ["API Key", "api_key", "1key", "apiKey!"])
def test_database_refuses_setting_names_that_are_not_camel_case(name):
    function = make_function(workspace=make_workspace())
    with pytest.raises(IntegrityError), transaction.atomic():
        FunctionSetting.objects.create(function=function, name=name, label="x")


def test_database_refuses_unknown_setting_type():
    function = make_function(workspace=make_workspace())
    with pytest.raises(IntegrityError), transaction.atomic():
        FunctionSetting.objects.create(function=function, name="apiKey", label="x", type="NUMBER")


def test_setting_names_are_unique_per_function():
    function = make_function(workspace=make_workspace())
    FunctionSetting.objects.create(function=function, name="apiKey", label="API Key")
    with pytest.raises(IntegrityError), transaction.atomic():
        FunctionSetting.objects.create(function=function, name="apiKey", label="Other")
