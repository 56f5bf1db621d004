"""Doorbells: wake workers to drain the workspaces' queues of one pipeline stage.

The work itself waits in the database (webhook requests, deliveries). A workspace with work
waits for its turn in the stage's line, a list in the broker's Redis: a flag per workspace says
it is in the line or being drained, so a flood of one workspace puts it in the line once, not
thousands of times. Drain tasks (at most PIPELINE_DRAINS a stage, across all machines) take
workspaces from the front of the line, up to PIPELINE_DRAIN_WORKSPACES at a time, and work
through their queues together: a batch claims up to a batch's rows of each of them in one
statement and records them in one transaction, so a hundred workspaces with an event or two
each cost a drain's claims and records a few times, not a hundred. Each workspace's runs still
go to its own runtime processes. A drain task carries no workspace; it holds a token in the
stage's set of drains, renewed while it works, so that a lost task (a worker killed, a broker
restarted) stops counting once its token lapses.

After DRAIN_SECONDS a drain puts the workspaces that still have work at the back of the line,
so workspaces take turns. A lost wake-up costs only time: the periodic sweep rings again for
every workspace that has due work.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable

import redis
from django.conf import settings
from kombu.exceptions import KombuError

log = logging.getLogger(__name__)

STAGES = ("sources", "deliveries")
# A flag older than this no longer holds back a ring: its drain may have been lost.
FLAG_SECONDS = 10
HELPER_SECONDS = 2
# How long one drain task works before handing its workspaces to the back of the line.
DRAIN_SECONDS = 1.0
# A drain's token counts this long without being renewed: long enough for a task to wait in
# the broker behind the others, short enough that a lost one is soon replaced.
TOKEN_SECONDS = 30
CONNECT_TIMEOUT_S = 1.0

_clients: dict[tuple[int, str], redis.Redis] = {}
_lock = threading.Lock()

# Put a workspace in the line (unless its flag says it is there, or force). A new drain token
# when it went in and fewer drains than the most are alive, or when none is alive for a line
# that is not empty (theirs were lost). Returns the new token, or false.
_RING = """
local now = tonumber(redis.call('TIME')[1])
local pushed = false
if ARGV[2] == '1' or redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
  redis.call('RPUSH', KEYS[2], ARGV[3])
  pushed = true
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local alive = redis.call('ZCARD', KEYS[3])
if (pushed and alive < tonumber(ARGV[4])) or (alive == 0 and redis.call('LLEN', KEYS[2]) > 0) then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[6]), ARGV[5])
  return ARGV[5]
end
return false
"""
# A drain renews its token and takes workspaces from the front of the line: half of those
# waiting (at least one, at most ARGV[2]), so that the other drains get their part.
_TAKE = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
local waiting = redis.call('LLEN', KEYS[1])
if waiting == 0 then
  return {}
end
return redis.call('LPOP', KEYS[1], math.min(tonumber(ARGV[2]), math.ceil(waiting / 2)))
"""
# A drain ends: its token goes, and a new one is made when the line still holds workspaces
# (one rung between the drain's last look and now found the drains all taken).
_LEAVE = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('LLEN', KEYS[1]) > 0 and redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
  return ARGV[3]
end
return false
"""


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


def _line(stage: str) -> str:
    return f"fnui:line:{stage}"


def _drains(stage: str) -> str:
    return f"fnui:drains:{stage}"


def ring(stage: str, workspace_id: int, *, force: bool = False) -> bool:
    """Make sure the workspace waits in the stage's line, and that a drain is on its way.

    With force, the workspace goes to the back of the line even though its flag says it is in
    it (a drain handing it over, or the sweep taking back a dead drain's work). Returns False
    when the broker could not be reached; the work stays queued in the database and the sweep
    rings again later.
    """
    return _ring(stage, workspace_id, _flag(stage, workspace_id), FLAG_SECONDS, force=force)


def ring_helper(stage: str, workspace_id: int) -> bool:
    """A backlog: put the workspace in the line once more, for another drain to work on beside
    the running one (at most once every HELPER_SECONDS, so a flood of one workspace cannot take
    every worker for long)."""
    return _ring(stage, workspace_id, _flag(stage, workspace_id) + ":helper", HELPER_SECONDS)


def _ring(stage: str, workspace_id: int, flag: str, seconds: float, *, force: bool = False) -> bool:
    try:
        _then_drain(stage, _RING, [flag], int(seconds), "1" if force else "0", workspace_id)
    except (redis.RedisError, KombuError, OSError) as error:
        log.warning("could not ring %s for workspace %s: %s", stage, workspace_id, error)
        return False
    return True


def _then_drain(stage: str, script: str, keys: list[str], *args: str | int) -> None:
    """Run a script over the stage's line and drains (after `keys`), which ends with the most
    drains, a new token and its lifetime; send a drain task if it returns the token."""
    token = broker_redis().eval(
        script,
        len(keys) + 2,
        *keys,
        _line(stage),
        _drains(stage),
        *args,
        settings.PIPELINE_DRAINS,
        uuid.uuid4().hex,
        TOKEN_SECONDS,
    )
    if token:
        _send(stage, token.decode())


def _send(stage: str, token: str) -> None:
    from functions_ui.deploys.tasks import DRAIN_TASKS

    try:
        DRAIN_TASKS[stage].apply_async(args=(token,), retry=False)
    except BaseException:
        # The token would hold a drain's place for nothing until it lapsed.
        broker_redis().zrem(_drains(stage), token)
        raise


def _take(stage: str, token: str, count: int) -> list[int]:
    """Workspaces from the line; none while the broker cannot be reached (the drain goes on with
    those it has, and the sweep rings for the others once the broker is back)."""
    try:
        taken = broker_redis().eval(
            _TAKE, 2, _line(stage), _drains(stage), token, count, TOKEN_SECONDS
        )
    except (redis.RedisError, OSError) as error:
        log.warning("could not take from the %s line: %s", stage, error)
        return []
    return [int(value) for value in taken or []]


def _leave(stage: str, token: str) -> None:
    try:
        _then_drain(stage, _LEAVE, [], token)
    except (redis.RedisError, KombuError, OSError) as error:
        log.warning("could not hand over the %s line: %s", stage, error)


def _give_back(stage: str, workspace_ids: list[int]) -> None:
    if workspace_ids:
        try:
            broker_redis().rpush(_line(stage), *workspace_ids)
        except (redis.RedisError, OSError) as error:
            log.warning("could not leave helpers in the %s line: %s", stage, error)


def answered(stage: str, workspace_ids: Iterable[int]) -> None:
    """A drain found these workspaces' queues empty: rows stored from now on need a new ring."""
    flags = [_flag(stage, workspace_id) for workspace_id in workspace_ids]
    if flags:
        try:
            broker_redis().delete(*flags)
        except (redis.RedisError, OSError) as error:
            log.warning("could not clear %s flags: %s", stage, error)


def drain(
    stage: str,
    token: str,
    one_batch: Callable[[list[int]], dict[int, int]],
    limit: int,
) -> int:
    """Work through the queues of workspaces from the stage's line, batch after batch, for a while.

    `one_batch(workspace_ids)` claims up to `limit` rows of every one of them, runs and records
    them together, and says how many each had. A workspace stays in the drain while it has work;
    its flag stays set, so its new rows ring nobody. When its queue is found empty its flag is
    cleared and its queue looked at once more in the next batch (a row stored just before the
    clear rang nobody). Room left by a workspace is filled from the line. After DRAIN_SECONDS the
    workspaces that still have work go to the back of the line, so workspaces take turns.
    """
    deadline = time.monotonic() + DRAIN_SECONDS
    room = settings.PIPELINE_DRAIN_WORKSPACES
    # workspace -> its flag was cleared after an empty look (one more look to go)
    working: dict[int, bool] = {}
    done = 0
    try:
        while True:
            if len(working) < room:
                taken = _take(stage, token, room - len(working))
                # A workspace this drain works on already is in the line for a helper: it
                # stays there for another drain.
                _give_back(stage, [w for w in taken if w in working])
                for workspace_id in taken:
                    working.setdefault(workspace_id, False)
            if not working:
                return done
            claimed = one_batch(list(working))
            done += sum(claimed.values())
            empty = []
            for workspace_id, cleared in list(working.items()):
                count = claimed.get(workspace_id, 0)
                if count:
                    working[workspace_id] = False
                    if count >= limit:
                        ring_helper(stage, workspace_id)
                elif cleared:
                    del working[workspace_id]
                else:
                    empty.append(workspace_id)
                    working[workspace_id] = True
            answered(stage, empty)
            if time.monotonic() > deadline:
                _hand_back(stage, working)
                return done
    except BaseException:
        # A failed batch's rows wait for their lease; the workspaces wait in the line again.
        _hand_back(stage, working)
        raise
    finally:
        _leave(stage, token)


def _hand_back(stage: str, workspace_ids: Iterable[int]) -> None:
    """To the back of the line (those whose flag was cleared too: their last look is owed)."""
    for workspace_id in workspace_ids:
        ring(stage, workspace_id, force=True)
