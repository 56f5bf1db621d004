import json
import re

import pytest
from django.urls import reverse

from catalog.models import ResourceType
from catalog.services import setting_create, setting_test_value_set
from functions_ui.editor import models as editor_models
from functions_ui.editor.models import CapturedRequest, SavedPayload
from functions_ui.permissions.models import Role
from tests.factories import make_function, make_setting, make_workspace
from tests.html import text_of

pytestmark = pytest.mark.django_db

SECRET = "sk_live_do_not_show_4711"
HX = {"HX-Request": "true"}


def url(name, function, *args):
    return reverse(f"editor:{name}", args=[function.workspace.slug, function.public_id, *args])


@pytest.fixture
def destination(workspace):
    return make_function(
        workspace=workspace,
        display_name="Mailer",
        code="async function onTrack(event, settings) {\n  console.log('key', settings.apiKey);\n"
        "  return { seen: event.event };\n}\n",
    )


@pytest.fixture
def source(workspace):
    return make_function(
        workspace=workspace,
        display_name="Hooks",
        resource_type=ResourceType.SOURCE,
    )


def run(client, function, **data):
    return client.post(url("run", function), {"mock_fetch": "1", **data}, headers=HX)


# The page ----------------------------------------------------------------------------------


def test_editor_page_shows_code_panels_and_save(client, login_as, destination):
    login_as(Role.FUNCTIONS_ADMIN)
    content = client.get(url("edit", destination)).content.decode()
    assert 'data-editor="javascript"' in content
    assert "console.log('key', settings.apiKey);" in text_of(content)
    for tab in ("Test", "Settings", "Templates", "History"):
        assert re.search(rf'role="tab" id="tab-{tab.lower()}"[^>]*>{tab}</a>', content)
    assert 'id="save-button"' in content
    assert 'id="run-button"' in content


def test_read_only_member_gets_a_read_only_editor_without_save_or_run(
    client, login_as, destination
):
    login_as(Role.FUNCTIONS_READ_ONLY)
    content = client.get(url("edit", destination)).content.decode()
    assert 'id="save-button"' not in content
    assert 'id="run-button"' not in content
    assert " readonly>" in content
    assert 'title="Only Workspace Owners and Functions Admins can edit functions."' in content


def test_editor_of_another_workspaces_function_is_404(client, login_as):
    login_as(Role.WORKSPACE_OWNER)
    other = make_function(workspace=make_workspace())
    assert client.get(reverse("editor:edit", args=["acme", other.public_id])).status_code == 404


def test_templates_panel_lists_starters_of_the_type(client, login_as, destination):
    login_as()
    content = client.get(url("edit", destination)).content.decode()
    assert "Default Batch" in content
    assert "Webhook to Track" not in content


# Run ---------------------------------------------------------------------------------------


def test_run_destination_event_shows_success_result_and_logs(client, login_as, destination):
    login_as()
    event = {"type": "track", "event": "Signed Up", "userId": "u1"}
    content = run(
        client, destination, code=destination.code, event=json.dumps(event)
    ).content.decode()
    assert "status-badge-ok" in content
    assert '"seen": "Signed Up"' in text_of(content)
    assert "key undefined" in content


def test_run_uses_the_code_in_the_editor_not_the_saved_code(client, login_as, destination):
    login_as()
    code = "async function onTrack(event) { return { edited: true }; }"
    content = run(client, destination, code=code, event='{"type": "track"}').content.decode()
    assert '"edited": true' in text_of(content)


def test_run_masks_secret_test_values_in_output(client, login_as, destination):
    login_as()
    setting = setting_create(function=destination, label="API Key", sensitive=True, required=True)
    setting_test_value_set(setting=setting, raw=SECRET)
    content = run(
        client, destination, code=destination.code, event='{"type": "track"}'
    ).content.decode()
    assert "key ••••" in content
    assert SECRET not in content


def test_run_waits_for_required_settings(client, login_as, destination):
    login_as()
    setting_create(function=destination, label="Region", required=True)
    content = run(
        client, destination, code=destination.code, event='{"type":"track"}'
    ).content.decode()
    assert "Fill in the test value of: Region." in content


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            "{not json",
            "The event is not valid JSON: Expecting property name enclosed in double quotes",
        ),
        ("", "Enter an event to test with."),
        ("42", "The event must be a JSON object, or an array of objects for onBatch."),
    ],
)
def test_run_reports_bad_input(client, login_as, destination, event, message):
    login_as()
    content = run(client, destination, code=destination.code, event=event).content.decode()
    assert message in content


def test_run_batch_array_calls_on_batch(client, login_as, destination):
    login_as()
    code = "async function onBatch(events) { return events.map((e) => e.event); }"
    events = json.dumps([{"type": "track", "event": "A"}, {"type": "track", "event": "B"}])
    content = run(client, destination, code=code, event=events).content.decode()
    assert '"A"' in text_of(content) and '"B"' in text_of(content)


def test_run_syntax_error_points_at_the_line(client, login_as, destination):
    login_as()
    code = "async function onTrack(event) {\n  return {\n}\n"
    content = run(client, destination, code=code, event='{"type":"track"}').content.decode()
    assert "status-badge-error" in content
    assert 'data-error-line="' in content and 'data-error-line=""' not in content


def test_run_missing_handler_is_unsupported_event_type(client, login_as, destination):
    login_as()
    content = run(
        client, destination, code=destination.code, event='{"type":"identify"}'
    ).content.decode()
    assert "Unsupported Event Type" in content


def test_run_source_request_emits_events(client, login_as, source):
    login_as()
    body = json.dumps({"event": "Ticket Created", "userId": "u7"})
    response = run(
        client,
        source,
        code=source.code,
        body=body,
        query="a=1",
        header_name=["Content-Type"],
        header_value=["application/json"],
    )
    content = response.content.decode()
    assert "Events emitted" in content
    assert '"event": "Ticket Created"' in text_of(content)


def test_run_source_body_over_512_kib_is_refused(client, login_as, source):
    login_as()
    body = json.dumps({"x": "a" * (512 * 1024)})
    content = run(
        client,
        source,
        code=source.code,
        body=body,
        header_name=["Content-Type"],
        header_value=["application/json"],
    ).content.decode()
    assert "The request body is larger than the 512 KiB limit." in content


def test_read_only_member_cannot_run(client, login_as, destination):
    login_as(Role.FUNCTIONS_READ_ONLY)
    assert run(client, destination, code="", event='{"type":"track"}').status_code == 403


def test_sample_events_for_every_type(client, login_as, destination):
    login_as()
    for event_type in ("track", "identify", "page", "screen", "group", "alias", "delete"):
        content = client.get(
            url("sample_event", destination), {"type": event_type}
        ).content.decode()
        assert f'"type": "{event_type}"' in text_of(content)
    assert client.get(url("sample_event", destination), {"type": "nope"}).status_code == 404


# Settings and secrets ----------------------------------------------------------------------


def test_add_setting_shows_it_with_its_generated_name(client, login_as, destination):
    login_as()
    response = client.post(
        url("setting_add", destination),
        {"label": "API Key", "type": "STRING", "required": "on", "sensitive": "on"},
        headers=HX,
    )
    content = response.content.decode()
    assert "<code>settings.apiKey</code>" in content
    assert "Required" in content and "Sensitive" in content
    assert "settings-changed" in json.loads(response["HX-Trigger"])


def test_add_duplicate_setting_says_why(client, login_as, destination):
    login_as()
    setting_create(function=destination, label="API Key")
    content = client.post(
        url("setting_add", destination), {"label": "api key", "type": "STRING"}, headers=HX
    ).content.decode()
    assert "A setting named “apiKey” already exists; choose another label." in content
    assert destination.settings.count() == 1


def test_edit_move_and_delete_setting(client, login_as, destination):
    login_as()
    first = setting_create(function=destination, label="First")
    second = setting_create(function=destination, label="Second")
    client.post(url("setting_move", destination, second.pk), {"direction": "up"}, headers=HX)
    assert [s.name for s in destination.settings.all()] == ["second", "first"]
    client.post(
        url("setting_edit", destination, first.pk),
        {"label": "Region Name", "type": "ARRAY", "description": "where"},
        headers=HX,
    )
    first.refresh_from_db()
    assert (first.name, first.type, first.description) == ("regionName", "ARRAY", "where")
    client.post(url("setting_delete", destination, second.pk), headers=HX)
    assert [s.name for s in destination.settings.all()] == ["regionName"]


def test_setting_name_preview(client, login_as, destination):
    login_as()
    content = client.get(url("setting_name_preview", destination), {"label": "Webhook URL"}).content
    assert b"settings.webhookUrl" in content


def test_read_only_member_cannot_change_settings(client, login_as, destination):
    login_as(Role.FUNCTIONS_READ_ONLY)
    response = client.post(url("setting_add", destination), {"label": "X", "type": "STRING"})
    assert response.status_code == 403
    assert destination.settings.count() == 0


def test_secret_test_value_is_never_shown_again(client, login_as, destination):
    login_as()
    setting = setting_create(function=destination, label="API Key", sensitive=True)
    response = client.post(
        url("setting_test_value", destination, setting.pk), {"value": SECRET}, headers=HX
    )
    assert SECRET not in response.content.decode()
    assert "••••" in response.content.decode()
    for page in ("edit", "test_values", "settings"):
        assert SECRET not in client.get(url(page, destination)).content.decode()
    assert SECRET not in client.get(destination.get_absolute_url()).content.decode()


def test_map_test_value_errors_are_shown(client, login_as, destination):
    login_as()
    setting = setting_create(function=destination, label="Mapping", type="TEXT_MAP")
    content = client.post(
        url("setting_test_value", destination, setting.pk), {"value": "oops"}, headers=HX
    ).content.decode()
    assert "Line 1: write each entry as key=value." in content


# Saved payloads ----------------------------------------------------------------------------


def test_save_load_and_delete_a_payload(client, login_as, destination):
    login_as()
    data = json.dumps({"type": "identify", "userId": "u9"})
    content = client.post(
        url("payload_save", destination), {"name": "VIP", "data": data}, headers=HX
    ).content
    assert b"VIP" in content
    payload = SavedPayload.objects.get(function=destination)
    loaded = client.get(url("payload_load", destination, payload.pk)).content.decode()
    assert '"userId": "u9"' in text_of(loaded)
    client.post(url("payload_delete", destination, payload.pk), headers=HX)
    assert not SavedPayload.objects.exists()


def test_saving_invalid_payload_json_says_so(client, login_as, destination):
    login_as()
    content = client.post(
        url("payload_save", destination), {"name": "Bad", "data": "{"}, headers=HX
    ).content
    assert b"The payload is not valid JSON" in content
    assert not SavedPayload.objects.exists()


# Webhook capture ---------------------------------------------------------------------------


def capture_token(client, source):
    client.post(url("test_webhook_create", source))
    return source.test_webhook.token


def test_opening_the_editor_writes_nothing_and_the_test_url_is_made_on_request(
    client, login_as, source
):
    login_as()
    page = client.get(url("edit", source)).content
    assert not editor_models.TestWebhook.objects.exists()
    assert b"Get a test URL" in page
    # Polling before there is a URL answers "nothing yet", and still writes nothing.
    assert client.get(url("capture_poll", source), {"after": 0}).status_code == 204
    assert not editor_models.TestWebhook.objects.exists()
    box = client.post(url("test_webhook_create", source)).content
    token = editor_models.TestWebhook.objects.get(function=source).token
    assert reverse("webhook_capture", args=[token]).encode() in box
    assert (
        reverse("webhook_capture", args=[token]).encode() in client.get(url("edit", source)).content
    )
    client.post(url("test_webhook_create", source))
    assert editor_models.TestWebhook.objects.count() == 1


def test_captured_webhook_fills_the_request_builder(client, login_as, source):
    login_as()
    token = capture_token(client, source)
    assert client.get(url("capture_poll", source), {"after": 0}).status_code == 204
    response = client.post(
        reverse("webhook_capture", args=[token]) + "?ref=abc",
        data=json.dumps({"ticket": 42}),
        content_type="application/json",
        headers={"X-Signature": "sig-1"},
    )
    assert response.json() == {"status": "captured"}
    poll = client.get(url("capture_poll", source), {"after": 0})
    content = poll.content.decode()
    assert '"ticket": 42' in text_of(content)
    assert 'value="X-Signature"' in content and 'value="sig-1"' in content
    assert 'value="ref=abc"' in content
    capture = CapturedRequest.objects.get()
    assert client.get(url("capture_poll", source), {"after": capture.pk}).status_code == 204


def test_capture_rejects_unknown_tokens_and_big_bodies(client, login_as, source):
    login_as()
    token = capture_token(client, source)
    assert (
        client.post(
            reverse("webhook_capture", args=["nope"]), data="{}", content_type="application/json"
        ).status_code
        == 404
    )
    big = "x" * (512 * 1024 + 1)
    capture = reverse("webhook_capture", args=[token])
    assert client.post(capture, data=big, content_type="application/json").status_code == 413
    # As a deployed source's webhook answers (one reader serves both).
    assert client.post(capture, data="hi", content_type="text/plain").status_code == 415
    assert client.get(capture).status_code == 405
    assert not CapturedRequest.objects.exists()


def test_a_captured_request_keeps_no_credentials(client, login_as, source):
    """The capture is shown in the editor: credential headers never reach it."""
    login_as()
    token = capture_token(client, source)
    client.post(
        reverse("webhook_capture", args=[token]),
        data="{}",
        content_type="application/json",
        headers={"Authorization": "Bearer sk_live_1", "X-Api-Key": "k_2", "X-Shop": "acme"},
    )
    headers = {k.lower(): v for k, v in CapturedRequest.objects.get().headers.items()}
    assert headers["x-shop"] == "acme"
    assert "authorization" not in headers and "x-api-key" not in headers


def test_capture_keeps_only_the_newest_few(client, login_as, source):
    login_as()
    token = capture_token(client, source)
    for n in range(8):
        client.post(
            reverse("webhook_capture", args=[token]),
            data=json.dumps({"n": n}),
            content_type="application/json",
        )
    assert CapturedRequest.objects.count() == 5


def test_a_save_that_cannot_deploy_says_why_and_where(client, login_as, workspace):
    from catalog.models import ResourceType
    from tests.factories import make_function

    login_as()
    function = make_function(workspace=workspace, resource_type=ResourceType.DESTINATION)
    broken = "async function onTrack(event) {\n  return event\n\n"
    response = client.post(url("save", function), {"code": broken}, HTTP_HX_REQUEST="true")
    page = text_of(response)
    assert "Saved as version 2" in page
    assert "It cannot deploy yet: line" in page and "SyntaxError" in page
    missing = client.post(
        url("save", function), {"code": "async function onRequest() {}\n"}, HTTP_HX_REQUEST="true"
    )
    assert "It cannot deploy yet" in text_of(missing) and "onTrack" in text_of(missing)
    fine = client.post(
        url("save", function),
        {"code": "async function onTrack(event) { return event }\n"},
        HTTP_HX_REQUEST="true",
    )
    assert "cannot deploy" not in text_of(fine)


def test_a_test_event_nested_too_deep_is_refused_with_a_message(client, login_as, destination):
    login_as()
    event = "[" * 5000 + "]" * 5000
    response = client.post(url("run", destination), {"code": "", "event": event})
    assert response.status_code == 200
    assert "nested too deeply" in text_of(response)


def test_the_fetch_trace_shows_each_request_s_headers_body_and_timing(
    client, login_as, destination
):
    login_as()
    code = """async function onTrack(event, settings) {
      await fetch('https://api.example.com/a', { method: 'POST',
        headers: { Authorization: 'Bearer abc', 'X-Team': 'red' }, body: '{"n": 1}' });
      await fetch('https://api.example.com/b');
    }"""
    content = run(
        client,
        destination,
        code=code,
        event='{"type": "track"}',
        mock_body='{"accepted": 1}',
    ).content.decode()
    text = text_of(content)
    assert "<code>authorization</code></td><td><code>••••</code>" in content
    # The response as the function got it (the mocked one here).
    assert 'class="fetch-response"' in content and '{"accepted": 1}' in text
    assert "<code>x-team</code></td><td><code>red</code>" in content
    assert '{"n": 1}' in text and "Bearer abc" not in content
    bar = r'class="waterfall-bar" style="margin-left: ([\d.]+)%; width: ([\d.]+)%"'
    bars = re.findall(bar, content)
    assert len(bars) == 2
    # The second request starts after the first one began.
    assert float(bars[1][0]) >= float(bars[0][0])


def test_an_array_setting_previews_the_array_the_code_gets(client, login_as, destination):
    login_as()
    setting = make_setting(function=destination, name="events", type="ARRAY")
    html = client.get(url("test_values", destination), headers=HX).content.decode()
    assert "The code gets settings.events = []" in text_of(html)
    response = client.post(
        url("setting_test_value", destination, setting.pk),
        {"value": "Order Completed\nSigned Up"},
        headers=HX,
    )
    assert 'The code gets settings.events = ["Order Completed", "Signed Up"]' in text_of(
        response.content.decode()
    )


def test_a_template_brings_its_test_payloads_and_settings(client, login_as, destination):
    login_as()
    response = client.post(
        url("starter_extras", destination, "destination-webhook-relay"), headers=HX
    )
    html = response.content.decode()
    assert "Added 2 test payloads and the settings url, sharedSecret." in text_of(html)
    assert 'id="saved-payloads" class="saved-payloads" hx-swap-oob="true"' in html
    names = set(destination.saved_payloads.values_list("name", flat=True))
    assert names == {"Webhook Relay: Track", "Webhook Relay: Identify"}
    url_setting = destination.settings.get(name="url")
    assert url_setting.test_value == "https://example.com/events"
    assert destination.settings.get(name="sharedSecret").sensitive
    # Again: the payloads are replaced, the settings not declared twice.
    client.post(url("starter_extras", destination, "destination-webhook-relay"), headers=HX)
    assert destination.saved_payloads.count() == 2
    assert destination.settings.filter(name="url").count() == 1
    # A template of another kind is not offered to this function.
    assert client.post(url("starter_extras", destination, "source-stripe")).status_code == 404
