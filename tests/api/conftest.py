"""API fixtures: a real Redis for the rate limiter, and clients holding a member's token."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from django.test import Client

from functions_ui.api.services import api_token_create
from functions_ui.permissions.models import Role
from tests.factories import make_member


@pytest.fixture(autouse=True)
def _api_redis(settings, redis_server):
    """Every API test counts requests in the session's real Redis, emptied first."""
    settings.REDIS_URL = redis_server.url
    redis.Redis.from_url(redis_server.url).flushdb()


class ApiClient:
    """Django's test client sending a bearer token and JSON, under /api/v1."""

    def __init__(self, token: str | None, user=None, token_obj=None) -> None:
        self.client = Client()
        self.token = token
        self.user = user
        self.token_obj = token_obj

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        raw: bytes | str | None = None,
        **headers: str,
    ):
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(
            method,
            "/api/v1" + path,
            data=data,
            content_type=content_type,
            headers=headers,
        )

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api_as(workspace):
    """An ApiClient with a token of a new member of `workspace` holding `role`."""

    def make(role: str | None = Role.WORKSPACE_OWNER, *, workspace_=None, **kwargs) -> ApiClient:
        space = workspace_ or workspace
        user = make_member(workspace=space, role=role, **kwargs)
        token, raw = api_token_create(workspace=space, user=user, description="tests")
        return ApiClient(raw, user=user, token_obj=token)

    return make


@pytest.fixture
def api(api_as) -> ApiClient:
    """A Workspace Owner's client."""
    return api_as(Role.WORKSPACE_OWNER)
