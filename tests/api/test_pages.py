"""The owners' token page, the OpenAPI document and the readable docs page."""

from __future__ import annotations

import re

import pytest

from functions_ui.api.models import ApiToken
from functions_ui.api.openapi import openapi_document
from functions_ui.api.routes import ROUTES, django_path
from functions_ui.permissions.models import Role
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db
URL = "/w/acme/settings/api-tokens/"


def test_an_owner_creates_a_token_shown_once(client, login_as):
    owner = login_as(Role.WORKSPACE_OWNER)
    response = client.post(URL, {"description": "CI deploys"})
    assert response.status_code == 200
    raw = response.context["created"]["raw"]
    assert raw.encode() in response.content
    token = ApiToken.objects.get()
    assert (token.user, token.description) == (owner, "CI deploys")
    listing = client.get(URL)
    assert raw.encode() not in listing.content
    assert token.hint.encode() in listing.content and b"never" in listing.content
    assert ApiClient(raw).get("/functions?resourceType=SOURCE").status_code == 200


def test_the_list_shows_last_use_and_revoked_tokens(client, login_as):
    login_as(Role.WORKSPACE_OWNER)
    raw = client.post(URL, {"description": "used"}).context["created"]["raw"]
    ApiClient(raw).get("/functions?resourceType=SOURCE")
    assert b"ago" in client.get(URL).content
    token = ApiToken.objects.get()
    response = client.post(f"{URL}{token.pk}/revoke/")
    assert response.status_code == 302
    assert b"revoked" in client.get(URL).content
    assert ApiClient(raw).get("/functions?resourceType=SOURCE").status_code == 401


def test_a_long_description_is_refused(client, login_as):
    login_as(Role.WORKSPACE_OWNER)
    response = client.post(URL, {"description": "x" * 201})
    assert response.status_code == 422 and not ApiToken.objects.exists()


@pytest.mark.parametrize("role", [Role.FUNCTIONS_ADMIN, Role.FUNCTIONS_READ_ONLY, None])
def test_only_owners_manage_tokens(client, login_as, role):
    login_as(role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"description": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_another_workspace_s_token_cannot_be_revoked_here(client, login_as, api_as):
    from tests.factories import make_workspace

    other = api_as(Role.WORKSPACE_OWNER, workspace_=make_workspace())
    login_as(Role.WORKSPACE_OWNER)
    assert client.post(f"{URL}{other.token_obj.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=other.token_obj.pk).revoked_at is None


def test_the_nav_links_the_token_page_for_owners_only(client, login_as):
    login_as(Role.WORKSPACE_OWNER)
    assert URL.encode() in client.get("/w/acme/functions/").content
    client.logout()
    login_as(Role.FUNCTIONS_ADMIN)
    assert URL.encode() not in client.get("/w/acme/functions/").content


def test_the_openapi_document_is_served_without_a_token(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": "http://testserver/api/v1"}]
    assert set(document["paths"]) == {route.path for route in ROUTES}


def test_every_route_and_method_the_server_answers_is_in_the_document():
    """Walk the URL map itself: each API path's view, with the methods it serves, against the
    document, both ways."""
    from functions_ui.api.urls import api_v1_patterns

    served = set()
    for pattern in api_v1_patterns:
        routes = getattr(pattern.callback, "routes", None)
        if routes is None:
            continue  # the catch-all 404 in the envelope
        for method, route in routes.items():
            # The Django path and the document's path must name the same place.
            assert str(pattern.pattern) == django_path(route.path)
            served.add((method.lower(), route.path))
    documented = {
        (method, path)
        for path, methods in openapi_document()["paths"].items()
        for method in methods
    }
    assert served == documented
    assert len(served) == 24


def test_every_documented_operation_answers_in_its_own_shape(api, workspace):
    """An unknown id is answered 404 in the envelope on every documented path and method,
    never 405 (a method the document names but the server does not serve)."""
    for path, methods in openapi_document()["paths"].items():
        url = re.sub(r"{\w+}", "nope", path)
        for method in methods:
            response = getattr(api, method)(
                url + ("?resourceType=SOURCE&functionId=x" if method == "get" else "")
            )
            assert response.status_code != 405, (method, path)


def test_the_document_s_references_all_resolve():
    document = openapi_document()
    import json
    import re

    names = set(re.findall(r'"#/components/schemas/([A-Za-z0-9]+)"', json.dumps(document)))
    assert names <= set(document["components"]["schemas"])


def test_the_docs_page_lists_every_operation_and_schema(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    for text in (
        b"listFunctions",
        b"restoreFunctionVersion",
        b"FunctionV1",
        b"pagination.count",
        b"/functions/{functionId}/versions/{baseVersionId}/compare/{targetVersionId}",
    ):
        assert text in response.content
    assert b"cdn" not in response.content.lower()
