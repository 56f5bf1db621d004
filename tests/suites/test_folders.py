"""Functions as code: pull, edit, push round trips, and `functions test` for CI."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from catalog.models import ResourceType
from catalog.services import setting_test_value_set
from functions_ui.editor.models import SavedPayload
from functions_ui.suites import services
from tests.factories import make_function, make_setting
from versioning.selectors import latest_version

pytestmark = pytest.mark.django_db

CODE = """async function onTrack(event, settings) {
  await fetch(settings.endpoint,
    { method: 'POST', body: JSON.stringify({ plan: event.properties.plan }) });
}
"""


@pytest.fixture
def function(workspace):
    function = make_function(workspace=workspace, display_name="Plan Relay", code=CODE)
    endpoint = make_setting(function=function, name="endpoint")
    setting_test_value_set(setting=endpoint, raw="https://api.example.com/plans")
    secret = make_setting(function=function, name="apiKey", sensitive=True)
    setting_test_value_set(setting=secret, raw="sk_never_in_files")
    payload = SavedPayload.objects.create(
        function=function,
        name="Pro plan",
        kind="event",
        data={"type": "track", "event": "Signed Up", "properties": {"plan": "pro"}},
    )
    services.expectation_capture(payload=payload, code=CODE)
    return function


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("functions", *args, stdout=out)
    return out.getvalue()


def test_pull_writes_code_declarations_and_tests_never_secrets(function, workspace, tmp_path):
    assert "Wrote 1 functions" in run("pull", "--workspace", workspace.slug, str(tmp_path))
    folder = tmp_path / "plan-relay"
    assert (folder / "handler.js").read_text() == CODE
    meta = json.loads((folder / "function.json").read_text())
    assert (meta["id"], meta["type"]) == (function.public_id, "destination")
    assert [s["name"] for s in meta["settings"]] == ["endpoint", "apiKey"]
    test = json.loads((folder / "tests" / "pro-plan.json").read_text())
    assert test["event"]["properties"] == {"plan": "pro"}
    assert test["settings"] == {"endpoint": "https://api.example.com/plans"}
    assert test["expect"]["requests"][0]["body"] == {"plan": "pro"}
    assert "sk_never_in_files" not in "".join(p.read_text() for p in tmp_path.rglob("*.*"))


def test_edit_then_push_saves_a_version_and_dry_run_changes_nothing(function, workspace, tmp_path):
    run("pull", "--workspace", workspace.slug, str(tmp_path))
    handler = tmp_path / "plan-relay" / "handler.js"
    handler.write_text(CODE.replace("plan: event", "tier: event"))
    new = tmp_path / "hello-source"
    (new / "tests").mkdir(parents=True)
    (new / "handler.js").write_text(
        "async function onRequest(request) { Segment.track({ event: 'Hi', userId: 'u' }) }"
    )
    (new / "function.json").write_text(json.dumps({"displayName": "Hello", "type": "source"}))
    (new / "tests" / "hi.json").write_text(json.dumps({"payload": {"body": "{}"}}))

    dry = run("push", "--workspace", workspace.slug, str(tmp_path), "--dry-run")
    assert "plan-relay: code changed, saved as v2" in dry
    assert "hello-source: created as" in dry and "Would change: 3" in dry
    assert "plan-relay: test" not in dry  # the test came back as it went
    assert latest_version(function=function).number == 1
    assert not workspace.functions.filter(display_name="Hello").exists()

    out = run("push", "--workspace", workspace.slug, str(tmp_path), "--message", "from git")
    assert "Changed: 3" in out
    latest = latest_version(function=function)
    assert (latest.number, latest.note) == (2, "from git")
    hello = workspace.functions.get(display_name="Hello")
    assert hello.resource_type == ResourceType.SOURCE
    assert hello.saved_payloads.get().name == "hi"
    assert "Nothing to change." in run("push", "--workspace", workspace.slug, str(tmp_path))


def test_functions_test_prints_a_table_and_fails_ci_on_a_failure(function, workspace, tmp_path):
    run("pull", "--workspace", workspace.slug, str(tmp_path))
    out = run("test", str(tmp_path))
    assert out.splitlines()[0].startswith("PASS  plan-relay/Pro plan")
    assert out.splitlines()[-1] == "1 passed, 0 failed"
    (tmp_path / "plan-relay" / "handler.js").write_text(CODE.replace("plan: event", "tier: event"))
    with pytest.raises(SystemExit) as exit_:
        run("test", str(tmp_path))
    assert exit_.value.code == 1


def test_a_broken_folder_says_which_file_and_why(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "function.json").write_text('{"type": "destination",}')
    (folder / "handler.js").write_text("")
    with pytest.raises(CommandError, match=r"broken/function.json: invalid JSON at line 1"):
        run("test", str(tmp_path))
    (folder / "function.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CommandError, match=r"broken/function.json: JSON nested too deeply"):
        run("test", str(tmp_path))
    with pytest.raises(CommandError, match="no such folder"):
        run("test", str(tmp_path / "missing"))


THROWS = "async function onRequest(request, settings) { throw new Error('broken'); }"


def _source_folder(root, code, tests):
    folder = root / "broken-source"
    (folder / "tests").mkdir(parents=True)
    (folder / "handler.js").write_text(code)
    (folder / "function.json").write_text(json.dumps({"displayName": "Broken", "type": "source"}))
    for name, test in tests.items():
        (folder / "tests" / f"{name}.json").write_text(json.dumps(test))
    return folder


def run_failing(*args):
    """The command's output when it exits 1 (a test failed)."""
    from io import StringIO

    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("functions", *args, stdout=out)
    assert exit_.value.code == 1
    return out.getvalue()


def test_payload_only_tests_of_a_function_that_throws_fail(tmp_path):
    payload = {"payload": {"body": '{"a": 1}'}}
    _source_folder(tmp_path, THROWS, {f"t{n}": payload for n in range(4)})
    lines = run_failing("test", str(tmp_path)).splitlines()
    assert lines[-1] == "0 passed, 4 failed"
    assert lines[0].startswith("FAIL  broken-source/t0  must run without error")
    assert "expected the run to succeed, got bad_request (Error: broken)" in lines[1]


def test_an_expected_error_passes_and_the_table_says_what_each_test_checked(tmp_path):
    _source_folder(
        tmp_path,
        THROWS,
        {
            "expected-error": {
                "payload": {"body": "{}"},
                "expect": {"status": "bad_request", "error": "Error"},
            },
            "sample": {"payload": {"body": "{}"}, "expect": None},
        },
    )
    lines = run("test", str(tmp_path)).splitlines()
    assert lines[0].split() == [
        "PASS", "broken-source/expected-error", "matched", "2", "expectations",
        "(status,", "error)", *lines[0].split()[-2:],
    ]  # fmt: skip
    assert lines[1].startswith("SKIP  broken-source/sample")
    assert lines[-1] == "1 passed, 0 failed, 1 skipped"

    fine = "async function onRequest(request) { Segment.track({ event: 'Hi', userId: 'u' }) }"
    (tmp_path / "broken-source" / "handler.js").write_text(fine)
    (tmp_path / "broken-source" / "tests" / "sample.json").write_text(
        json.dumps({"payload": {"body": "{}"}})
    )
    lines = run_failing("test", str(tmp_path)).splitlines()
    sample = next(line for line in lines if "broken-source/sample" in line)
    assert sample.startswith("PASS") and "ran without error" in sample
    with_error = next(line for line in lines if "expected-error" in line)
    assert with_error.startswith("FAIL")  # it expected an error and none came
    assert lines[-1] == "1 passed, 1 failed"


def test_pushed_payload_only_tests_are_smoke_tests_and_round_trip(workspace, tmp_path):
    _source_folder(
        tmp_path,
        THROWS,
        {
            "smoke": {"payload": {"body": "{}"}},
            "sample": {"payload": {"body": "{}"}, "expect": None},
        },
    )
    run("push", "--workspace", workspace.slug, str(tmp_path))
    function = workspace.functions.get(display_name="Broken")
    stored = {p.name: p.expect for p in function.saved_payloads.all()}
    assert stored == {"smoke": {}, "sample": None}
    assert [p.name for p in services.suite_payloads(function=function)] == ["smoke"]
    outcome = services.suite_check(function=function, code=THROWS)
    assert (outcome.passed, outcome.failed) == (0, 1)

    pulled = tmp_path / "pulled"
    run("pull", "--workspace", workspace.slug, str(pulled))
    tests = pulled / "broken" / "tests"
    assert "expect" not in json.loads((tests / "smoke.json").read_text())
    assert json.loads((tests / "sample.json").read_text())["expect"] is None
    assert "Nothing to change." in run("push", "--workspace", workspace.slug, str(pulled))
