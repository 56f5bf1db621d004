from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Function, ResourceType
from catalog.starters import default_code
from functions_ui.permissions.models import Role
from tests.factories import make_function, make_workspace
from tests.html import disabled_of, scripts_of, text_of, values_of

pytestmark = pytest.mark.django_db


def list_url(workspace, **query):
    url = reverse("catalog:function_list", kwargs={"workspace_slug": workspace.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def configure_url(workspace, type_slug="destination"):
    return reverse("catalog:function_create_configure", args=[workspace.slug, type_slug])


def test_catalog_needs_login(client, workspace):
    response = client.get(list_url(workspace))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_catalog_of_a_workspace_you_are_not_in_is_404(client, login_as):
    login_as(Role.WORKSPACE_OWNER)
    other = make_workspace()
    make_function(workspace=other, display_name="Secret Sauce")
    response = client.get(list_url(other))
    assert response.status_code == 404
    assert b"Secret Sauce" not in response.content


def test_catalog_lists_functions_with_type_author_and_description(client, login_as, workspace):
    user = login_as(Role.FUNCTIONS_ADMIN)
    make_function(
        workspace=workspace,
        display_name="Stripe Hooks",
        resource_type=ResourceType.SOURCE,
        user=user,
        description="Payments in",
    )
    response = client.get(list_url(workspace))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Stripe Hooks" in content
    assert "Payments in" in content
    assert f"by {user.username}" in content
    assert 'class="badge badge-source">Source<' in content


def test_catalog_tabs_filter_and_count(client, login_as, workspace):
    login_as()
    make_function(workspace=workspace, display_name="Src", resource_type=ResourceType.SOURCE)
    make_function(workspace=workspace, display_name="Dst", resource_type=ResourceType.DESTINATION)
    content = client.get(list_url(workspace, type="source")).content.decode()
    assert "Src" in content and ">Dst<" not in content
    assert 'aria-current="page">Source <span class="count">1</span>' in content


def test_catalog_search_by_name(client, login_as, workspace):
    login_as()
    make_function(workspace=workspace, display_name="Mailchimp Sync")
    make_function(workspace=workspace, display_name="Slack Alerts")
    content = client.get(list_url(workspace, q="mailchimp")).content.decode()
    assert "Mailchimp Sync" in content and "Slack Alerts" not in content


def test_catalog_htmx_request_gets_only_the_results_partial(client, login_as, workspace):
    login_as()
    make_function(workspace=workspace, display_name="Mailchimp Sync")
    response = client.get(list_url(workspace, q="mail"), headers={"HX-Request": "true"})
    content = response.content.decode()
    assert "Mailchimp Sync" in content
    assert "<html" not in content
    assert response["Vary"].count("HX-Request") == 1


def test_catalog_empty_state_invites_creating(client, login_as, workspace):
    login_as()
    content = client.get(list_url(workspace)).content.decode()
    assert "No functions yet" in content
    assert "Create your first function" in content


def test_catalog_paginates(client, login_as, workspace, settings):
    settings.CATALOG_PAGE_SIZE = 2
    login_as()
    for n in range(5):
        make_function(workspace=workspace, display_name=f"Fn {n}")
    first = client.get(list_url(workspace)).content.decode()
    assert "Page 1 of 3" in first and 'rel="next"' in first
    last = client.get(list_url(workspace, page=3)).content.decode()
    assert "Fn 0" in last and 'rel="next"' not in last


def catalog_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_catalog_query_count_does_not_grow_with_functions(client, login_as, workspace):
    user = login_as()
    make_function(workspace=workspace, user=user)
    few = catalog_queries(client, list_url(workspace))
    for _ in range(30):
        make_function(workspace=workspace, user=user)
    assert catalog_queries(client, list_url(workspace)) == few


def test_read_only_member_sees_create_disabled_with_reason(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    content = client.get(list_url(workspace)).content.decode()
    assert disabled_of(content)["+ New Function"] == (
        "Only Workspace Owners and Functions Admins can create functions."
    )
    assert client.get(reverse("catalog:function_create", args=[workspace.slug])).status_code == 403


def test_create_flow_step_two_prefills_the_type_template(client, login_as, workspace):
    login_as()
    response = client.get(reverse("catalog:function_create_build", args=[workspace.slug, "insert"]))
    assert response.status_code == 200
    assert "async function onTrack(event, settings) {\n  return event;" in response.content.decode()


def test_create_flow_unknown_type_is_404(client, login_as, workspace):
    login_as()
    assert (
        client.get(
            reverse("catalog:function_create_build", args=[workspace.slug, "lambda"])
        ).status_code
        == 404
    )


def test_create_flow_step_three_carries_the_code(client, login_as, workspace):
    login_as()
    response = client.post(configure_url(workspace), {"code": "// mine <b>"})
    assert response.status_code == 200
    assert "// mine <b>" in values_of(response)
    assert Function.objects.count() == 0


def test_create_flow_creates_the_function(client, login_as, workspace):
    user = login_as()
    code = "async function onTrack(event) {\n  return 1;\n}\n"
    response = client.post(
        configure_url(workspace),
        {
            "code": code,
            "display_name": "Mailer",
            "description": "Sends mail",
            "logo_url": "",
            "create": "1",
        },
    )
    function = Function.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/w/{workspace.slug}/functions/{function.public_id}/edit/"
    assert (function.display_name, function.code, function.created_by) == ("Mailer", code, user)
    assert function.resource_type == ResourceType.DESTINATION
    assert "Mailer" in client.get(list_url(workspace)).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"display_name": ""}, "Give the function a name."),
        ({"display_name": "x" * 121}, "The name can be at most 120 characters long."),
        ({"display_name": "Ok", "logo_url": "javascript:alert(1)"}, "Enter a full web address"),
        (
            {"display_name": "Ok", "code": "x" * (256 * 1024 + 1)},
            "Code is larger than the limit of 256 KiB.",
        ),
    ],
)
def test_create_flow_invalid_input_rerenders_with_a_message(
    client, login_as, workspace, data, message
):
    login_as()
    response = client.post(configure_url(workspace), {"code": "// kept", "create": "1", **data})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Function.objects.count() == 0


def test_create_flow_duplicate_name_is_a_message_not_a_500(client, login_as, workspace):
    login_as()
    make_function(workspace=workspace, display_name="Mailer")
    response = client.post(
        configure_url(workspace), {"code": "// kept", "display_name": "MAILER", "create": "1"}
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert "A function with this name already exists." in content
    assert 'value="// kept"' in content


def test_create_flow_back_to_code_keeps_code_and_name(client, login_as, workspace):
    login_as()
    response = client.post(
        reverse("catalog:function_create_build", args=[workspace.slug, "destination"]),
        {"code": "// edited", "display_name": "Half done"},
    )
    content = response.content.decode()
    assert "// edited" in content
    assert default_code(ResourceType.DESTINATION) not in content
    assert 'name="display_name" value="Half done"' in content


def test_read_only_member_cannot_create_by_posting(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    response = client.post(configure_url(workspace), {"display_name": "Sneaky", "create": "1"})
    assert response.status_code == 403
    assert Function.objects.count() == 0


def test_detail_shows_code_escaped(client, login_as, workspace):
    login_as()
    function = make_function(workspace=workspace, code="// </code><script>alert(1)</script>")
    content = client.get(function.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" in text_of(content)
    assert not any("alert(1)" in script for script in scripts_of(content))
    assert "<script>alert(1)" not in content


def test_detail_of_another_workspaces_function_is_404(client, login_as, workspace):
    login_as(Role.WORKSPACE_OWNER)
    other = make_function(workspace=make_workspace())
    url = reverse("catalog:function_detail", args=[workspace.slug, other.public_id])
    assert client.get(url).status_code == 404


def test_delete_asks_first_then_deletes(client, login_as, workspace):
    login_as()
    function = make_function(workspace=workspace, display_name="Doomed")
    url = reverse("catalog:function_delete", args=[workspace.slug, function.public_id])
    page = client.get(url)
    assert page.status_code == 200 and "Delete “Doomed”?" in page.content.decode()
    assert Function.objects.filter(pk=function.pk).exists()
    response = client.post(url)
    assert response.status_code == 302
    assert not Function.objects.filter(pk=function.pk).exists()


def test_read_only_member_cannot_delete(client, login_as, workspace):
    login_as(Role.FUNCTIONS_READ_ONLY)
    function = make_function(workspace=workspace)
    url = reverse("catalog:function_delete", args=[workspace.slug, function.public_id])
    assert client.post(url).status_code == 403
    assert Function.objects.filter(pk=function.pk).exists()


def test_member_without_a_functions_role_is_told_why_the_catalog_is_empty(
    client, login_as, workspace
):
    login_as(role=None)
    make_function(workspace=workspace, display_name="Hidden")
    content = client.get(list_url(workspace)).content.decode()
    assert "You have no access to functions here" in content
    assert "Hidden" not in content
    assert "No functions yet" not in content


def test_catalog_rows_show_the_last_day_and_the_deploy_state(client, login_as, workspace):
    from django.utils import timezone

    from functions_ui.deploys import metrics
    from functions_ui.deploys.models import RunStatus
    from tests.deploys.helpers import make_source

    login_as()
    function, source = make_source(workspace=workspace, display_name="Busy source")
    now = timezone.now()
    metrics.record(
        metrics.Outcome(function.pk, source.public_id, status, 2.0, now - timedelta(hours=hours))
        for status, hours in [(RunStatus.DELIVERED, 0)] * 5
        + [(RunStatus.FAILED, 3)] * 2
        + [(RunStatus.DELIVERED, 30)]  # older than a day: not counted
    )
    page = text_of(client.get(reverse("catalog:function_list", args=[workspace.slug])))
    assert "7 events · 2 errors" in page
    assert "Not deployed" in page
