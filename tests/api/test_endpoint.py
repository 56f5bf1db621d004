"""The HTTP side every endpoint shares: routes, methods, media types, the envelope."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import ApiClient
from tests.factories import make_function

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/nope", "/functions/", "/functions/x/y/z", "/", "/functions/x/versions/a/compare"]
)
def test_unknown_routes_are_404_in_the_envelope(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json() == {"errors": [{"type": "NotFound", "message": "Resource not found"}]}


def test_unknown_routes_need_no_token(workspace):
    assert ApiClient(None).get("/nope").json()["errors"][0]["type"] == "NotFound"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/functions", "GET, POST"),
        ("DELETE", "/functions", "GET, POST"),
        ("POST", "/functions/{id}", "DELETE, GET, PATCH"),
        ("GET", "/functions/{id}/deploy", "POST"),
        ("OPTIONS", "/functions/{id}/versions", "GET, POST"),
    ],
)
def test_wrong_methods_are_405_with_allow(api, workspace, method, path, allowed):
    function = make_function(workspace=workspace)
    response = api.request(method, path.format(id=function.public_id))
    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert response.json()["errors"][0]["type"] == "MethodNotAllowed"


def test_every_answer_to_a_token_carries_rate_limit_headers(api):
    for response in (
        api.get("/functions?resourceType=SOURCE"),
        api.get("/functions"),
        api.request("PUT", "/functions"),
    ):
        assert response["X-RateLimit-Limit"] == "600"
        assert "X-RateLimit-Remaining" in response and "X-RateLimit-Reset" in response


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("application/json", "application/json"),
        ("application/vnd.segment.v1alpha+json", "application/vnd.segment.v1alpha+json"),
        (
            "text/html, application/vnd.segment.v1beta+json;q=0.9",
            "application/vnd.segment.v1beta+json",
        ),
        ("*/*", "application/json"),
    ],
)
def test_answers_in_the_media_type_asked_for(api, accept, expected):
    headers = {"Accept": accept} if accept else {}
    response = api.get("/functions?resourceType=SOURCE", **headers)
    assert response["Content-Type"] == f"{expected}; charset=utf-8"


def test_an_operation_that_fails_is_answered_500_in_the_envelope(api, rf):
    from functions_ui.api import schemas
    from functions_ui.api.endpoint import endpoint
    from functions_ui.api.routes import Route

    def failing(request, api_context):
        raise RuntimeError("a bug")

    view = endpoint({"GET": Route("GET", "/x", failing, "fail", "Fails", schemas.DeletedData)})
    response = view(rf.get("/api/v1/x", headers={"Authorization": f"Bearer {api.token}"}))
    assert response.status_code == 500
    assert response["X-RateLimit-Limit"] == "600"
    assert json.loads(response.content) == {
        "errors": [{"type": "InternalError", "message": "Internal error"}]
    }


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_body_nested_too_deep_is_a_400_not_a_500(api, depth):
    response = api.request("POST", "/functions", raw="[" * depth + "]" * depth)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["errors"][0]["message"]


def test_a_deploy_id_of_unicode_digits_is_a_404_not_a_500(api, workspace):
    from tests.factories import make_function

    function = make_function(workspace=workspace)
    assert api.get(f"/functions/{function.public_id}/deploys/²").status_code == 404
