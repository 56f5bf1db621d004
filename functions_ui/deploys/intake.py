"""Webhook intake: a source instance's request is stored, then a worker is woken.

Accepted means durable: the request is in the database before the sender gets its answer, so
no restart of Redis, a worker or the web server loses it. Credentials among its headers are
kept encrypted, and only until the request's run is final.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Function
from catalog.secrets import encrypt_value
from functions_ui.deploys import doorbell, health
from functions_ui.deploys.claims import concrete_field
from functions_ui.deploys.models import HELD, Health, SourceInstance, WebhookRequest
from functions_ui.runtime.requests import CREDENTIAL_HEADERS


class HoldLimitReached(Exception):
    """The source is paused and holds as many requests as it may: nothing was stored."""


def webhook_accept(*, token: str, body: str, headers: dict[str, str], query: str) -> str | None:
    """Store one webhook request for the enabled source instance its token names.

    Returns the request id given out, or None when no enabled instance has that token. A paused
    source's request is stored held (health.py), or refused with HoldLimitReached when it holds
    HEALTH_HOLD_LIMIT already.
    """
    plain = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
    secret = {k: encrypt_value(v) for k, v in headers.items() if k.lower() in CREDENTIAL_HEADERS}
    request_id = uuid.uuid4().hex
    now = timezone.now()
    # One statement finds the instance and stores the request: every webhook pays for it, and
    # a lookup then an INSERT cost two round trips (and the ORM's save() twice the statement).
    # It commits by itself; the ring follows the commit (at once outside a transaction).
    stored = _insert_for_token(
        token,
        request_id=request_id,
        body=body,
        headers=plain,
        secret_headers=secret,
        query=query,
        attempts=0,
        received_at=now,
        available_at=now,
    )
    if stored is None:
        return None
    workspace_id, instance_id, claim = stored
    if claim == HELD:
        # The count includes the request just stored.
        if health.hold_room(instance_ids=[instance_id], model=SourceInstance)[instance_id] < 0:
            # Past the limit, the sender keeps the request and tries again later.
            WebhookRequest.objects.filter(request_id=request_id).delete()
            raise HoldLimitReached
        return request_id
    transaction.on_commit(lambda: doorbell.ring("sources", workspace_id))
    return request_id


def _insert_for_token(token: str, **values: Any) -> tuple[int, int, str] | None:
    """INSERT ... SELECT of a webhook request for the enabled instance with the token.

    The values are prepared by the model's own fields; a paused instance's request is stored
    held. Returns the workspace id, the instance's id and the claim, or None when no enabled
    instance has the token (and nothing was stored).
    """
    quote = connection.ops.quote_name
    fields = [concrete_field(WebhookRequest._meta.get_field(name)) for name in values]
    columns = ["instance_id", "workspace_id", "claim", *(f.column for f in fields)]
    sql = (
        f"INSERT INTO {quote(WebhookRequest._meta.db_table)} "
        f"({', '.join(quote(c) for c in columns)}) "
        f"SELECT s.{quote('id')}, f.{quote('workspace_id')}, "
        f"CASE WHEN s.{quote('health')} = %s THEN %s ELSE %s END, "
        f"{', '.join(['%s'] * len(fields))} "
        f"FROM {quote(SourceInstance._meta.db_table)} s "
        f"JOIN {quote(Function._meta.db_table)} f ON f.{quote('id')} = s.{quote('function_id')} "
        f"WHERE s.{quote('webhook_token')} = %s AND s.{quote('enabled')} = %s "
        f"RETURNING {quote('workspace_id')}, {quote('instance_id')}, {quote('claim')}"
    )
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [Health.PAUSED, HELD, "", *params, token, True])
        row = cursor.fetchone()
    return (row[0], row[1], row[2]) if row else None
