import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from catalog.models import FunctionSetting
from functions_ui.permissions.models import Role
from tests.factories import make_function, make_member, make_setting, make_workspace
from tests.html import disabled_of, scripts_of, text_of
from versioning.highlighting import highlight_css
from versioning.models import Version
from versioning.selectors import latest_version
from versioning.services import version_mark_deployed, version_restore, version_save
from versioning.views import VIEW_COOKIE

pytestmark = pytest.mark.django_db
READ_ONLY_REASON = "Only Workspace Owners and Functions Admins can edit functions."


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def url(name, function, query="", **kwargs):
    path = reverse(
        f"versioning:{name}",
        kwargs={
            "workspace_slug": function.workspace.slug,
            "function_id": function.public_id,
            **kwargs,
        },
    )
    return f"{path}?{query}" if query else path


def save(function, code, **kwargs):
    return version_save(function=function, user=None, code=code, base_version_id=None, **kwargs)


@pytest.fixture
def function(workspace):
    return make_function(workspace=workspace, display_name="Mirror", code="const a = 1;\n")


# History ------------------------------------------------------------------------------------


def test_history_lists_versions_with_labels_author_and_note(client, login_as, function):
    user = login_as(Role.FUNCTIONS_ADMIN)
    v2 = version_save(
        function=function, user=user, code="const a = 2;\n", base_version_id=None, note="Bump"
    )
    version_mark_deployed(version=function.versions.get(number=1))
    content = client.get(url("history", function)).content.decode()
    # The page's own tokens and ids are random, so only the version links count.
    assert re.findall(r'class="version-number"[^>]*>(v\d+)<', content) == ["v2", "v1"]
    assert "Bump" in content
    assert user.username in content
    assert "LATEST" in content and "DEPLOYED" in content
    assert f"?target={function.versions.get(number=1).id}" in content
    assert "<html" in content
    assert v2.id in content


def test_history_for_htmx_is_the_partial(client, login_as, function):
    login_as(Role.FUNCTIONS_READ_ONLY)
    response = client.get(url("history", function), headers={"HX-Request": "true"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert 'id="version-history"' in content


def test_history_query_count_does_not_grow_with_versions(
    client, login_as, function, django_assert_max_num_queries
):
    login_as()
    client.get(url("history", function))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url("history", function), headers={"HX-Request": "true"})
    for n in range(40):
        save(function, f"v{n}\n")
    with CaptureQueriesContext(connection) as many:
        client.get(url("history", function) + "?page=2", headers={"HX-Request": "true"})
    assert len(many) == len(few)


def test_history_escapes_notes(client, login_as, function):
    login_as()
    save(function, "x\n", note="<script>alert(1)</script>")
    content = client.get(url("history", function)).content.decode()
    assert "<script>alert(1)" not in content
    assert "<script>alert(1)</script>" in text_of(content)
    assert not any("alert(1)" in script for script in scripts_of(content))


def test_history_of_a_function_outside_your_scope_is_404(client, workspace, function):
    other = make_function(workspace=workspace)
    user = make_member(workspace=workspace, role=Role.FUNCTIONS_READ_ONLY, functions=[other])
    client.force_login(user)
    assert client.get(url("history", function)).status_code == 404
    assert client.get(url("history", other)).status_code == 200


def test_history_of_another_workspace_is_404(client, login_as):
    login_as(Role.WORKSPACE_OWNER)
    foreign = make_function(workspace=make_workspace())
    assert client.get(url("history", foreign)).status_code == 404


def test_history_needs_login(client, function):
    assert client.get(url("history", function)).status_code == 302


# Compare ------------------------------------------------------------------------------------


def test_compare_defaults_to_latest_on_the_left(client, login_as, function):
    login_as(Role.FUNCTIONS_READ_ONLY)
    v1 = function.versions.get()
    save(function, "const a = 2;\nconst b = 3;\n")
    response = client.get(url("compare", function, f"target={v1.id}&view=split"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Compare v2 with v1" in content
    assert 'class="diff diff-split hl"' in content
    assert '<span class="stat-add">+1</span> <span class="stat-del">−2</span>' in content
    assert '<mark class="dl-del">' in content and '<mark class="dl-ins">' in content
    assert 'id="b1"' in content and 'id="t1"' in content
    assert response.cookies[VIEW_COOKIE].value == "split"


def test_compare_remembers_the_view(client, login_as, function):
    login_as()
    save(function, "x\n")
    client.get(url("compare", function, "view=unified"))
    content = client.get(url("compare", function)).content.decode()
    assert 'class="diff diff-unified hl"' in content


def test_compare_a_version_with_itself_says_no_differences(client, login_as, function):
    login_as()
    v1 = function.versions.get().id
    content = client.get(url("compare", function, f"base={v1}&target={v1}")).content.decode()
    assert "No differences" in content
    assert "same version" in content


def test_ignore_whitespace(client, login_as, function):
    login_as()
    v1 = function.versions.get().id
    save(function, "const  a =  1;  \n")
    plain = client.get(url("compare", function, f"target={v1}")).content.decode()
    ignored = client.get(url("compare", function, f"target={v1}&ws=1")).content.decode()
    assert "No differences" not in plain
    assert "No differences (ignoring whitespace)" in ignored


def test_line_endings_and_missing_final_newline_and_non_ascii(client, login_as, function):
    login_as()
    v1 = function.versions.get().id
    save(function, "const a = 1;\r\nconst é = 'ünï';")
    content = client.get(url("compare", function, f"target={v1}")).content.decode()
    assert "Line endings differ" in content
    assert "No newline at end of file" in content
    assert "ünï" in content


def test_empty_files_diff(client, login_as, workspace):
    login_as()
    function = make_function(workspace=workspace, code="")
    save(function, "a\n")
    v1 = function.versions.get(number=1).id
    content = client.get(url("compare", function, f"target={v1}")).content.decode()
    assert "−1" in content


def test_user_code_cannot_inject_markup(client, login_as, function):
    login_as()
    v1 = function.versions.get().id
    save(function, "</td><script>alert('x')</script><img src=x onerror=alert(1)>\n")
    content = client.get(url("compare", function, f"target={v1}")).content.decode()
    assert not any("alert" in script for script in scripts_of(content))
    assert "<img src=x" not in content
    assert "<script>alert('x')</script>" in text_of(content)


def test_collapsed_stretches_expand_with_htmx(client, login_as, workspace):
    login_as()
    code = "".join(f"line{n}\n" for n in range(40))
    function = make_function(workspace=workspace, code=code)
    save(function, code.replace("line20\n", "changed\n"))
    v1 = function.versions.get(number=1).id
    content = client.get(url("compare", function, f"target={v1}&view=unified")).content.decode()
    assert "Expand 17 unchanged lines (1–17)" in content
    expand = url("expand", function, f"target={v1}&view=unified&old_start=1&new_start=1&count=17")
    response = client.get(expand, headers={"HX-Request": "true"})
    rows = response.content.decode()
    assert response.status_code == 200
    assert rows.count("<tr") == 17
    assert "line0" in rows and "line16" in rows


@pytest.mark.parametrize(
    "query",
    [
        "old_start=1&new_start=1&count=999",
        "old_start=19&new_start=19&count=5",
        "old_start=x&new_start=1&count=1",
        "",
    ],
)
def test_expand_refuses_bad_ranges(client, login_as, workspace, query):
    login_as()
    code = "".join(f"line{n}\n" for n in range(40))
    function = make_function(workspace=workspace, code=code)
    save(function, code.replace("line20\n", "changed\n"))
    v1 = function.versions.get(number=1).id
    assert client.get(url("expand", function, f"target={v1}&{query}")).status_code == 400


def test_full_context_link_shows_every_line(client, login_as, workspace):
    login_as()
    code = "".join(f"line{n}\n" for n in range(40))
    function = make_function(workspace=workspace, code=code)
    save(function, code.replace("line20\n", "changed\n"))
    v1 = function.versions.get(number=1).id
    content = client.get(url("compare", function, f"target={v1}&full=1")).content.decode()
    assert "Expand" not in content
    assert "line0" in content and "line39" in content


@pytest.mark.parametrize("param", ["base", "target"])
def test_compare_with_an_unknown_or_foreign_version_is_404(
    client, login_as, workspace, function, param
):
    login_as()
    foreign = make_function(workspace=make_workspace()).versions.get().id
    sibling = make_function(workspace=workspace).versions.get().id
    for version_id in (foreign, sibling, "2Ma03fahSqLoEzQfV5o2aSfVEHs", "nonsense"):
        assert client.get(url("compare", function, f"{param}={version_id}")).status_code == 404


def test_against_deployed_link_and_settings_diff(client, login_as, function):
    login_as()
    v1 = function.versions.get()
    version_mark_deployed(version=v1)
    make_setting(
        function=function,
        name="token",
        label="Token",
        sensitive=True,
        test_value_encrypted="zzz-secret",
    )
    v2 = save(function, "const a = 2;\n")
    FunctionSetting.objects.filter(function=function).update(label="Access token")
    v3 = save(function, "const a = 3;\n")
    content = client.get(url("compare", function, f"base={v2.id}&target={v3.id}")).content.decode()
    assert f"base={v1.id}" in content  # the "Against DEPLOYED" link
    assert "Access token" in content and "Changed" in content
    assert "never stored in versions" in content
    assert "zzz-secret" not in content


def test_compare_shows_restore_disabled_for_read_only(client, login_as, function):
    login_as(Role.FUNCTIONS_READ_ONLY)
    v1 = function.versions.get().id
    save(function, "x\n")
    content = client.get(url("compare", function, f"target={v1}")).content.decode()
    assert disabled_of(content)["Restore v1"] == READ_ONLY_REASON


# Restore ------------------------------------------------------------------------------------


def test_restore_confirmation_says_what_will_happen(client, login_as, function):
    login_as()
    v1 = function.versions.get()
    save(function, "const a = 2;\n")
    version_mark_deployed(version=function.versions.get(number=2))
    response = client.get(url("restore", function, version_id=v1.id))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Restore v1?" in content
    assert "v3" in content and "Nothing is deployed" in content
    assert "stays on v2" in content
    assert 'class="diff ' in content
    assert function.versions.count() == 2


def test_restore_confirmation_names_the_settings_it_removes(client, login_as, function):
    from tests.factories import make_setting

    login_as()
    v1 = function.versions.get()
    make_setting(function=function, name="region", label="Region", test_value="eu")
    save(function, "const a = 2;\n")
    page = text_of(client.get(url("restore", function, version_id=v1.id)))
    assert "Settings change: region removed." in page
    assert "a removed setting's value comes back with it" in page


def test_restore_post_creates_a_new_latest_and_offers_undo(client, login_as, function):
    login_as()
    v1 = function.versions.get()
    save(function, "const a = 2;\n")
    response = client.post(url("restore", function, version_id=v1.id))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "editor:edit", args=[function.workspace.slug, function.public_id]
    )
    latest = Version.objects.filter(function=function).order_by("-number").first()
    assert (latest.number, latest.code, latest.restored_from_id) == (3, v1.code, v1.id)
    history = client.get(url("history", function)).content.decode()
    assert "Undo" in history and "Restored as <strong>v3</strong>" in history

    response = client.post(url("undo", function))
    assert response.status_code == 302
    newest = Version.objects.filter(function=function).order_by("-number").first()
    assert (newest.number, newest.code) == (4, "const a = 2;\n")
    assert "undo-banner" not in client.get(url("history", function)).content.decode()


def test_undo_is_refused_after_a_newer_save(client, login_as, function):
    login_as()
    v1 = function.versions.get()
    save(function, "b\n")
    client.post(url("restore", function, version_id=v1.id))
    save(function, "c\n")
    client.post(url("undo", function))
    assert function.versions.count() == 4


def test_read_only_sees_the_confirmation_but_cannot_restore(client, login_as, function):
    login_as(Role.FUNCTIONS_READ_ONLY)
    v1 = function.versions.get()
    save(function, "b\n")
    content = client.get(url("restore", function, version_id=v1.id)).content.decode()
    assert disabled_of(content)["Restore"] == READ_ONLY_REASON
    assert client.post(url("restore", function, version_id=v1.id)).status_code == 403
    assert client.post(url("undo", function)).status_code == 403
    assert function.versions.count() == 2


def test_restore_of_another_functions_version_is_404(client, login_as, workspace, function):
    login_as()
    sibling = make_function(workspace=workspace).versions.get().id
    assert client.post(url("restore", function, version_id=sibling)).status_code == 404
    assert client.get(url("restore", function, version_id="nope")).status_code == 404


def test_restore_needs_post_or_get(client, login_as, function):
    login_as()
    assert (
        client.put(url("restore", function, version_id=function.versions.get().id)).status_code
        == 405
    )
    assert client.get(url("undo", function)).status_code == 405


def test_restore_never_shows_secret_values(client, login_as, function):
    login_as()
    make_setting(function=function, name="token", sensitive=True, test_value_encrypted="tok-secret")
    v2 = save(function, "b\n")
    save(function, "c\n")
    version_restore(version=v2, user=None)
    content = client.get(url("restore", function, version_id=v2.id)).content.decode()
    assert "tok-secret" not in content


def test_stylesheet_carries_the_highlighting_rules():
    from django.conf import settings

    stylesheet = (settings.BASE_DIR / "static" / "css" / "versioning.css").read_text()
    assert highlight_css(".hl") in stylesheet


def test_history_names_the_instances_running_each_version(client, login_as, workspace):
    from functions_ui.deploys.instances import source_instance_create
    from tests.deploys.helpers import SOURCE_CODE

    login_as()
    function = make_function(workspace=workspace, resource_type="SOURCE", code=SOURCE_CODE)
    source_instance_create(function=function, user=None, name="Production hooks", raw_settings={})
    first = latest_version(function=function)
    version_save(function=function, user=None, code=SOURCE_CODE + "// v2\n", base_version_id=None)
    url = reverse("versioning:history", args=[workspace.slug, function.public_id])
    content = client.get(url, headers={"HX-Request": "true"}).content.decode()
    entry = content[content.index(f'id="version-{first.id}"') :]
    assert "Runs on: Production hooks" in entry
    assert content.count("Runs on:") == 1


def test_history_pages_link_each_other_inside_the_panel(client, login_as, function):
    login_as()
    for n in range(40):
        save(function, f"v{n}\n")
    page = client.get(url("history", function) + "?page=2", headers={"HX-Request": "true"})
    html = page.content.decode()
    newer = f'href="{url("history", function)}?page=1"'
    assert newer in html and 'rel="prev"' in html
    # The panel swaps itself and leaves the editor's address alone.
    assert 'hx-target="#version-history" hx-swap="outerHTML" hx-push-url="false"' in html
    assert "versions</span>" in html
