"""Test suites: expectations captured from a run, run on the editor's code and on every save."""

from __future__ import annotations

import pytest

from functions_ui.editor.models import SavedPayload
from functions_ui.permissions.models import Role
from functions_ui.suites import services
from functions_ui.suites.models import SuiteRun
from tests.deploys.workers import eventually, start_worker  # noqa: F401  (a fixture)
from tests.factories import make_function
from tests.html import text_of
from versioning.selectors import latest_version
from versioning.services import version_save

pytestmark = pytest.mark.django_db

CODE = """async function onTrack(event, settings) {
  await fetch('https://api.example.com/t', { method: 'POST',
    body: JSON.stringify({ plan: event.properties.plan }) });
}"""
BROKEN = CODE.replace("plan: event", "tier: event")


@pytest.fixture
def function(workspace):
    function = make_function(workspace=workspace, code=CODE)
    for name, plan in (("pro", "pro"), ("free", "free")):
        SavedPayload.objects.create(
            function=function,
            name=name,
            kind="event",
            data={"type": "track", "event": "Signed Up", "properties": {"plan": plan}},
        )
    return function


def test_captured_expectations_pass_on_the_same_code_and_fail_on_a_change(function):
    for payload in SavedPayload.objects.filter(function=function):
        services.expectation_capture(payload=payload, code=CODE)
    pro = SavedPayload.objects.get(name="pro")
    assert pro.expect["requests"] == [
        {"method": "POST", "url": "https://api.example.com/t", "body": {"plan": "pro"}}
    ]
    assert services.suite_check(function=function, code=CODE).failures == []
    outcome = services.suite_check(function=function, code=BROKEN)
    assert (outcome.passed, outcome.failed, outcome.status) == (0, 2, "failed")
    assert outcome.failures[0]["problems"] == ['requests[0].body.plan: missing (expected "free")']


def test_a_suite_run_is_kept_on_the_version_and_shown_in_its_history(function, client, login_as):
    assert services.suite_run(version=latest_version(function=function)) is None  # no tests
    services.expectation_capture(payload=SavedPayload.objects.get(name="pro"), code=CODE)
    broken = version_save(function=function, user=None, code=BROKEN, base_version_id=None)
    run = services.suite_run(version=broken)
    assert (run.status, run.passed, run.failed) == ("failed", 0, 1)
    login_as(Role.FUNCTIONS_READ_ONLY)
    history = client.get(
        f"/w/{function.workspace.slug}/functions/{function.public_id}/versions/",
        HTTP_HX_REQUEST="true",
    )
    text = text_of(history.content.decode())
    assert "✗ tests 1 of 1 failed" in text
    assert "requests[0].body.plan: missing" in text
    # v1 has no run yet: anyone may run it from its badge.
    v1 = broken.function.versions.get(number=1)
    response = client.post(
        f"/w/{function.workspace.slug}/functions/{function.public_id}/tests/versions/{v1.id}/"
    )
    assert "✓ tests 1/1" in text_of(response.content.decode())


def test_the_editor_captures_expectations_and_runs_the_tests(function, client, login_as):
    login_as(Role.FUNCTIONS_ADMIN)
    base = f"/w/{function.workspace.slug}/functions/{function.public_id}/tests"
    pro = SavedPayload.objects.get(name="pro")
    part = client.post(f"{base}/payloads/{pro.pk}/expect/", {"code": CODE}).content.decode()
    assert "Not a test" in part
    result = client.post(f"{base}/run/", {"code": BROKEN}).content.decode()
    assert "✗ 1 of 1 failed" in text_of(result)
    assert "✓ 1 passed" in text_of(client.post(f"{base}/run/", {"code": CODE}).content.decode())
    client.post(f"{base}/payloads/{pro.pk}/clear/")
    assert SavedPayload.objects.get(pk=pro.pk).expect is None


@pytest.mark.django_db(transaction=True)
def test_every_save_runs_the_suite_with_a_real_worker(function, start_worker):  # noqa: F811
    start_worker()
    services.expectation_capture(payload=SavedPayload.objects.get(name="pro"), code=CODE)
    version = version_save(function=function, user=None, code=BROKEN, base_version_id=None)

    def ran():
        """The worker ran the suite of the saved version."""
        return SuiteRun.objects.filter(version=version).first()

    run = eventually(ran)
    assert (run.status, run.failed) == ("failed", 1)


@pytest.fixture
def blocking(function):
    """The workspace blocks failing deploys; the function has a test and an instance."""
    from functions_ui.deploys import instances
    from tests.deploys.helpers import make_source

    function.workspace.block_failing_deploys = True
    function.workspace.save()
    services.expectation_capture(payload=SavedPayload.objects.get(name="pro"), code=CODE)
    _, source = make_source(workspace=function.workspace)
    instances.destination_instance_create(
        function=function,
        user=None,
        name="Warehouse",
        raw_settings={},
        source_ids=[source.public_id],
    )
    return function


def test_a_blocked_deploy_lists_the_failures_and_only_an_owner_overrides(
    blocking, client, login_as
):
    from functions_ui.audit.models import AuditEvent
    from functions_ui.deploys.models import Deploy

    function = blocking
    broken = version_save(function=function, user=None, code=BROKEN, base_version_id=None)
    url = f"/w/{function.workspace.slug}/functions/{function.public_id}/deploys/new/"
    login_as(Role.SOURCE_ADMIN)
    refused = client.post(url, {"version_id": broken.id}, HTTP_HX_REQUEST="true")
    text = text_of(refused.content.decode())
    assert "Not deployed. v2 fails 1 of 1 tests (pro)" in text
    assert 'requests[0].body.plan: missing (expected "pro")' in text
    assert "Deploy anyway" not in text and not Deploy.objects.exists()
    assert client.post(url, {"version_id": broken.id, "override_tests": "1"}).status_code == 403

    login_as(Role.WORKSPACE_OWNER)
    assert "Deploy anyway" in client.post(url, {"version_id": broken.id}).content.decode()
    client.post(url, {"version_id": broken.id, "override_tests": "1"}, HTTP_HX_REQUEST="true")
    assert Deploy.objects.get().version == broken
    override = AuditEvent.objects.get(action="deploy.override")
    assert override.details == {"version": "v2", "failed": 1, "tests": ["pro"]}


def test_save_and_deploy_checks_the_code_before_saving_it(blocking, client, login_as):
    function = blocking
    login_as(Role.WORKSPACE_OWNER)
    url = f"/w/{function.workspace.slug}/functions/{function.public_id}/deploys/save/"
    refused = client.post(url, {"code": BROKEN}, HTTP_HX_REQUEST="true")
    assert "This code fails 1 of 1 tests" in text_of(refused.content.decode())
    assert function.versions.count() == 1  # nothing saved
    client.post(url, {"code": CODE + "\n// fine"}, HTTP_HX_REQUEST="true")
    assert function.versions.count() == 2


def test_the_compare_page_shows_both_versions_test_badges(function, client, login_as):
    services.expectation_capture(payload=SavedPayload.objects.get(name="pro"), code=CODE)
    v1 = latest_version(function=function)
    services.suite_run(version=v1)
    broken = version_save(function=function, user=None, code=BROKEN, base_version_id=None)
    services.suite_run(version=broken)
    login_as(Role.FUNCTIONS_READ_ONLY)
    page = client.get(
        f"/w/{function.workspace.slug}/functions/{function.public_id}/versions/compare/"
    )
    text = text_of(page.content.decode())
    assert "Tests: v2 ✗ tests 1 of 1 failed" in text
    assert "v1 ✓ tests 1/1" in text


def test_a_smoke_test_fails_a_function_that_throws_in_the_editor_and_the_history(
    function, client, login_as
):
    login_as(Role.FUNCTIONS_ADMIN)
    base = f"/w/{function.workspace.slug}/functions/{function.public_id}/tests"
    pro = SavedPayload.objects.get(name="pro")
    part = text_of(client.post(f"{base}/payloads/{pro.pk}/smoke/").content.decode())
    assert SavedPayload.objects.get(pk=pro.pk).expect == {}
    assert "smoke test" in part and "Not a test" in part

    throws = "async function onTrack(event) { throw new Error('broken') }"
    result = text_of(client.post(f"{base}/run/", {"code": throws}).content.decode())
    assert "✗ 1 of 1 failed" in result
    assert "pro must run without error" in result  # what the test checks, beside its name
    assert "expected the run to succeed, got bad_request (Error: broken)" in result
    assert "✓ pro ran without error" in text_of(
        client.post(f"{base}/run/", {"code": CODE}).content.decode()
    )
    run = services.suite_run(
        version=version_save(function=function, user=None, code=throws, base_version_id=None)
    )
    assert (run.status, run.passed, run.failed) == ("failed", 0, 1)


def test_the_deploy_gate_blocks_a_function_whose_payload_only_tests_throw(
    blocking, client, login_as
):
    from functions_ui.deploys.models import Deploy

    function = blocking
    SavedPayload.objects.filter(function=function).update(expect={})  # both smoke tests now
    throws = "async function onTrack(event) { throw new Error('broken') }"
    version = version_save(function=function, user=None, code=throws, base_version_id=None)
    login_as(Role.SOURCE_ADMIN)
    url = f"/w/{function.workspace.slug}/functions/{function.public_id}/deploys/new/"
    refused = text_of(client.post(url, {"version_id": version.id}).content.decode())
    assert "Not deployed. v2 fails 2 of 2 tests (free, pro)" in refused
    assert not Deploy.objects.exists()
