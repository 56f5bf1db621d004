"""The API's deploy where the workspace blocks deploys whose tests fail."""

from __future__ import annotations

import pytest

from functions_ui.permissions.models import Role
from tests.suites.test_suites import BROKEN, blocking, function  # noqa: F401  (fixtures)
from versioning.services import version_save

pytestmark = pytest.mark.django_db


def test_the_api_deploy_is_refused_with_the_failures(blocking, api_as):  # noqa: F811
    blocked = blocking
    broken = version_save(function=blocked, user=None, code=BROKEN, base_version_id=None)
    api = api_as(Role.SOURCE_ADMIN)
    answer = api.post(f"/functions/{blocked.public_id}/deploy", {"versionId": broken.id})
    assert answer.status_code == 422
    assert "v2 fails 1 of 1 tests (pro)" in answer.content.decode()
    assert "requests[0].body.plan" in answer.content.decode()
    denied = api.post(
        f"/functions/{blocked.public_id}/deploy", {"versionId": broken.id, "overrideTests": True}
    )
    assert denied.status_code == 403


def test_the_api_deploy_is_refused_when_a_payload_only_test_throws(blocking, api_as):  # noqa: F811
    from functions_ui.editor.models import SavedPayload

    SavedPayload.objects.filter(function=blocking, name="free").update(expect={})
    throws = "async function onTrack(event) { throw new Error('broken') }"
    version = version_save(function=blocking, user=None, code=throws, base_version_id=None)
    answer = api_as(Role.SOURCE_ADMIN).post(
        f"/functions/{blocking.public_id}/deploy", {"versionId": version.id}
    )
    assert answer.status_code == 422
    body = answer.content.decode()
    assert "v2 fails 2 of 2 tests (free, pro)" in body
    assert "expected the run to succeed, got bad_request (Error: broken)" in body
