"""Catalog page speed and query count in a workspace of 10,000 functions."""

from __future__ import annotations

import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from catalog.kinds import kind_of
from catalog.models import Function, ResourceType, new_catalog_id
from functions_ui.bench.rows import BenchRow
from functions_ui.permissions.models import Role
from functions_ui.workspaces.models import Workspace
from functions_ui.workspaces.services import membership_grant

FUNCTION_COUNT = 10_000
RUNS = 30
TYPES = list(ResourceType)


def _seed() -> tuple[Workspace, Client]:
    from django.contrib.auth import get_user_model

    workspace = Workspace.objects.create(slug="bench", name="Bench")
    user = get_user_model().objects.create_user(username="bench-admin", password="x")
    membership_grant(workspace=workspace, user=user, roles=[Role.FUNCTIONS_ADMIN])
    Function.objects.bulk_create(
        [
            Function(
                workspace=workspace,
                public_id=kind_of(TYPES[n % 3]).id_prefix + new_catalog_id(),
                resource_type=TYPES[n % 3],
                display_name=f"Function {n:05d}",
                description="A benchmark function that forwards events somewhere useful.",
                code="async function onTrack(event) {\n  return event;\n}\n" * 20,
                created_by=user,
                updated_by=user,
            )
            for n in range(FUNCTION_COUNT)
        ],
        batch_size=1000,
    )
    client = Client()
    client.force_login(user)
    return workspace, client


def _measure(client: Client, url: str) -> tuple[float, int]:
    client.get(url)  # warm caches and template loading
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(timings), len(queries)


@override_settings(DEBUG=False)
def run() -> list[BenchRow]:
    workspace, client = _seed()
    url = reverse("catalog:function_list", kwargs={"workspace_slug": workspace.slug})
    cases = {
        "first page": url,
        "page 200": url + "?page=200",
        "Destination tab": url + "?type=destination",
        "search 'Function 09'": url + "?q=Function+09",
    }
    rows: list[BenchRow] = []
    query_counts = []
    for label, case_url in cases.items():
        median_ms, queries = _measure(client, case_url)
        query_counts.append(queries)
        rows.append(
            BenchRow(
                "catalog (10k functions)",
                f"{label}: p50 server time",
                median_ms,
                "ms",
                "<= 100 ms",
                median_ms <= 100,
            )
        )
    rows.append(
        BenchRow(
            "catalog (10k functions)",
            "queries per page (same on every page)",
            max(query_counts),
            "queries",
            "constant",
            len(set(query_counts[:2])) == 1,
        )
    )
    Function.objects.filter(workspace=workspace).delete()
    return rows
