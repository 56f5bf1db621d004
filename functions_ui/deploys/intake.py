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
from functions_ui.deploys import doorbell
from functions_ui.deploys.claims import concrete_field
from functions_ui.deploys.models import SourceInstance, WebhookRequest
from functions_ui.runtime.requests import CREDENTIAL_HEADERS


def webhook_accept(*, token: str, body: str, headers: dict[str, str], query: str) -> str | None:
    """Store one webhook request for the enabled source instance its token names.

    Returns the request id given out, or None when no enabled instance has that token.
    """
    plain = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
    secret = {k: encrypt_value(v) for k, v in headers.items() if k.lower() in CREDENTIAL_HEADERS}
    request_id = uuid.uuid4().hex
    now = timezone.now()
    # One statement finds the instance and stores the request: every webhook pays for it, and
    # a lookup then an INSERT cost two round trips (and the ORM's save() twice the statement).
    # It commits by itself; the ring follows the commit (at once outside a transaction).
    workspace_id = _insert_for_token(
        token,
        request_id=request_id,
        body=body,
        headers=plain,
        secret_headers=secret,
        query=query,
        attempts=0,
        received_at=now,
        available_at=now,
        claim="",
    )
    if workspace_id is None:
        return None
    transaction.on_commit(lambda: doorbell.ring("sources", workspace_id))
    return request_id


def _insert_for_token(token: str, **values: Any) -> int | None:
    """INSERT ... SELECT of a webhook request for the enabled instance with the token.

    The values are prepared by the model's own fields; returns the workspace id, or None when
    no enabled instance has the token (and nothing was stored).
    """
    quote = connection.ops.quote_name
    fields = [concrete_field(WebhookRequest._meta.get_field(name)) for name in values]
    columns = ["instance_id", "workspace_id", *(f.column for f in fields)]
    sql = (
        f"INSERT INTO {quote(WebhookRequest._meta.db_table)} "
        f"({', '.join(quote(c) for c in columns)}) "
        f"SELECT s.{quote('id')}, f.{quote('workspace_id')}, {', '.join(['%s'] * len(fields))} "
        f"FROM {quote(SourceInstance._meta.db_table)} s "
        f"JOIN {quote(Function._meta.db_table)} f ON f.{quote('id')} = s.{quote('function_id')} "
        f"WHERE s.{quote('webhook_token')} = %s AND s.{quote('enabled')} = %s "
        f"RETURNING {quote('workspace_id')}"
    )
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, token, True])
        row = cursor.fetchone()
    return row[0] if row else None
