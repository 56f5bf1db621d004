"""The behaviour diff: saved payloads run through two versions, and only what differs shown."""

from __future__ import annotations

import pytest

from catalog.models import ResourceType
from catalog.services import setting_test_value_set
from functions_ui.editor.models import SavedPayload
from functions_ui.permissions.models import Role
from functions_ui.suites import behaviour
from tests.factories import make_function, make_setting
from tests.html import text_of
from versioning.selectors import latest_version, previous_version
from versioning.services import version_save

pytestmark = pytest.mark.django_db

V1 = """
async function onTrack(event, settings) {
  console.log('sending', event.event, settings.apiKey);
  await fetch('https://api.example.com/track', {
    method: 'POST', body: JSON.stringify({ name: event.event, plan: event.properties.plan }) });
}
"""
# v2 renames a field of the request body, and refuses events without a plan.
V2 = """
async function onTrack(event, settings) {
  console.log('sending', event.event, settings.apiKey);
  if (!event.properties.plan) throw new ValidationError('no plan');
  await fetch('https://api.example.com/track', {
    method: 'POST', body: JSON.stringify({ name: event.event, tier: event.properties.plan }) });
}
"""


@pytest.fixture
def function(workspace):
    function = make_function(workspace=workspace, code=V1)
    setting = make_setting(function=function, name="apiKey", sensitive=True)
    setting_test_value_set(setting=setting, raw="sk_test_4242")
    payloads = {
        "with plan": {"type": "track", "event": "Signed Up", "properties": {"plan": "pro"}},
        "without plan": {"type": "track", "event": "Signed Up", "properties": {}},
        "identify": {"type": "identify", "userId": "u1"},
    }
    for name, data in payloads.items():
        SavedPayload.objects.create(function=function, name=name, kind="event", data=data)
    return function


def compare(function, left, right):
    return {
        c.payload.name: c
        for c in behaviour.behaviour_compare(
            function=function,
            left_code=left,
            right_code=right,
            payloads=behaviour.saved_payloads(function=function),
        )
    }


def test_only_what_differs_is_reported_aspect_by_aspect(function):
    found = compare(function, V1, V2)
    assert found["identify"].same  # neither version handles identify
    assert found["with plan"].differs == ("requests",)
    assert '"tier":"pro"' in found["with plan"].right["requests"][0]["body"]
    without = found["without plan"]
    assert set(without.differs) == {"outcome", "requests"}
    assert without.newly_failing and not without.newly_passing
    assert without.right["outcome"]["error"] == "ValidationError: no plan"
    # Going back is the mirror image.
    assert compare(function, V2, V1)["without plan"].newly_passing


def test_the_same_code_behaves_the_same_and_run_ids_are_left_out(workspace):
    code = """async function onRequest(request, settings) {
      Segment.track({ event: 'Hook', userId: 'u1', properties: { at: 1 } });
    }"""
    source = make_function(workspace=workspace, resource_type=ResourceType.SOURCE, code=code)
    SavedPayload.objects.create(
        function=source, name="hook", kind="request", data={"body": '{"a": 1}', "headers": {}}
    )
    [comparison] = compare(source, code, code + "\n// a comment only").values()
    assert comparison.same
    assert comparison.left["events"][0]["event"] == "Hook"
    assert "messageId" not in comparison.left["events"][0]


def test_secrets_never_appear_in_either_side(function):
    found = compare(function, V1, V2)
    for comparison in found.values():
        for side in (comparison.left, comparison.right):
            assert "sk_test_4242" not in str(side)
    assert found["with plan"].left["console"] == ["log: sending Signed Up ••••"]


def test_the_compare_page_loads_the_behaviour_of_both_versions(client, login_as, function):
    version_save(function=function, user=None, code=V2, base_version_id=None)
    v2 = latest_version(function=function)
    v1 = previous_version(version=v2)
    login_as(Role.FUNCTIONS_READ_ONLY)
    compare_page = client.get(
        f"/w/{function.workspace.slug}/functions/{function.public_id}/versions/compare/"
    ).content.decode()
    assert "Running the saved test payloads through v2 and v1" in compare_page
    response = client.get(
        f"/w/{function.workspace.slug}/functions/{function.public_id}/behaviour/",
        {"left": v1.id, "right": v2.id},
        HTTP_HX_REQUEST="true",
    )
    text = text_of(response.content.decode())
    assert "v1 → v2 changes 2 of 3 saved payloads." in text
    assert "newly failing" in text
    assert "sk_test_4242" not in response.content.decode()


def test_without_saved_payloads_the_page_says_how_to_get_them(client, login_as, workspace):
    function = make_function(workspace=workspace, code=V1)
    version_save(function=function, user=None, code=V2, base_version_id=None)
    v2 = latest_version(function=function)
    login_as(Role.FUNCTIONS_READ_ONLY)
    response = client.get(
        f"/w/{workspace.slug}/functions/{function.public_id}/behaviour/",
        {"left": v2.id, "right": v2.id},
    )
    assert "No saved test payloads yet." in text_of(response.content.decode())
