"""The worker pool: spare processes started ahead, idle ones closed, warm functions by memory."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from functions_ui.runtime import RunOptions, run_function
from functions_ui.runtime import pool as pool_module
from functions_ui.runtime.pool import WorkerPool, next_request_id


@pytest.fixture
def make_pool(monkeypatch) -> Iterator:
    """A pool of the given shape, used by run_function; closed afterwards."""
    made: list[WorkerPool] = []

    def make(**shape) -> WorkerPool:
        pool = WorkerPool(
            shape.pop("size", 4),
            int(pool_module.runtime_setting("RUNTIME_MEMORY_MB")),
            per_tenant=shape.pop("per_tenant", 1),
            **shape,
        )
        monkeypatch.setattr(pool_module, "_pools", {pool.memory_mb: pool})
        made.append(pool)
        return pool

    yield make
    for pool in made:
        pool.close()


def run(workspace: str, key: str = "dfn_pool", code: str | None = None):
    return run_function(
        code=code or "async function onTrack(event) { return 'ran' }",
        function_type="destination",
        payload={"type": "track", "event": "E", "userId": "u"},
        settings={},
        options=RunOptions(workspace=workspace, function_key=key),
    )


def ready_spares(pool: WorkerPool) -> list[int]:
    """The spares' process ids once the one asked for has started (bounded wait)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pids = pool.spare_pids()
        if len(pids) >= pool.spares:
            return pids
        time.sleep(0.01)
    raise AssertionError("no spare worker started")


def test_a_workspace_without_a_worker_gets_the_spare_started_ahead(make_pool) -> None:
    pool = make_pool(spares=1)
    assert run("ws-a").result == "ran"  # the first worker starts there and then; a spare behind it
    (spare,) = ready_spares(pool)
    assert spare not in pool.worker_pids("ws-a")
    assert run("ws-b").result == "ran"
    assert pool.worker_pids("ws-b") == [spare]  # no process started for it, none shared
    assert pool.worker_pids("ws-a") != [spare]
    (next_spare,) = ready_spares(pool)  # another is started behind the one taken
    assert next_spare not in {spare, *pool.worker_pids("ws-a")}


def test_a_spare_has_run_nothing_of_anyone_when_it_is_given_out(make_pool) -> None:
    pool = make_pool(spares=1)
    run("ws-a", code="async function onTrack() { return 'a' }")
    (spare,) = ready_spares(pool)
    reply = pool.request({"op": "ping", "id": next_request_id()}, 5, "ws-b")
    assert pool.worker_pids("ws-b") == [spare]
    assert (reply["functions"], reply["warmBytes"]) == (0, 0)


def test_workers_idle_past_the_idle_time_are_closed(make_pool) -> None:
    pool = make_pool(spares=0, idle_seconds=0.2)
    run("ws-idle")
    (idle_pid,) = pool.worker_pids("ws-idle")
    run("ws-busy")
    assert set(pool.tenants()) == {"ws-idle", "ws-busy"}
    time.sleep(0.3)  # the idle time itself is what is tested
    run("ws-busy")  # a worker given back sweeps the idle ones (ws-busy's was just used)
    assert set(pool.tenants()) == {"ws-busy"}
    assert pool.worker_pids("ws-idle") == []
    assert run("ws-idle").result == "ran"  # it starts again when next needed
    assert pool.worker_pids("ws-idle") != [idle_pid]


def test_warm_functions_are_kept_by_a_memory_budget(make_pool) -> None:
    pool = make_pool(spares=0, warm_mb=1)
    # Each function's code is larger than the last, so none can hide behind another's cache.
    for n in range(150):
        padding = "x" * (200 * n)
        code = f"async function onTrack() {{ const p = '{padding}'; return {n} + p.length * 0 }}"
        assert run("ws-warm", key=f"dfn_{n}", code=code).result == n
    reply = pool.request({"op": "ping", "id": next_request_id()}, 5, "ws-warm")
    assert 1 < reply["functions"] < 150  # the least recently used went
    assert reply["warmBytes"] <= 1024 * 1024
    assert run("ws-warm", key="dfn_0", code="async function onTrack() { return 'again' }").result
