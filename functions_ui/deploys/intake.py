"""Webhook intake: a source instance's request is stored, then a worker is woken.

Accepted means durable: the request is in the database before the sender gets its answer, so
no restart of Redis, a worker or the web server loses it. Credentials among its headers are
kept encrypted, and only until the request's run is final.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from catalog.models import Function
from catalog.secrets import encrypt_value
from functions_ui.deploys import doorbell
from functions_ui.deploys.models import SourceInstance, WebhookRequest

# Headers that carry the sender's credentials: the function may need them (to check who is
# calling), so they are kept, but never in clear.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-access-token",
    }
)


def webhook_accept(
    *, instance_id: int, workspace_id: int, body: str, headers: dict[str, str], query: str
) -> str:
    """Store one webhook request for its source instance; returns the request id given out."""
    plain = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
    secret = {k: encrypt_value(v) for k, v in headers.items() if k.lower() in CREDENTIAL_HEADERS}
    request_id = uuid.uuid4().hex
    now = timezone.now()
    # One INSERT commits by itself; the ring follows the commit (at once outside a transaction).
    _insert(
        WebhookRequest,
        instance=instance_id,
        workspace=workspace_id,
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
    transaction.on_commit(lambda: doorbell.ring("sources", workspace_id))
    return request_id


def _insert(model: type[Model], **values: Any) -> None:
    """One plain INSERT of the given fields (values prepared by the fields themselves).

    Every webhook pays for it: the ORM's save() path cost twice the statement itself.
    """
    fields = [model._meta.get_field(name) for name in values]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def webhook_target(token: str) -> tuple[int, int] | None:
    """The enabled source instance a webhook token belongs to: (instance id, workspace id).

    Every webhook asks this, so it is one plain indexed query rather than an ORM one (whose
    compilation cost more than the query).
    """
    instance = SourceInstance._meta
    function = Function._meta
    quote = connection.ops.quote_name
    sql = (
        f"SELECT s.{quote('id')}, f.{quote('workspace_id')} FROM {quote(instance.db_table)} s "
        f"JOIN {quote(function.db_table)} f ON f.{quote('id')} = s.{quote('function_id')} "
        f"WHERE s.{quote('webhook_token')} = %s AND s.{quote('enabled')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [token, True])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None
