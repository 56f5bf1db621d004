"""Metric rollups: written by the pipeline, equal to the raw outcomes, safe under concurrent
writers, read as series with percentiles (on SQLite, and on PostgreSQL by `make test`)."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection, transaction

from functions_ui.deploys import metrics
from functions_ui.deploys.models import Delivery, MetricBucket, RunStatus, SourceRun
from tests.deploys.helpers import (
    T0,
    drain_deliveries,
    make_destination,
    make_insert,
    make_source,
    run_source,
)

pytestmark = pytest.mark.django_db


def test_the_pipeline_writes_rollups_equal_to_the_raw_outcomes(workspace):
    function, source = make_source(workspace=workspace)
    dest_function, destination = make_destination(workspace=workspace, sources=[source])
    make_insert(workspace=workspace, destination=destination)
    for n in range(7):
        run_source(source, {"event": "Drop me" if n % 3 == 0 else "Order", "n": n})
    drain_deliveries(workspace.pk)
    raw = {
        status: Delivery.objects.filter(status=status).count()
        for status in (RunStatus.DELIVERED, RunStatus.FILTERED)
    }
    assert raw == {RunStatus.DELIVERED: 4, RunStatus.FILTERED: 3}
    [point] = metrics.series(
        function=dest_function,
        instance_id=destination.public_id,
        start=T0,
        end=T0 + timedelta(minutes=1),
        granularity="MINUTE",
    )
    assert (point["delivered"], point["filtered"], point["failed"]) == (4, 3, 0)
    assert point["duration_p50_ms"] is not None
    [source_point] = metrics.series(
        function=function, start=T0, end=T0 + timedelta(minutes=1), granularity="MINUTE"
    )
    assert source_point["delivered"] == SourceRun.objects.count() == 7


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_lose_no_count(workspace):
    function, source = make_source(workspace=workspace)
    writers, each = 4, 25

    def write() -> None:
        try:
            for _ in range(each):
                metrics.record(
                    [
                        metrics.Outcome(
                            function.pk, source.public_id, RunStatus.DELIVERED, 3.0, T0
                        ),
                        metrics.Outcome(function.pk, source.public_id, RunStatus.FAILED, 700.0, T0),
                    ]
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    bucket = MetricBucket.objects.get(span="m")
    assert (bucket.delivered, bucket.failed) == (writers * each, writers * each)
    hour = MetricBucket.objects.get(span="h")
    assert (hour.delivered, hour.failed, hour.d9) == (writers * each,) * 3
    assert bucket.d2 == writers * each  # 3 ms: the "up to 5 ms" bin
    assert bucket.d9 == writers * each  # 700 ms: the "up to 1 s" bin


@pytest.mark.django_db(transaction=True)
def test_drains_recording_many_instances_at_once_never_deadlock(workspace):
    """Each drain records its batch's outcomes (many instances' minute rows) in a transaction of
    its own, in whatever order its batch ran them: the rows are written in one order, so two
    drains never wait for each other's rows (PostgreSQL would end one as a deadlock, its batch
    unrecorded)."""
    function, _ = make_source(workspace=workspace)
    instances = [f"src_{n:02d}" for n in range(20)]
    writers, rounds = 4, 15
    failures: list[BaseException] = []

    def write(seed: int) -> None:
        shuffled = random.Random(seed)
        try:
            for _ in range(rounds):
                order = instances[:]
                shuffled.shuffle(order)
                with transaction.atomic():
                    metrics.record(
                        metrics.Outcome(function.pk, i, RunStatus.DELIVERED, 3.0, T0) for i in order
                    )
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    assert failures == []
    minutes = MetricBucket.objects.filter(span="m")
    assert sorted(minutes.values_list("instance_id", flat=True)) == instances
    assert {b.delivered for b in minutes} == {writers * rounds}


def test_series_fills_empty_buckets_and_reads_percentiles_from_the_histograms(workspace):
    function, source = make_source(workspace=workspace)
    outcomes = [
        metrics.Outcome(function.pk, source.public_id, RunStatus.DELIVERED, ms, T0)
        for ms in [0.5] * 90 + [40] * 9 + [3000]
    ]
    metrics.record(outcomes)
    points = metrics.series(
        function=function, start=T0, end=T0 + timedelta(hours=3), granularity="HOUR"
    )
    assert [p["time"] for p in points] == [T0 + timedelta(hours=h) for h in range(3)]
    assert [p["delivered"] for p in points] == [100, 0, 0]
    first = points[0]
    assert (first["duration_p50_ms"], first["duration_p95_ms"], first["duration_p99_ms"]) == (
        1.0,
        50.0,
        50.0,
    )
    assert points[1]["duration_p50_ms"] is None


def test_percentile_of_the_open_bin_is_past_the_last_bound():
    bins = [0] * metrics.BINS
    bins[-1] = 1
    assert metrics.percentile(bins, 0.5) == 20_000.0


def test_metrics_outlive_the_raw_runs_then_go_too(workspace, settings):
    from functions_ui.deploys.retention import delivery_records_trim

    settings.DELIVERY_RETENTION_DAYS, settings.METRICS_RETENTION_DAYS = 30, 90
    _, source = make_source(workspace=workspace)
    run_source(source, {"event": "Order"})
    delivery_records_trim(now=T0 + timedelta(days=31))
    assert not SourceRun.objects.exists()
    assert MetricBucket.objects.get(span="m").delivered == 1
    delivery_records_trim(now=T0 + timedelta(days=91))
    assert not MetricBucket.objects.exists()
