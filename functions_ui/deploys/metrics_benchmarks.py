"""Watching deployed functions at scale: metric charts over a million events, the cost of
writing the rollups, and the request debugger's list over 100,000 requests.

Runs in the bench's own database (SQLite unless DATABASE_URL names another).
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import ResourceType
from catalog.services import function_create
from functions_ui.bench.rows import BenchRow
from functions_ui.deploys import health, instances, metrics, selectors
from functions_ui.deploys.models import (
    Health,
    MetricBucket,
    RunStatus,
    SourceInstance,
    SourceRun,
    new_instance_id,
)
from functions_ui.workspaces.models import Workspace

AREA = "watching"
EVENTS_PER_MINUTE = 100  # 7 days of minutes: about 1,000,000 events in the range
REQUESTS = 100_000
RUNS = 20
WATCHED_INSTANCES = 1_000
# The pipeline's machine CPU per event on PostgreSQL, as `make bench` measures it (7-9 ms).
PIPELINE_CPU_MS_PER_EVENT = 7.0


def run() -> list[BenchRow]:
    workspace = Workspace.objects.create(slug="bench-watch", name="Bench watching")
    function = function_create(
        workspace=workspace,
        user=None,
        resource_type=ResourceType.SOURCE,
        display_name="Watched source",
        code="async function onRequest(request) { Segment.track({ event: 'x', userId: 'u' }) }",
    )
    instance = instances.source_instance_create(
        function=function, user=None, name="Watched", raw_settings={}
    )
    return [
        *_chart_reads(function, instance.public_id),
        _rollup_writes(function, instance.public_id),
        *_request_list(instance),
        _health_check(function),
    ]


def _chart_reads(function, instance_id: str) -> list[BenchRow]:
    end = timezone.now().replace(second=0, microsecond=0)
    start = end - timedelta(days=7)
    rows = []
    minute = start
    while minute < end:
        # As metrics.record writes them: a row per minute, and the same runs in the hour's row.
        for span, start_at, times in (("m", minute, 1), ("h", minute.replace(minute=0), 60)):
            if span == "h" and minute.minute:
                continue
            rows.append(
                MetricBucket(
                    function=function,
                    instance_id=instance_id,
                    span=span,
                    minute=start_at,
                    delivered=(EVENTS_PER_MINUTE - 1) * times,
                    failed=times,
                    d3=(EVENTS_PER_MINUTE - 2) * times,
                    d8=2 * times,
                )
            )
        minute += timedelta(minutes=1)
    MetricBucket.objects.bulk_create(rows, batch_size=2000)
    events = sum(1 for row in rows if row.span == "m") * EVENTS_PER_MINUTE

    def read(days: int) -> tuple[float, int, int]:
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            series = metrics.series(
                function=function,
                instance_id=instance_id,
                start=end - timedelta(days=days),
                end=end,
                granularity="HOUR",
            )
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            metrics.series(
                function=function,
                instance_id=instance_id,
                start=end - timedelta(days=days),
                end=end,
                granularity="HOUR",
            )
        assert sum(p["delivered"] + p["failed"] for p in series) > 0
        return statistics.median(timings), len(queries), len(series)

    week, week_queries, points = read(7)
    _, day_queries, _ = read(1)
    return [
        BenchRow(
            AREA,
            f"metrics of one instance, 7 days by hour ({events:,} events, {points} points), p50",
            week,
            "ms",
            "<= 50",
            week <= 50,
        ),
        BenchRow(
            AREA,
            "metrics queries: 7 days / 1 day (constant)",
            week_queries,
            f"queries ({day_queries} for a day)",
            "same",
            week_queries == day_queries,
        ),
    ]


def _rollup_writes(function, instance_id: str) -> BenchRow:
    """What recording a 50-event batch's outcomes costs, per event, against the pipeline's CPU."""
    now = timezone.now()
    batches, size = 400, 50
    outcomes = [
        metrics.Outcome(function.pk, instance_id, RunStatus.DELIVERED, 3.0, now)
        for _ in range(size)
    ]
    started = time.process_time()
    for _ in range(batches):
        metrics.record(outcomes)
    per_event_ms = (time.process_time() - started) * 1000 / (batches * size)
    share = per_event_ms / PIPELINE_CPU_MS_PER_EVENT * 100
    return BenchRow(
        AREA,
        f"rollup writing: {per_event_ms * 1000:.1f} µs CPU per event, share of the pipeline's "
        f"~{PIPELINE_CPU_MS_PER_EVENT:.0f} ms",
        share,
        "%",
        "<= 5",
        share <= 5,
    )


def _request_list(instance) -> list[BenchRow]:
    received = timezone.now() - timedelta(days=1)
    SourceRun.objects.bulk_create(
        [
            SourceRun(
                instance=instance,
                request_id=f"{n:032x}",
                status=RunStatus.DELIVERED if n % 10 else RunStatus.FAILED,
                event_count=1,
                body='{"event": "Order Placed", "userId": "u1"}',
                headers={"Content-Type": "application/json"},
                duration_ms=3.0,
                received_at=received,
            )
            for n in range(REQUESTS)
        ],
        batch_size=2000,
    )

    def page(search: str = "", status: str = "") -> float:
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            found = selectors.request_list(instance=instance, search=search, status=status)
            timings.append((time.perf_counter() - started) * 1000)
        assert found
        return statistics.median(timings)

    newest, failed, searched = (
        page(),
        page(status="errors"),
        page(search="0000000000000000000000000001"),
    )
    return [
        BenchRow(
            AREA,
            f"request debugger, newest 50 of {REQUESTS:,} requests, p50",
            newest,
            "ms",
            "<= 50",
            newest <= 50,
        ),
        BenchRow(
            AREA, "request debugger, failed ones only, p50", failed, "ms", "<= 50", failed <= 50
        ),
        BenchRow(
            AREA,
            "request debugger, found by requestId prefix, p50",
            searched,
            "ms",
            "<= 50",
            searched <= 50,
        ),
    ]


def _health_check(function) -> BenchRow:
    """One health check (each sweep runs one) over many instances that ran in the window."""
    created = SourceInstance.objects.bulk_create(
        [
            SourceInstance(
                function=function, public_id=new_instance_id("src_"), name=f"Watched {n}"
            )
            for n in range(WATCHED_INSTANCES)
        ]
    )
    now = timezone.now().replace(second=0, microsecond=0)
    MetricBucket.objects.bulk_create(
        [
            MetricBucket(
                function=function,
                instance_id=instance.public_id,
                minute=now - timedelta(minutes=back),
                delivered=99,
                failed=1,
            )
            for instance in created
            for back in range(5)
        ],
        batch_size=2000,
    )
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        changed = health.health_evaluate(now=now)
        timings.append((time.perf_counter() - started) * 1000)
    assert not changed[Health.DEGRADED] and not changed[Health.PAUSED]
    took = statistics.median(timings)
    return BenchRow(
        AREA,
        f"health check of {WATCHED_INSTANCES:,} instances that ran in the window, p50",
        took,
        "ms",
        "<= 500",
        took <= 500,
    )
