"""Runtime benchmarks: warm invocation, 100 KB source body, first run, memory, spawn-per-call.

Every run goes through the isolation the product uses: a worker process of the run's workspace,
its isolate and the runtime in it, and the run's function compiled there.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

from functions_ui.bench.rows import BenchRow
from functions_ui.runtime.api import run_function
from functions_ui.runtime.pool import WorkerPool, find_node, get_pool
from functions_ui.runtime.types import RunOptions

AREA = "runtime"
WORKSPACE = "bench-ws"
OPTIONS = RunOptions(workspace=WORKSPACE, function_key="bench-fn")
TRIVIAL = "async function onTrack(event, settings) { return { ok: true, id: event.userId } }"
# The case: a source handler parsing a 100 KB body (and emitting one event).
SOURCE_PARSE = """
async function onRequest(request, settings) {
  const body = request.json();
  const count = body.items.length;
  Segment.track({ event: 'Batch Received', userId: 'u1', properties: { count } });
}
"""
# A heavier one for information: an event per item, ~1,000 emitted messages to carry back.
SOURCE_FAN_OUT = """
async function onRequest(request, settings) {
  const body = request.json();
  for (const item of body.items) Segment.track({ event: 'Item', userId: item.id });
  return body.items.length;
}
"""
ONESHOT = r"""
const vm = require('vm');
const code = process.argv[2];
const ctx = vm.createContext({});
vm.runInContext(code, ctx);
Promise.resolve(ctx.onTrack({ type: 'track', userId: 'u' }, {})).then((r) => {
  process.stdout.write(JSON.stringify(r));
});
"""


def _p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run() -> list[BenchRow]:
    rows: list[BenchRow] = []
    event = {"type": "track", "userId": "u1", "event": "Bench"}
    pool = get_pool()
    pool.warm_up(WORKSPACE)

    def call() -> None:
        run_function(
            code=TRIVIAL, function_type="destination", payload=event, settings={}, options=OPTIONS
        )

    for _ in range(50):
        call()
    warm: list[float] = []
    for _ in range(1000):
        t = time.perf_counter()
        call()
        warm.append(time.perf_counter() - t)
    warm_p50 = _p50(warm)
    rows.append(BenchRow(AREA, "warm onTrack p50", warm_p50, "ms", "<= 1 ms", warm_p50 <= 1))
    rows.append(BenchRow(AREA, "warm onTrack p90", sorted(warm)[900] * 1000, "ms"))
    t = time.perf_counter()
    n = 1000
    for _ in range(n):
        call()
    per_s = n / (time.perf_counter() - t)
    rows.append(
        BenchRow(
            AREA,
            "sequential throughput (1 caller, 1 core)",
            per_s,
            "calls/s",
            ">= 1,000/s",
            per_s >= 1000,
        )
    )

    items = [{"id": f"user-{i}", "pad": "x" * 80} for i in range(1000)]
    body = json.dumps({"items": items})
    body = json.dumps({"items": items[: int(len(items) * 100_000 / len(body))]})
    request = {"body": body, "headers": {"Content-Type": "application/json"}}
    for code, label, target in (
        (SOURCE_PARSE, "parsed, one event", True),
        (SOURCE_FAN_OUT, "one event per item (~1,000)", False),
    ):
        src: list[float] = []
        for _ in range(50):
            t = time.perf_counter()
            r = run_function(
                code=code, function_type="source", payload=request, settings={}, options=OPTIONS
            )
            src.append(time.perf_counter() - t)
        assert r.ok, r.error
        src_p50 = _p50(src)
        rows.append(
            BenchRow(
                AREA,
                f"source, {len(body) // 1024} KB body {label}, p50",
                src_p50,
                "ms",
                "<= 10 ms" if target else "",
                src_p50 <= 10 if target else None,
            )
        )

    rows += _first_runs(event)
    rows += _warm_function_memory(event)
    rows += _retired_workspace(event)

    rss = pool.worker_rss_bytes(WORKSPACE)
    if rss:
        rows.append(
            BenchRow(
                AREA,
                f"memory of a warm workspace ({len(rss)} workers, {pool.warm_mb} MB warm budget)",
                sum(rss) / 2**20,
                "MiB",
            )
        )

    node = find_node()
    spawn: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "oneshot.js")
        with open(script, "w") as fh:
            fh.write(ONESHOT)
        for _ in range(20):
            t = time.perf_counter()
            subprocess.run([node, script, TRIVIAL], capture_output=True, check=True, env={})
            spawn.append(time.perf_counter() - t)
    spawn_p50 = _p50(spawn)
    rows.append(BenchRow(AREA, "spawn node per call p50", spawn_p50, "ms"))
    rows.append(BenchRow(AREA, "spawn-per-call / warm pool", spawn_p50 / warm_p50, "x"))
    return rows


def _cpu_of(pids: list[int]) -> float:
    """CPU seconds the processes have used so far."""
    ticks = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _own_pool(**shape: Any) -> Iterator[WorkerPool]:
    """Runs go to a pool of one worker of this shape meanwhile (then the project's again)."""
    from functions_ui.runtime import pool as pool_module

    pool = WorkerPool(1, get_pool().memory_mb, per_tenant=1, **shape)
    saved = pool_module._pools
    pool_module._pools = {pool.memory_mb: pool}
    try:
        yield pool
    finally:
        pool_module._pools = saved
        pool.close()


def _timed_run(code: str, event: dict, options: RunOptions) -> float:
    """One destination run: how long it took (seconds); it must succeed."""
    started = time.perf_counter()
    result = run_function(
        code=code, function_type="destination", payload=event, settings={}, options=options
    )
    took = time.perf_counter() - started
    assert result.ok, result.error
    return took


def _new_functions(event: dict, code: str, count: int, label: str) -> tuple[list[float], float]:
    """Run `count` functions the worker has never seen: each one's wall time, and the CPU per
    run of the runtime process and the caller together."""
    pool = get_pool()
    walls: list[float] = []
    pids = pool.worker_pids(WORKSPACE)
    cpu_before = _cpu_of(pids) + time.process_time()
    for _ in range(count):
        options = RunOptions(workspace=WORKSPACE, function_key=f"bench-{label}-{uuid.uuid4()}")
        walls.append(_timed_run(code + f"\n// {uuid.uuid4()}", event, options))
    cpu = _cpu_of(pids) + time.process_time() - cpu_before
    return walls, cpu / count * 1000


def _first_runs(event: dict) -> list[BenchRow]:
    """A function the worker has not seen: its code is compiled into the workspace's runtime
    (the runtime itself, lodash included, was made when the process started)."""
    rows = []
    lodash = "async function onTrack(e) { return _.get(e, 'userId') }"
    for code, label in ((TRIVIAL, "first run of a new function"), (lodash, "... using lodash")):
        walls, cpu = _new_functions(event, code, 200, "first")
        rows.append(
            BenchRow(AREA, f"{label}, p50", _p50(walls), "ms", "<= 20 ms", _p50(walls) <= 20)
        )
        rows.append(
            BenchRow(
                AREA, f"{label}, CPU per run (runtime + caller)", cpu, "ms", "<= 2 ms", cpu <= 2
            )
        )
    return rows


def _warm_function_memory(event: dict) -> list[BenchRow]:
    """What one more warm function costs, on one worker: the growth of its isolate's heap over
    many new functions (an upper bound: it holds their runs' garbage too), the same for the
    process's resident memory, and what the worker counts per function for its warm budget."""
    ping = {"op": "ping", "id": 0}
    count = 500
    with _own_pool(spares=0, warm_mb=64) as pool:
        _new_functions(event, TRIVIAL, 1, "memory")
        before = pool.request(ping, 5, WORKSPACE)
        _new_functions(event, TRIVIAL, count, "memory")
        after = pool.request(ping, 5, WORKSPACE)
    added = max(after["functions"] - before["functions"], 1)
    heap_each = (after["heap"] - before["heap"]) / added / 1024
    return [
        BenchRow(
            AREA,
            f"memory of a warm function (isolate heap growth over {added} new ones)",
            heap_each,
            "KiB",
            "<= 3 MiB",
            heap_each <= 3 * 1024,
        ),
        BenchRow(
            AREA,
            "... the worker process's resident memory growth",
            (after["rss"] - before["rss"]) / added / 1024,
            "KiB",
        ),
        BenchRow(
            AREA,
            "... counted for the warm budget (what its code added to the heap)",
            (after["warmBytes"] - before["warmBytes"]) / added / 1024,
            "KiB",
        ),
    ]


def _retired_workspace(event: dict) -> list[BenchRow]:
    """A workspace's first run after its worker was retired for another workspace's: the spare
    started ahead takes it, so the run waits for no process to start."""
    walls = []
    with _own_pool(spares=1) as pool:
        for i in range(12):
            deadline = time.monotonic() + 30
            while not pool.spare_pids() and time.monotonic() < deadline:
                time.sleep(0.01)
            options = RunOptions(workspace=f"bench-retired-{i % 2}", function_key="bench-fn")
            walls.append(_timed_run(TRIVIAL, event, options))
    p50 = _p50(walls[2:])
    return [
        BenchRow(
            AREA,
            "first run in a workspace whose worker was retired (a spare takes it), p50",
            p50,
            "ms",
            "<= 5 ms",
            p50 <= 5,
        )
    ]
