import pytest
from django.urls import reverse

from functions_ui.permissions.models import Role
from tests.factories import make_function
from versioning.models import Version
from versioning.selectors import latest_version
from versioning.services import version_save

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def function(workspace):
    return make_function(workspace=workspace, code="async function onTrack(e) {\n  return e;\n}\n")


def test_save_makes_a_new_latest_version_and_tells_the_editor(client, login_as, function):
    user = login_as()
    base = latest_version(function=function)
    url = reverse("editor:save", args=[function.workspace.slug, function.public_id])
    response = client.post(
        url, {"code": "// v2\r\n", "base_version_id": base.id, "note": "first edit"}, headers=HX
    )
    new = latest_version(function=function)
    content = response.content.decode()
    assert new.number == base.number + 1
    assert (new.code, new.note, new.author) == ("// v2\n", "first edit", user)
    assert f"Saved as version {new.number}" in content
    assert f'id="base-version-id" value="{new.id}"' in content and 'hx-swap-oob="true"' in content
    assert "version-saved" in response["HX-Trigger"]
    function.refresh_from_db()
    assert function.code == "// v2\n" and function.updated_by == user


def test_saving_unchanged_code_creates_nothing(client, login_as, function):
    login_as()
    base = latest_version(function=function)
    url = reverse("editor:save", args=[function.workspace.slug, function.public_id])
    response = client.post(url, {"code": function.code, "base_version_id": base.id}, headers=HX)
    assert "No changes to save" in response.content.decode()
    assert Version.objects.filter(function=function).count() == 1


def test_stale_save_is_refused_with_a_diff_and_loses_nothing(client, login_as, function):
    user = login_as()
    base = latest_version(function=function)
    newer = version_save(
        function=function, user=user, code="// someone else\n", base_version_id=base.id
    )
    url = reverse("editor:save", args=[function.workspace.slug, function.public_id])
    response = client.post(url, {"code": "// mine\n", "base_version_id": base.id}, headers=HX)
    content = response.content.decode()
    assert "Not saved: someone saved a newer version." in content
    assert f"Version {newer.number}" in content
    assert "// mine" in content and "// someone else" in content
    assert latest_version(function=function) == newer
    function.refresh_from_db()
    assert function.code == "// someone else\n"


def test_plain_form_save_redirects_back_with_a_message(client, login_as, function):
    login_as()
    base = latest_version(function=function)
    url = reverse("editor:save", args=[function.workspace.slug, function.public_id])
    response = client.post(url, {"code": "// no js\n", "base_version_id": base.id}, follow=True)
    assert "Saved as version 2." in response.content.decode()


def test_plain_form_stale_save_is_409(client, login_as, function):
    user = login_as()
    base = latest_version(function=function)
    version_save(function=function, user=user, code="// newer\n", base_version_id=base.id)
    url = reverse("editor:save", args=[function.workspace.slug, function.public_id])
    assert client.post(url, {"code": "// mine\n", "base_version_id": base.id}).status_code == 409


def test_oversized_code_is_refused_with_a_message(client, login_as, function):
    login_as()
    url = reverse("editor:save", args=[function.workspace.slug, function.public_id])
    response = client.post(url, {"code": "x" * (256 * 1024 + 1)}, headers=HX)
    assert "Code is larger than the limit of 256 KiB." in response.content.decode()
    assert Version.objects.filter(function=function).count() == 1


def test_read_only_member_cannot_save(client, login_as, function):
    login_as(Role.FUNCTIONS_READ_ONLY)
    url = reverse("editor:save", args=[function.workspace.slug, function.public_id])
    assert client.post(url, {"code": "// sneaky"}).status_code == 403
    function.refresh_from_db()
    assert "sneaky" not in function.code


def test_editor_offers_undo_right_after_a_restore(client, login_as, function):
    user = login_as()
    first = latest_version(function=function)
    version_save(function=function, user=user, code="// v2\n", base_version_id=first.id)
    restore_url = reverse(
        "versioning:restore", args=[function.workspace.slug, function.public_id, first.id]
    )
    response = client.post(restore_url, follow=True)
    content = response.content.decode()
    assert response.redirect_chain[-1][0].endswith(f"/functions/{function.public_id}/edit/")
    assert "Restored as <strong>v3</strong>" in content
    assert "async function onTrack(e)" in content
    assert reverse("versioning:undo", args=[function.workspace.slug, function.public_id]) in content
