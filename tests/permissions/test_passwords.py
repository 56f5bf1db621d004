"""A one-time password must be replaced at first sign-in; everyone can change theirs."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from functions_ui.permissions.models import PasswordChangeDue, Role
from functions_ui.permissions.services import GrantSpec, membership_invite

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-password-9"


def test_a_one_time_password_leads_to_the_change_page_until_it_is_changed(client, workspace):
    _, password = membership_invite(
        workspace=workspace,
        username="newcomer",
        grants=[GrantSpec(role=Role.FUNCTIONS_READ_ONLY)],
        by=None,
        create_account=True,
    )
    assert client.login(username="newcomer", password=password)
    change = reverse("password_change")
    # Every page leads to the change page first, and the old password cannot be kept.
    assert client.get(f"/w/{workspace.slug}/functions/")["Location"] == change
    assert "one-time password" in client.get(change).content.decode()
    client.post(
        change,
        {
            "old_password": password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert not PasswordChangeDue.objects.exists()
    assert client.get(f"/w/{workspace.slug}/functions/").status_code == 200
    user = get_user_model().objects.get(username="newcomer")
    assert user.check_password(NEW_PASSWORD) and not user.check_password(password)


def test_members_without_a_one_time_password_are_not_sent_there(client, login_as, workspace):
    login_as(Role.FUNCTIONS_ADMIN)
    assert client.get(f"/w/{workspace.slug}/functions/").status_code == 200
    assert client.get(reverse("password_change")).status_code == 200
