"""The behaviour diff in the public API: two versions' outputs on the same payloads."""

from __future__ import annotations

import pytest

from functions_ui.editor.models import SavedPayload
from tests.factories import make_function
from versioning.selectors import latest_version
from versioning.services import version_save

pytestmark = pytest.mark.django_db

V1 = "async function onTrack(event) { console.log('plan', event.properties.plan) }"
V2 = """async function onTrack(event) {
  if (!event.properties.plan) throw new ValidationError('no plan');
  console.log('plan', event.properties.plan);
}"""


@pytest.fixture
def versions(workspace):
    function = make_function(workspace=workspace, code=V1)
    v1 = latest_version(function=function)
    v2 = version_save(function=function, user=None, code=V2, base_version_id=None)
    return function, v1, v2


def test_saved_payloads_through_both_versions(api, versions):
    function, v1, v2 = versions
    SavedPayload.objects.create(
        function=function,
        name="no plan",
        kind="event",
        data={"type": "track", "event": "A", "properties": {}},
    )
    answer = api.post(
        f"/functions/{function.public_id}/versions/{v2.id}/behaviour",
        {"againstVersionId": v1.id, "payloads": "saved"},
    )
    assert answer.status_code == 200, answer.content
    data = answer.json()["data"]
    assert data["differing"] == 1
    [payload] = data["payloads"]
    assert (payload["name"], payload["same"]) == ("no plan", False)
    assert payload["differs"] == ["outcome", "console"]
    assert payload["left"]["outcome"] == {"status": "success"}
    assert payload["right"]["outcome"]["error"] == "ValidationError: no plan"
    assert payload["left"]["console"] == ["log: plan undefined"]


def test_payloads_given_inline(api, versions):
    function, v1, v2 = versions
    answer = api.post(
        f"/functions/{function.public_id}/versions/{v2.id}/behaviour",
        {
            "againstVersionId": v1.id,
            "payloads": [{"type": "track", "properties": {"plan": "pro"}}, {"type": "identify"}],
        },
    )
    data = answer.json()["data"]
    assert [p["name"] for p in data["payloads"]] == ["payload 1", "payload 2"]
    assert [p["same"] for p in data["payloads"]] == [True, True]
    assert data["payloads"][0]["right"]["console"] == ["log: plan pro"]


def test_bad_bodies_are_refused_clearly(api, versions):
    function, v1, v2 = versions
    url = f"/functions/{function.public_id}/versions/{v2.id}/behaviour"
    answer = api.post(url, {"againstVersionId": v1.id, "payloads": "all"})
    assert answer.status_code == 422
    assert "payloads" in answer.content.decode()
    too_many = api.post(url, {"againstVersionId": v1.id, "payloads": [{}] * 101})
    assert too_many.status_code == 422
    assert api.post(url, {"againstVersionId": "nope", "payloads": "saved"}).status_code == 404
