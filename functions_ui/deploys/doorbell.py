"""Doorbells: wake a worker to drain one workspace's queue of one pipeline stage.

The work itself waits in the database (webhook requests, deliveries); a Celery task is only a
wake-up carrying a workspace id. At most one wake-up per stage and workspace waits in the
broker at a time (a flag in Redis, cleared when the task starts), so a flood of one workspace
puts one task in the queue, not thousands, and the tasks of all workspaces take turns.

A lost wake-up (the broker was down, or restarted without its data) costs only time: the
periodic sweep rings again for every workspace that has due work.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading

import redis
from kombu.exceptions import KombuError

log = logging.getLogger(__name__)

STAGES = ("sources", "deliveries")
# A flag older than this no longer holds back a ring: its task may have been lost.
FLAG_SECONDS = 10
CONNECT_TIMEOUT_S = 1.0

_clients: dict[tuple[int, str], redis.Redis] = {}
_lock = threading.Lock()


def _broker_url() -> str:
    from functions_ui.celery import app

    return str(app.conf.broker_url)


def broker_redis() -> redis.Redis:
    """A client of the broker's Redis, one per process and broker URL."""
    key = (os.getpid(), _broker_url())
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = redis.Redis.from_url(
                key[1], socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=CONNECT_TIMEOUT_S
            )
            _clients[key] = client
        return client


def _flag(stage: str, workspace_id: int) -> str:
    return f"fnui:bell:{stage}:{workspace_id}"


def ring(stage: str, workspace_id: int) -> bool:
    """Make sure a drain task of the stage is on its way for the workspace.

    Returns False when the broker could not be reached; the work stays queued in the database
    and the sweep rings again later.
    """
    from functions_ui.deploys.tasks import DRAIN_TASKS

    flag = _flag(stage, workspace_id)
    try:
        client = broker_redis()
        if not client.set(flag, "1", nx=True, ex=FLAG_SECONDS):
            return True
        try:
            DRAIN_TASKS[stage].apply_async(args=(workspace_id,), retry=False)
        except BaseException:
            client.delete(flag)
            raise
    except (redis.RedisError, KombuError, OSError) as error:
        log.warning("could not ring %s for workspace %s: %s", stage, workspace_id, error)
        return False
    return True


def answered(stage: str, workspace_id: int) -> None:
    """A drain task started: rows stored from now on need a new ring."""
    with contextlib.suppress(redis.RedisError, OSError):
        broker_redis().delete(_flag(stage, workspace_id))
