"""Cross-tenant attacks through the editor's Run (issue 10): a globex Functions Admin attacks,
an acme user with a sensitive test value is the victim."""

from __future__ import annotations

import html
import json

import pytest
from django.test import Client
from django.urls import reverse

from catalog.services import setting_create, setting_test_value_set
from functions_ui.permissions.models import Role
from tests.factories import PASSWORD, make_function, make_member, make_workspace
from tests.runtime.attacks import (
    LEFTOVERS,
    QUIET_VICTIM_CODE,
    SCANNER_CODE,
    VICTIM_CODE,
    leftover_attacker,
    new_secret,
    scan_needles,
    secret_forms,
)

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
TRACK = json.dumps({"type": "track", "userId": "u1", "event": "E"})


def client_for(workspace, role=Role.FUNCTIONS_ADMIN) -> Client:
    client = Client()
    user = make_member(workspace=workspace, role=role)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def run(client, function, code, event=TRACK) -> str:
    response = client.post(
        reverse("editor:run", args=[function.workspace.slug, function.public_id]),
        {"mock_fetch": "1", "code": code, "event": event},
        headers=HX,
    )
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def acme(workspace, secret):
    """acme's user, and a destination whose sensitive test value is the secret."""
    function = make_function(workspace=workspace, display_name="Acme mailer", code=VICTIM_CODE)
    setting = setting_create(function=function, label="API Key", sensitive=True, required=True)
    setting_test_value_set(setting=setting, raw=secret)
    return client_for(workspace), function


@pytest.fixture
def globex():
    """globex's Functions Admin, and a function of theirs with the needles as a test value."""
    workspace = make_workspace(slug="globex", name="Globex")
    function = make_function(workspace=workspace, display_name="Innocent looking")
    return client_for(workspace), function


def test_a_globex_run_never_shows_acmes_sensitive_test_value(acme, globex, secret):
    acme_client, acme_function = acme
    globex_client, globex_function = globex
    needles = json.dumps(scan_needles(secret))
    scanner = SCANNER_CODE.replace("settings.needles", needles)
    shown = []
    for _ in range(3):
        victim = run(acme_client, acme_function, VICTIM_CODE)
        assert "status-badge-ok" in victim and "victim used ••••" in victim
        assert secret not in victim
        shown.append(run(globex_client, globex_function, scanner))
    for page in shown:
        assert "status-badge-ok" in page
        # The scan ran in full and found fresh memory empty.
        assert '"checked": 288' in page and '"nonzero": []' in page and '"hits": []' in page
        for form in secret_forms(secret):
            assert form not in page


def test_a_globex_admin_cannot_run_acmes_function(acme, globex):
    _, acme_function = acme
    globex_client, _ = globex
    response = globex_client.post(
        reverse("editor:run", args=["acme", acme_function.public_id]),
        {"mock_fetch": "1", "code": SCANNER_CODE, "event": TRACK},
        headers=HX,
    )
    assert response.status_code == 404


@pytest.mark.parametrize("leftover", ["request_signal_timeout", "all_at_once"])
def test_globex_leftovers_never_disturb_acmes_runs(acme, globex, leftover):
    acme_client, acme_function = acme
    globex_client, globex_function = globex
    for _ in range(2):
        run(globex_client, globex_function, leftover_attacker(LEFTOVERS[leftover]))
    for n in range(5):
        page = run(
            acme_client, acme_function, QUIET_VICTIM_CODE, event=TRACK.replace('"E"', f'"E{n}"')
        )
        assert "status-badge-ok" in page
        assert "victim says hi" in page and f'"victim-E{n}"' in page
        assert "sabot" not in page


def test_leftovers_of_another_acme_function_never_disturb_the_victim(acme, workspace):
    acme_client, acme_function = acme
    other = make_function(workspace=workspace, display_name="Acme other")
    for _ in range(2):
        run(acme_client, other, leftover_attacker(LEFTOVERS["all_at_once"]))
    for _ in range(5):
        page = run(acme_client, acme_function, QUIET_VICTIM_CODE)
        assert "status-badge-ok" in page and "sabot" not in page
