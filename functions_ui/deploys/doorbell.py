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
import time
from collections.abc import Callable

import redis
from kombu.exceptions import KombuError

log = logging.getLogger(__name__)

STAGES = ("sources", "deliveries")
# A flag older than this no longer holds back a ring: its task may have been lost.
FLAG_SECONDS = 10
HELPER_SECONDS = 2
# How long one drain task keeps its workspace before handing it to the back of the queue.
DRAIN_SECONDS = 1.0
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


def ring(stage: str, workspace_id: int, *, force: bool = False) -> bool:
    """Make sure a drain task of the stage is on its way for the workspace.

    With force, a task is sent even though the flag says one is on its way (a drain handing
    over its workspace to the back of the queue). Returns False when the broker could not be
    reached; the work stays queued in the database and the sweep rings again later.
    """
    return _send(stage, workspace_id, _flag(stage, workspace_id), FLAG_SECONDS, force=force)


def ring_helper(stage: str, workspace_id: int) -> bool:
    """A backlog: send one more drain task to work beside the running one (at most one every
    HELPER_SECONDS, so a flood of one workspace cannot take every worker for long)."""
    return _send(stage, workspace_id, _flag(stage, workspace_id) + ":helper", HELPER_SECONDS)


def _send(stage: str, workspace_id: int, flag: str, seconds: float, *, force: bool = False) -> bool:
    from functions_ui.deploys.tasks import DRAIN_TASKS

    try:
        client = broker_redis()
        if force:
            client.set(flag, "1", ex=int(seconds))
        elif not client.set(flag, "1", nx=True, ex=int(seconds)):
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
    """A drain found its workspace's queue empty: rows stored from now on need a new ring."""
    with contextlib.suppress(redis.RedisError, OSError):
        broker_redis().delete(_flag(stage, workspace_id))


def drain(stage: str, workspace_id: int, one_batch: Callable[[int], int], limit: int) -> int:
    """Work through a workspace's queue of one stage, batch after batch, for a while.

    The flag stays set while the drain works, so new rows ring nobody: the drain picks them up in
    its next batch, which grows with the load. When the queue is empty the flag is cleared and
    the queue looked at once more (a row stored just before the clear rang nobody). After
    DRAIN_SECONDS the workspace goes to the back of the broker's queue, so workspaces take turns.
    """
    deadline = time.monotonic() + DRAIN_SECONDS
    done = 0
    cleared = False
    while True:
        claimed = one_batch(workspace_id)
        done += claimed
        if not claimed:
            if cleared:
                return done
            answered(stage, workspace_id)
            cleared = True
            continue
        cleared = False
        if claimed >= limit:
            ring_helper(stage, workspace_id)
        if time.monotonic() > deadline:
            ring(stage, workspace_id, force=True)
            return done
