import pytest
from django.urls import reverse

from functions_ui.permissions.models import Role
from tests.factories import make_member, make_workspace

pytestmark = pytest.mark.django_db


def test_a_single_workspace_member_goes_straight_to_its_catalog(client, login_as, workspace):
    login_as(Role.FUNCTIONS_ADMIN)
    response = client.get(reverse("workspaces:pick"))
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:function_list", args=[workspace.slug])


def test_a_member_of_several_workspaces_picks_one_and_sees_only_their_own(
    client, login_as, workspace
):
    user = login_as(Role.FUNCTIONS_ADMIN)
    make_member(workspace=make_workspace(name="Globex"), user=user)
    make_workspace(name="Initech")
    content = client.get(reverse("workspaces:pick")).content.decode()
    assert "Acme Inc." in content and "Globex" in content
    assert "Initech" not in content


def test_login_page_signs_in(client, workspace):
    user = make_member(workspace=workspace)
    response = client.post(
        reverse("login"), {"username": user.username, "password": "correct horse battery staple"}
    )
    assert response.status_code == 302


def test_login_with_a_wrong_password_says_so(client, workspace):
    user = make_member(workspace=workspace)
    response = client.post(reverse("login"), {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_healthz(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
