"""Runtime benchmarks: warm invocation, 100 KB source body, first run, memory, spawn-per-call.

Every run goes through the isolation the product uses: a worker process of the run's workspace
and an isolate of the run's function.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid

from functions_ui.bench.rows import BenchRow
from functions_ui.runtime.api import run_function
from functions_ui.runtime.pool import find_node, get_pool
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

    # A new function gets a new isolate: the sandbox runtime is loaded and frozen, then the code
    # is compiled. Each sample is a function the worker has not seen.
    first: list[float] = []
    for i in range(20):
        code = TRIVIAL + f"\n// {uuid.uuid4()}"
        options = RunOptions(workspace=WORKSPACE, function_key=f"bench-new-{i}")
        t = time.perf_counter()
        run_function(
            code=code, function_type="destination", payload=event, settings={}, options=options
        )
        first.append(time.perf_counter() - t)
    first_p50 = _p50(first)
    rows.append(
        BenchRow(
            AREA, "first run of a new function p50", first_p50, "ms", "<= 20 ms", first_p50 <= 20
        )
    )
    lodash = "async function onTrack(e) { return _.get(e, 'userId') }"
    first_lodash: list[float] = []
    for i in range(10):
        options = RunOptions(workspace=WORKSPACE, function_key=f"bench-lodash-{i}")
        t = time.perf_counter()
        run_function(
            code=lodash, function_type="destination", payload=event, settings={}, options=options
        )
        first_lodash.append(time.perf_counter() - t)
    rows.append(
        BenchRow(AREA, "first run of a new function using lodash p50", _p50(first_lodash), "ms")
    )

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
