"""Metrics of deployed functions: per-minute rollups the pipeline writes, and the reads that
charts and the API make of them.

Each recorded batch adds its outcomes to one row per instance and minute with a single upsert
(`INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`), so concurrent workers never lose
a count and the cost per event is a fraction of a statement. Reads sum the minute rows of a
range into minutes, hours or days; run-duration percentiles come from the summed histograms
(each the upper bound of the bin the percentile falls in).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncDay, TruncHour, TruncMinute

from catalog.models import Function
from functions_ui.deploys.models import DURATION_BOUNDS_MS, OUTCOMES, MetricBucket, RunStatus

BINS = len(DURATION_BOUNDS_MS) + 1
BIN_COLUMNS = tuple(f"d{i}" for i in range(BINS))
GRANULARITIES = {
    "MINUTE": timedelta(minutes=1),
    "HOUR": timedelta(hours=1),
    "DAY": timedelta(days=1),
}
_TRUNC = {"MINUTE": TruncMinute, "HOUR": TruncHour, "DAY": TruncDay}
# A run's status, as the metrics count it (queued and running are not outcomes).
OUTCOME_OF = {
    RunStatus.DELIVERED: "delivered",
    RunStatus.FILTERED: "filtered",
    RunStatus.UNSUPPORTED: "unsupported",
    RunStatus.REJECTED: "rejected",
    RunStatus.RETRYING: "retrying",
    RunStatus.FAILED: "failed",
}


@dataclass(frozen=True)
class Outcome:
    function_id: int
    instance_id: str  # public id
    status: str
    duration_ms: float
    at: datetime


def _bin(duration_ms: float) -> int:
    for index, bound in enumerate(DURATION_BOUNDS_MS):
        if duration_ms <= bound:
            return index
    return len(DURATION_BOUNDS_MS)


def record(outcomes: Iterable[Outcome]) -> None:
    """Add runs' outcomes to their instances' minute rows (one statement for the batch, its rows
    in the order of their key)."""
    rows: dict[tuple[str, str, datetime], list[Any]] = {}
    for outcome in outcomes:
        column = OUTCOME_OF.get(RunStatus(outcome.status)) if outcome.status else None
        if column is None:
            continue
        minute = outcome.at.replace(second=0, microsecond=0)
        for span, start in (("m", minute), ("h", minute.replace(minute=0))):
            row = rows.setdefault(
                (outcome.instance_id, span, start),
                [outcome.function_id, outcome.instance_id, span, start]
                + [0] * (len(OUTCOMES) + BINS),
            )
            row[4 + OUTCOMES.index(column)] += 1
            row[4 + len(OUTCOMES) + _bin(outcome.duration_ms)] += 1
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(MetricBucket._meta.db_table)
    counted = [*OUTCOMES, *BIN_COLUMNS]
    columns = ["function_id", "instance_id", "span", "minute", *counted]
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({quote('instance_id')}, {quote('span')}, {quote('minute')}) DO UPDATE SET "
        + ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in counted)
    )
    minute_field = MetricBucket._meta.get_field("minute")
    # In the order of their key: drains recording at the same time lock shared rows (an
    # instance's minute) one after the other, never each waiting for the other's (a deadlock).
    params = [
        [row[0], row[1], row[2], minute_field.get_db_prep_save(row[3], connection), *row[4:]]
        for _, row in sorted(rows.items())
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def percentile(bins: list[int], fraction: float) -> float | None:
    """The upper bound (ms) of the bin holding the `fraction` quantile; None with no runs."""
    total = sum(bins)
    if not total:
        return None
    wanted = fraction * total
    seen = 0
    for index, count in enumerate(bins):
        seen += count
        if seen >= wanted:
            if index < len(DURATION_BOUNDS_MS):
                return float(DURATION_BOUNDS_MS[index])
            return float(DURATION_BOUNDS_MS[-1] * 2)
    return None


def series(
    *,
    function: Function,
    instance_id: str | None = None,
    start: datetime,
    end: datetime,
    granularity: str,
) -> list[dict[str, Any]]:
    """One point per bucket of the range (empty buckets included, with zeros), oldest first."""
    step = GRANULARITIES[granularity]
    # Minute charts read minute rows; hour and day charts read the hour rows.
    span = "m" if granularity == "MINUTE" else "h"
    start = _floor(start, "MINUTE" if span == "m" else "HOUR")
    buckets = MetricBucket.objects.filter(
        function=function, span=span, minute__gte=start, minute__lt=end
    )
    if instance_id is not None:
        buckets = buckets.filter(instance_id=instance_id)
    sums = (
        buckets.annotate(at=_TRUNC[granularity]("minute", tzinfo=UTC))
        .values("at")
        .annotate(**{c: Sum(c) for c in (*OUTCOMES, *BIN_COLUMNS)})
        .order_by("at")
    )
    found: dict[datetime, dict[str, Any]] = {row["at"]: row for row in sums}
    points = []
    at = _floor(start, granularity)
    while at < end:
        row = found.get(at, defaultdict(int))
        bins = [row[c] or 0 for c in BIN_COLUMNS]
        points.append(
            {
                "time": at,
                **{c: row[c] or 0 for c in OUTCOMES},
                "duration_p50_ms": percentile(bins, 0.50),
                "duration_p95_ms": percentile(bins, 0.95),
                "duration_p99_ms": percentile(bins, 0.99),
            }
        )
        at += step
    return points


def _floor(moment: datetime, granularity: str) -> datetime:
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    if granularity in ("HOUR", "DAY"):
        moment = moment.replace(minute=0)
    if granularity == "DAY":
        moment = moment.replace(hour=0)
    return moment


@dataclass(frozen=True)
class Activity:
    """A function's last day for the catalog: events per hour, and errors."""

    hourly: list[int]
    errors: int

    @property
    def total(self) -> int:
        return sum(self.hourly)

    @property
    def sparkline(self) -> str:
        """The SVG polyline points of the hourly counts in a 96 × 24 box (0,0 at the top)."""
        top = max(self.hourly) or 1
        step = 96 / max(len(self.hourly) - 1, 1)
        return " ".join(
            f"{index * step:.1f},{24 - count / top * 22 - 1:.1f}"
            for index, count in enumerate(self.hourly)
        )


def activity(*, function_ids: list[int], now: datetime, hours: int = 24) -> dict[int, Activity]:
    """The last `hours` of each function (all its instances), from the hour rollups: one query."""
    rows = MetricBucket.objects.filter(function_id__in=function_ids)
    return _hourly(rows, "function_id", now, hours)  # type: ignore[return-value]


def instance_activity(
    *, instance_ids: list[str], now: datetime, hours: int = 24
) -> dict[str, Activity]:
    """The same, per instance (by public id): the deploys page's sparklines."""
    rows = MetricBucket.objects.filter(instance_id__in=instance_ids)
    return _hourly(rows, "instance_id", now, hours)  # type: ignore[return-value]


def _hourly(
    rows: QuerySet[MetricBucket], key: str, now: datetime, hours: int
) -> dict[int | str, Activity]:
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=hours)
    sums = (
        rows.filter(span="h", minute__gte=start, minute__lt=end)
        .values(key, "minute")
        .annotate(**{c: Sum(c) for c in OUTCOMES})
    )
    hourly: dict[int | str, list[int]] = defaultdict(lambda: [0] * hours)
    errors: dict[int | str, int] = defaultdict(int)
    for row in sums:
        index = int((row["minute"] - start) / timedelta(hours=1))
        hourly[row[key]][index] += sum(row[c] for c in OUTCOMES if c != "retrying")
        errors[row[key]] += row["failed"] + row["rejected"]
    return {pk: Activity(counts, errors[pk]) for pk, counts in hourly.items()}


def totals(
    *, instance_ids: list[str], start: datetime, end: datetime, span: str = "m"
) -> dict[str, dict[str, int]]:
    """Each instance's outcome counts over a range (one query): for the flow picture."""
    rows = (
        MetricBucket.objects.filter(
            instance_id__in=instance_ids, span=span, minute__gte=start, minute__lt=end
        )
        .values("instance_id")
        .annotate(**{c: Sum(c) for c in OUTCOMES})
    )
    found = {row["instance_id"]: {c: row[c] or 0 for c in OUTCOMES} for row in rows}
    return {pk: found.get(pk, dict.fromkeys(OUTCOMES, 0)) for pk in instance_ids}


# A chart stays readable with up to this many buckets (3 hours by the minute, 8 days by the hour).
CHART_POINTS = 200


def granularity_for(span: timedelta) -> str:
    """The finest bucket that draws a range in at most CHART_POINTS points."""
    for name in ("MINUTE", "HOUR", "DAY"):
        if span / GRANULARITIES[name] <= CHART_POINTS:
            return name
    return "DAY"
