import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.services import function_delete
from functions_ui.audit.context import VIA_API, audit_via
from functions_ui.audit.models import AuditAction, AuditEvent
from functions_ui.audit.services import audit_record
from functions_ui.permissions.models import Role
from tests.factories import make_function, make_user, make_workspace
from tests.html import links_of
from versioning.selectors import latest_version
from versioning.services import version_save

pytestmark = pytest.mark.django_db


def audit_url(workspace, **query):
    url = reverse("audit:event_list", args=[workspace.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.mark.parametrize(
    "role", [Role.FUNCTIONS_ADMIN, Role.FUNCTIONS_READ_ONLY, Role.SOURCE_ADMIN, None]
)
def test_only_owners_see_the_trail(client, login_as, workspace, role):
    login_as(role)
    assert client.get(audit_url(workspace)).status_code == 403


def test_the_trail_of_another_workspace_is_404(client, login_as):
    login_as(Role.WORKSPACE_OWNER)
    assert client.get(audit_url(make_workspace())).status_code == 404


def test_newest_first_with_links_to_the_function_and_the_compare_view(client, login_as, workspace):
    owner = login_as(Role.WORKSPACE_OWNER)
    function = make_function(workspace=workspace, display_name="Billing", user=owner)
    v1 = latest_version(function=function)
    v2 = version_save(function=function, user=owner, code="// v2", base_version_id=None)
    response = client.get(audit_url(workspace))
    content = response.content.decode()
    assert response.status_code == 200
    assert content.index('data-action="function.save"') < content.index(
        'data-action="function.create"'
    )
    assert f'href="{function.get_absolute_url()}"' in content
    compare = reverse("versioning:compare", args=[workspace.slug, function.public_id])
    assert f"{compare}?base={v2.id}&target={v1.id}" in links_of(content)


def test_a_deleted_function_is_named_without_a_link(client, login_as, workspace):
    login_as(Role.WORKSPACE_OWNER)
    function = make_function(workspace=workspace, display_name="Gone Soon")
    url = function.get_absolute_url()
    function_delete(function=function)
    content = client.get(audit_url(workspace)).content.decode()
    assert 'Gone Soon <span class="muted">(deleted)</span>' in content
    assert f'href="{url}"' not in content


def test_filter_by_action_actor_via_and_date(client, login_as, workspace):
    owner = login_as(Role.WORKSPACE_OWNER)
    bot = make_user(username="bot")
    audit_record(workspace=workspace, user=owner, action=AuditAction.MEMBER_ADD)
    with audit_via(VIA_API, token_label="ci (fui_abc)", user=bot):
        audit_record(workspace=workspace, action=AuditAction.TOKEN_CREATE)

    def rows(**query):
        content = client.get(audit_url(workspace, **query)).content.decode()
        return content.count('class="audit-row"')

    assert rows() == 2
    assert rows(action="token.create") == 1
    assert rows(actor="bot") == 1
    assert rows(via="api") == 1
    assert "ci (fui_abc)" in client.get(audit_url(workspace, via="api")).content.decode()
    today = timezone.localdate()
    assert rows(date_from=today.isoformat()) == 2
    assert rows(date_to=(today - datetime.timedelta(days=1)).isoformat()) == 0


def test_htmx_gets_the_results_partial(client, login_as, workspace):
    login_as(Role.WORKSPACE_OWNER)
    audit_record(workspace=workspace, action=AuditAction.MEMBER_ADD)
    response = client.get(audit_url(workspace, action="member.add"), HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'class="audit-row"' in content
    assert "<html" not in content


def test_pages_are_a_constant_number_of_queries(
    client, login_as, workspace, django_assert_max_num_queries
):
    owner = login_as(Role.WORKSPACE_OWNER)
    for _ in range(30):
        make_function(workspace=workspace, user=owner)
    with django_assert_max_num_queries(10):
        response = client.get(audit_url(workspace))
    assert response.content.decode().count('class="audit-row"') == 30


def test_the_page_offers_no_way_to_change_the_trail(client, login_as, workspace):
    login_as(Role.WORKSPACE_OWNER)
    event = audit_record(workspace=workspace, action=AuditAction.MEMBER_ADD)
    for method in (client.post, client.put, client.patch, client.delete):
        assert method(audit_url(workspace), {"action": "member.remove"}).status_code == 405
    content = client.get(audit_url(workspace)).content.decode()
    assert 'method="post"' not in content.split('id="audit-filters"')[1]
    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.MEMBER_ADD
