import pytest
from django.core.exceptions import ValidationError

from catalog.content import CODE_MAX_BYTES
from catalog.models import Function, ResourceType
from catalog.services import function_create, function_delete
from catalog.starters import default_code
from tests.factories import make_function, make_setting, make_user, make_workspace

pytestmark = pytest.mark.django_db


def test_create_starts_from_the_type_template_and_records_the_author():
    workspace, user = make_workspace(), make_user()
    function = function_create(
        workspace=workspace, user=user, resource_type=ResourceType.SOURCE, display_name="  Hooks  "
    )
    assert function.display_name == "Hooks"
    assert function.code == default_code(ResourceType.SOURCE)
    assert "async function onRequest(request, settings)" in function.code
    assert function.created_by == user
    assert function.updated_by == user


def test_create_keeps_the_given_code_exactly():
    code = "async function onTrack(event, settings) {\r\n  return event;\n}  "
    function = make_function(workspace=make_workspace(), code=code)
    assert Function.objects.get(pk=function.pk).code == code


def test_create_refuses_a_name_taken_in_the_workspace_whatever_its_case():
    workspace = make_workspace()
    make_function(workspace=workspace, display_name="Mailer")
    with pytest.raises(ValidationError) as error:
        make_function(workspace=workspace, display_name="mailer")
    assert error.value.message_dict == {
        "display_name": ["A function with this name already exists."]
    }


def test_create_refuses_names_over_120_characters():
    with pytest.raises(ValidationError) as error:
        make_function(workspace=make_workspace(), display_name="x" * 121)
    assert "display_name" in error.value.message_dict
    assert Function.objects.count() == 0


def test_create_accepts_exactly_120_characters():
    assert (
        len(make_function(workspace=make_workspace(), display_name="x" * 120).display_name) == 120
    )


def test_create_refuses_an_unknown_type():
    with pytest.raises(ValidationError) as error:
        make_function(workspace=make_workspace(), resource_type="LAMBDA")
    assert "resource_type" in error.value.message_dict


def test_create_refuses_oversized_code():
    with pytest.raises(ValidationError) as error:
        make_function(workspace=make_workspace(), code="x" * (CODE_MAX_BYTES + 1))
    assert "code" in error.value.message_dict


def test_delete_removes_the_function_and_its_settings():
    function = make_function(workspace=make_workspace())
    make_setting(function=function)
    function_delete(function=function)
    assert not Function.objects.filter(pk=function.pk).exists()
    assert function.settings.model.objects.count() == 0
