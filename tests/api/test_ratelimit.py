"""Per-token limits counted in a real Redis; failing open when Redis is away."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest

from functions_ui.api.ratelimit import rate_limit_hit
from functions_ui.devserver.redis_server import free_port
from functions_ui.permissions.models import Role

pytestmark = pytest.mark.django_db
LIST = "/functions?resourceType=SOURCE"


def test_headers_count_down_then_429_with_retry_after(api, settings):
    settings.API_RATE_LIMIT_REQUESTS = 3
    remaining = [api.get(LIST)["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = api.get(LIST)
    assert refused.status_code == 429
    error = refused.json()["errors"][0]
    assert error["type"] == "RateLimited" and error["message"] == "Too many requests"
    assert error["data"]["remainingPoints"] == 0 and error["data"]["consumedPoints"] == 4
    assert 1 <= int(refused["Retry-After"]) <= settings.API_RATE_LIMIT_WINDOW_SECONDS
    assert parsedate_to_datetime(refused["X-RateLimit-Reset"]).tzinfo is not None


def test_a_refused_request_does_nothing(api, settings):
    settings.API_RATE_LIMIT_REQUESTS = 1
    api.get(LIST)
    body = {"code": "x", "displayName": "Too late", "resourceType": "SOURCE"}
    assert api.post("/functions", body).status_code == 429
    from catalog.models import Function

    assert not Function.objects.exists()


def test_each_token_has_its_own_count(api_as, settings):
    settings.API_RATE_LIMIT_REQUESTS = 1
    first, second = api_as(Role.WORKSPACE_OWNER), api_as(Role.WORKSPACE_OWNER)
    assert first.get(LIST).status_code == 200
    assert first.get(LIST).status_code == 429
    assert second.get(LIST).status_code == 200


def test_the_count_starts_again_in_the_next_window(api, settings):
    settings.API_RATE_LIMIT_REQUESTS = 2
    settings.API_RATE_LIMIT_WINDOW_SECONDS = 60
    token_id = api.token_obj.pk
    now = 1_800_000_000.0  # on a window boundary
    assert rate_limit_hit(token_id=token_id, now=now).remaining == 1
    assert not rate_limit_hit(token_id=token_id, now=now + 30).exceeded
    late = rate_limit_hit(token_id=token_id, now=now + 59)
    assert late.exceeded and late.retry_after == 1
    assert rate_limit_hit(token_id=token_id, now=now + 60).consumed == 1


def test_without_redis_requests_are_served_uncounted(api, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.API_RATE_LIMIT_REQUESTS = 1
    for _ in range(3):
        response = api.get(LIST)
        assert response.status_code == 200
        assert response["X-RateLimit-Limit"] == "1"
        assert "X-RateLimit-Remaining" not in response


def test_limits_can_be_switched_off(api, settings):
    settings.API_RATE_LIMIT_ENABLED = False
    settings.API_RATE_LIMIT_REQUESTS = 1
    assert [api.get(LIST).status_code for _ in range(3)] == [200, 200, 200]
