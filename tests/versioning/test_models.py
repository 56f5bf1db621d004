import pytest

from catalog.services import function_delete
from tests.factories import make_function
from versioning.models import ImmutableVersionError, Version, VersionLabel
from versioning.services import version_restore, version_save

pytestmark = pytest.mark.django_db


def test_a_saved_version_refuses_to_be_saved_again(workspace):
    version = make_function(workspace=workspace).versions.get()
    version.code = "tampered"
    with pytest.raises(ImmutableVersionError):
        version.save()
    assert Version.objects.get(pk=version.pk).code != "tampered"


def test_a_version_refuses_to_be_deleted_on_its_own(workspace):
    version = make_function(workspace=workspace).versions.get()
    with pytest.raises(ImmutableVersionError):
        version.delete()
    assert Version.objects.filter(pk=version.pk).exists()


def test_deleting_a_function_takes_its_versions_and_labels_with_it(workspace):
    function = make_function(workspace=workspace, code="a\n")
    version_save(function=function, user=None, code="b\n", base_version_id=None)
    version_restore(version=function.versions.get(number=1), user=None)
    function_delete(function=function)
    assert Version.objects.count() == 0
    assert VersionLabel.objects.count() == 0


def test_str_and_public_id(workspace):
    function = make_function(workspace=workspace)
    version = function.versions.get()
    assert str(version) == f"{function.pk} v1"
    assert version.public_id == version.id
    assert version.label == "v1"
