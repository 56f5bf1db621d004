"""Malformed input on every JSON and code input of the editor and the suites: JSON nested far
too deep, and unpaired surrogates. Each gets a clear answer (4xx, or a message in place), never
a 500, and nothing is half stored."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import ResourceType
from functions_ui.editor.models import SavedPayload
from functions_ui.permissions.models import Role
from tests.factories import make_function

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
LONE = '{"event": "\\ud800"}'  # JSON's escape of half a surrogate pair
# Half a surrogate pair as the bytes a hostile client can send (no browser form can).
RAW_LONE = "code=async%20function%20onTrack(event)%20%7B%20return%20'%ED%A0%80'%20%7D"


@pytest.fixture
def function(workspace):
    return make_function(workspace=workspace, resource_type=ResourceType.DESTINATION)


def post(client, name, function, data, *args, namespace="editor"):
    path = reverse(f"{namespace}:{name}", args=[function.workspace.slug, function.public_id, *args])
    return client.post(path, data, HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("event", [DEEP, DEEP_OBJECT, LONE], ids=["deep", "deep-object", "lone"])
def test_run_answers_every_malformed_event_in_place(client, login_as, function, event):
    login_as(Role.FUNCTIONS_ADMIN)
    response = post(client, "run", function, {"code": function.code, "event": event})
    assert response.status_code == 200


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, LONE], ids=["deep", "deep-object", "lone"])
def test_run_answers_a_malformed_mock_body(client, login_as, function, body):
    login_as(Role.FUNCTIONS_ADMIN)
    response = post(
        client,
        "run",
        function,
        {"code": function.code, "event": '{"type": "track"}', "mock_fetch": "1", "mock_body": body},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("data", [DEEP, DEEP_OBJECT], ids=["deep", "deep-object"])
def test_a_payload_nested_too_deep_is_refused_and_not_saved(client, login_as, function, data):
    login_as(Role.FUNCTIONS_ADMIN)
    response = post(client, "payload_save", function, {"name": "deep", "data": data})
    assert response.status_code == 200
    assert "nested too deeply" in response.content.decode()
    assert not SavedPayload.objects.exists()


@pytest.mark.parametrize(
    ("name", "namespace"),
    [
        ("save", "editor"),
        ("behaviour_draft", "suites"),
        ("suite_check", "suites"),
    ],
)
def test_code_with_a_lone_surrogate_gets_an_answer(client, login_as, function, name, namespace):
    login_as(Role.WORKSPACE_OWNER)
    SavedPayload.objects.create(
        function=function, name="t", kind="event", data={"type": "track"}, expect={}
    )
    path = reverse(f"{namespace}:{name}", args=[function.workspace.slug, function.public_id])
    response = client.post(
        path,
        RAW_LONE,
        content_type="application/x-www-form-urlencoded",
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code < 500
