"""Claiming queued rows in batches: a claim key and a lease, safe with many workers.

On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets workers claim different rows at the same time; on
SQLite, writes are serialized (immediate transactions), which has the same effect. A worker that
dies leaves its rows claimed until the lease runs out; the sweep then puts them back. A worker
that is still busy renews its lease.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field, Model, QuerySet


def relaxed_commit() -> None:
    """Within a transaction: on PostgreSQL, let its commit return before the WAL is on disk.

    Only for the pipeline's own bookkeeping (claims, outcomes), never for accepting a webhook:
    a commit lost to a database crash just means the work is claimed or done again, which the
    at-least-once guarantee already covers, and the saved fsync is most of a commit's latency.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def lease_end(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.PIPELINE_LEASE_SECONDS)


def claim(
    queryset: QuerySet, *, limit: int, now: datetime, **changes: Any
) -> tuple[str, list[int]]:
    """Claim up to `limit` rows of the queryset (oldest first): their ids, and the claim key."""
    key, claimed = claim_each(queryset, "pk", [None], each=limit, now=now, **changes)
    return key, claimed.get(None, [])


def claim_each(
    queryset: QuerySet, field: str, values: Sequence[Any], *, each: int, now: datetime, **changes
) -> tuple[str, dict[Any, list[int]]]:
    """Claim up to `each` rows (oldest first) of the queryset for every value of `field` (say,
    each workspace of a drain's): one claim key for them all, and the ids claimed by value.

    A value of None stands for the whole queryset. The rows of each value are locked apart, so
    that one value's backlog never takes the others' share of a batch.
    """
    key = uuid.uuid4().hex
    values = list(values)
    scoped = queryset if values == [None] else queryset.filter(**{f"{field}__in": values})
    # Every drain ends by finding its queue empty, twice (the second look covers a row stored
    # just before its doorbell was cleared), most of them after a batch of an event or two when
    # many workspaces share the workers: a plain read says "nothing" in one statement, where a
    # claim's transaction takes four round trips to the database.
    if not scoped.exists():
        return key, {}
    claimed: dict[Any, list[int]] = {}
    with transaction.atomic():
        relaxed_commit()
        if connection.vendor == "postgresql" and values != [None]:
            return key, _claim_each_at_once(queryset, field, values, each, key, now, changes)
        for value in values:
            rows = queryset if value is None else queryset.filter(**{field: value})
            ids = list(
                rows.select_for_update(skip_locked=True)
                .order_by("available_at", "id")
                .values_list("pk", flat=True)[:each]
            )
            if ids:
                claimed[value] = ids
        if claimed:
            queryset.model.objects.filter(
                pk__in=[pk for ids in claimed.values() for pk in ids]
            ).update(claim=key, lease_until=lease_end(now), **changes)
    return key, claimed


# A value no row holds: it marks, in the compiled SQL of one value's rows, where the value goes.
_SENTINEL = -7_391_204_581


def _claim_each_at_once(
    queryset: QuerySet,
    field: str,
    values: list[Any],
    each: int,
    key: str,
    now: datetime,
    changes: dict[str, Any],
) -> dict[Any, list[int]]:
    """On PostgreSQL, within the claim's transaction: the whole claim in one statement. Each
    value's oldest rows are locked by a LATERAL subquery (using the queryset's index for one
    value), and the UPDATE that claims them returns them, where a loop would take a statement
    per value and one more to claim."""
    one = (
        queryset.filter(**{field: _SENTINEL})
        .select_for_update(skip_locked=True)
        .order_by("available_at", "id")
        .values_list("pk", field)[:each]
    )
    inner, params = one.query.sql_with_params()
    pieces = inner.split("%s")
    at = [n for n, param in enumerate(params) if param == _SENTINEL]
    assert len(at) == 1 and len(pieces) == len(params) + 1, inner
    inner = "".join(
        piece + ("" if n == len(params) else "w.v" if n == at[0] else "%s")
        for n, piece in enumerate(pieces)
    )
    rest = [param for n, param in enumerate(params) if n != at[0]]
    meta = queryset.model._meta
    quote = connection.ops.quote_name
    sets = {"claim": key, "lease_until": lease_end(now), **changes}
    columns = [concrete_field(meta.get_field(name)) for name in sets]
    pk_column = quote(concrete_field(meta.pk).column)
    group_column = quote(concrete_field(meta.get_field(field)).column)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "
        + ", ".join(f"{quote(c.column)} = %s" for c in columns)
        + f" WHERE {pk_column} IN (SELECT l.pk FROM unnest(%s) AS w(v)"
        + f" CROSS JOIN LATERAL ({inner}) AS l(pk, grp))"
        + f" RETURNING {pk_column}, {group_column}"
    )
    prepared = zip(columns, sets.values(), strict=True)
    values_of = [column.get_db_prep_save(value, connection) for column, value in prepared]
    claimed: dict[Any, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values_of, list(values), *rest])
        for pk, value in cursor.fetchall():
            claimed.setdefault(value, []).append(pk)
    for ids in claimed.values():
        ids.sort()
    return claimed


def still_claimed(model: type[Model], key: str, ids: list[int]) -> set[int]:
    """Within a transaction: which of the rows this claim still holds (locked until commit)."""
    return set(
        model._default_manager.select_for_update()
        .filter(pk__in=ids, claim=key)
        .values_list("pk", flat=True)
    )


def renew(model: type[Model], key: str, now: datetime) -> None:
    """Keep a long batch's rows from being taken over while its worker is alive."""
    model._default_manager.filter(claim=key).update(lease_until=lease_end(now))


class Lease:
    """A working batch's claims, renewed once a third of their lease has passed: call `keep`
    whenever the batch can (between runtime round trips, after writing outcomes)."""

    def __init__(self, model: type[Model], key: str, clock: Callable[[], datetime]) -> None:
        self.model = model
        self.key = key
        self.clock = clock
        self.renewed = time.monotonic()

    def keep(self) -> None:
        if time.monotonic() - self.renewed > settings.PIPELINE_LEASE_SECONDS / 3:
            renew(self.model, self.key, self.clock())
            self.renewed = time.monotonic()


def update_claimed(
    model: type[Model], key: str, rows: Sequence[Model], fields: tuple[str, ...]
) -> None:
    """Write each row's fields where the claim still holds it: one statement run for every row.

    Django's bulk_update builds a CASE expression per field and row, which cost more than the
    functions' runs themselves; a parameterized UPDATE executed for many rows costs little.
    """
    if not rows:
        return
    meta = model._meta
    columns = [concrete_field(meta.get_field(name)) for name in fields]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "
        + ", ".join(f"{quote(c.column)} = %s" for c in columns)
        + f" WHERE {quote(concrete_field(meta.pk).column)} = %s AND {quote('claim')} = %s"
    )
    params = [
        [c.get_db_prep_save(getattr(row, c.attname), connection) for c in columns] + [row.pk, key]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def concrete_field(field: object) -> Field:
    """A model's own column (never a relation's reverse side)."""
    assert isinstance(field, Field), field
    return field
