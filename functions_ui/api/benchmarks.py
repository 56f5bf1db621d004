"""`GET /functions` speed in a workspace of 10,000 functions, walked in pages of 100."""

from __future__ import annotations

import statistics
import time
from contextlib import ExitStack

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from catalog.kinds import kind_of
from catalog.models import Function, ResourceType, new_catalog_id
from functions_ui.api.services import api_token_create
from functions_ui.bench.rows import BenchRow
from functions_ui.permissions.models import Role
from functions_ui.workspaces.models import Workspace
from functions_ui.workspaces.services import membership_grant

FUNCTION_COUNT = 10_000
PAGE_SIZE = 100
WALKS = 3
AREA = "api (10k functions)"


def _seed() -> tuple[Workspace, str]:
    from django.contrib.auth import get_user_model

    workspace = Workspace.objects.create(slug="api-bench", name="API bench")
    user = get_user_model().objects.create_user(username="api-bench", password="x")
    membership_grant(workspace=workspace, user=user, roles=[Role.FUNCTIONS_ADMIN])
    Function.objects.bulk_create(
        [
            Function(
                workspace=workspace,
                public_id=kind_of(ResourceType.SOURCE).id_prefix + new_catalog_id(),
                resource_type=ResourceType.SOURCE,
                display_name=f"API function {n:05d}",
                description="A benchmark function that receives webhooks.",
                code="async function onRequest(request, settings) {}\n" * 20,
                created_by=user,
                updated_by=user,
            )
            for n in range(FUNCTION_COUNT)
        ],
        batch_size=1000,
    )
    _, raw = api_token_create(workspace=workspace, user=user, description="bench")
    return workspace, raw


def _walk(client: Client, headers: dict[str, str]) -> tuple[list[float], list[int], list[str]]:
    """Every page once: server times (ms), queries per page, and the ids seen."""
    timings, queries, ids = [], [], []
    cursor = None
    while True:
        url = f"/api/v1/functions?resourceType=SOURCE&pagination.count={PAGE_SIZE}"
        if cursor:
            url += f"&pagination.cursor={cursor}"
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:200]
        queries.append(len(captured))
        data = response.json()["data"]
        ids += [item["id"] for item in data["functions"]]
        cursor = data["pagination"]["next"]
        if cursor is None:
            return timings, queries, ids


def run() -> list[BenchRow]:
    from functions_ui.devserver.redis_server import RedisServer, RedisUnavailable

    with ExitStack() as stack:
        overrides = {"DEBUG": False, "API_RATE_LIMIT_REQUESTS": 1_000_000}
        try:
            # The real limiter, counting in a throwaway Redis, is part of the figure.
            redis_server = stack.enter_context(RedisServer())
            overrides["REDIS_URL"] = redis_server.url
        except RedisUnavailable:
            overrides["API_RATE_LIMIT_ENABLED"] = False
        stack.enter_context(override_settings(**overrides))
        return _measure(limited=settings.API_RATE_LIMIT_ENABLED)


def _measure(*, limited: bool) -> list[BenchRow]:
    workspace, raw = _seed()
    client = Client()
    headers = {"Authorization": f"Bearer {raw}"}
    _walk(client, headers)  # warm up
    timings: list[float] = []
    queries: list[int] = []
    complete = True
    for _ in range(WALKS):
        walk_timings, walk_queries, ids = _walk(client, headers)
        timings += walk_timings
        queries += walk_queries
        complete = complete and len(ids) == FUNCTION_COUNT == len(set(ids))
    median_ms = statistics.median(timings)
    p95_ms = statistics.quantiles(timings, n=20)[-1]
    Function.objects.filter(workspace=workspace).delete()
    suffix = "" if limited else " (rate limiter off: no Redis)"
    return [
        BenchRow(
            AREA,
            f"GET /functions, pages of {PAGE_SIZE}: p50 server time{suffix}",
            median_ms,
            "ms",
            "<= 30 ms",
            median_ms <= 30,
        ),
        BenchRow(AREA, f"GET /functions, pages of {PAGE_SIZE}: p95 server time", p95_ms, "ms"),
        BenchRow(
            AREA,
            "queries per page (same on every page)",
            max(queries),
            "queries",
            "constant",
            len(set(queries)) == 1,
        ),
        BenchRow(
            AREA,
            "walk of every page: each function exactly once",
            FUNCTION_COUNT if complete else 0,
            "functions",
            "10,000 once",
            complete,
        ),
    ]
