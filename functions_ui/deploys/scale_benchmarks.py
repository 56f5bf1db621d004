"""The pipeline at a real company's scale: many pipelines in one workspace, or many workspaces.

The same servers and load as `benchmarks.py` (gunicorn, Celery workers, Redis, PostgreSQL, the
local sink), with the demo pipeline (source, insert, destination) repeated: N pipelines in one
workspace (3N functions, each with code of its own), or one pipeline in each of N workspaces.
Webhooks go round-robin over the pipelines' URLs. Each scenario starts fresh worker processes,
sends rounds of one webhook per pipeline until they are warm (as a deployed pipeline is), then
measures delivery end to end, the machine's CPU per event, and the memory of the workers'
runtime processes.
"""

from __future__ import annotations

import os

from functions_ui.bench.rows import BenchRow
from functions_ui.deploys.benchmarks import (
    _in_child,
    _Load,
    _make_pipeline,
    _Processes,
    _Sink,
    _web_server,
    _whole,
    _whole_row,
    _worker,
)

AREA = "scale"
EVENTS = 2000
PACED_RATE = 150
PACED_SECONDS = 10
SIZES = (1, 10, 100)
WORKER_PROCESSES = 2
# At 100 pipelines (or workspaces): delivered at least this share of the one-pipeline figure.
KEPT_SHARE = 0.8


def run() -> list[BenchRow]:
    from functions_ui.devserver.postgres_server import PostgresServer

    with PostgresServer(fast=False) as postgres:
        return _in_child(
            "PostgreSQL", postgres.url, "functions_ui.deploys.scale_benchmarks:_measure"
        )


def _runtime_memory(root: int) -> tuple[int, float, float]:
    """The Node.js runtime processes below a process (the Celery worker): how many, their
    resident memory and their proportional share of it (MiB; shared pages, such as Node's own
    code, counted once across them)."""
    children: dict[int, list[int]] = {}
    commands: dict[int, bytes] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                commands[int(entry)] = fh.read()
        except OSError:
            continue
        children.setdefault(parent, []).append(int(entry))
    below, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            below.append(child)
            stack.append(child)
    count, rss, pss = 0, 0, 0
    for pid in below:
        if b"worker.js" not in commands.get(pid, b""):
            continue
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                fields = {line.split(":")[0]: line.split()[1] for line in fh if ":" in line}
        except OSError:
            continue
        count += 1
        rss += int(fields.get("Rss", 0))
        pss += int(fields.get("Pss", 0))
    return count, rss / 1024, pss / 1024


def _warm_up(load: _Load, root: int, pipelines: int) -> None:
    """Rounds of one webhook per pipeline until the worker processes hold a runtime for every
    workspace they serve (the count of runtime processes stops growing): a deployed pipeline's
    steady state, which the first events of a workspace new to a process reach (a process start
    is about 0.14 s of CPU, Node's own start most of it)."""
    seen = -1
    for _ in range(10):
        load.run(pipelines, None)
        count = _runtime_memory(root)[0]
        if count == seen:
            return
        seen = count


def _pipelines(shape: str, size: int, sink_url: str) -> list[str]:
    """The webhook paths of `size` pipelines, in one workspace or one workspace each."""
    from functions_ui.workspaces.models import Workspace

    paths = []
    shared = None
    if shape == "pipelines":
        shared = Workspace.objects.create(slug=f"scale-{size}", name=f"Scale {size}")
    for n in range(size):
        workspace = shared or Workspace.objects.create(
            slug=f"scale-{size}-{n}", name=f"Scale {size} {n}"
        )
        data = _make_pipeline(workspace, sink_url, n + 1)
        paths.append(f"/hooks/{data['token']}")
    return paths


def _measure(label: str, redis_url: str, sink: _Sink) -> list[BenchRow]:
    env = {**os.environ, "REDIS_URL": redis_url, "RUNTIME_FETCH_ALLOWED_HOSTS": "127.0.0.1"}
    rows: list[BenchRow] = []
    baseline = None
    with _Processes() as processes:
        port = _web_server(processes, env)
        scenarios = [("pipelines", 1)]
        scenarios += [(shape, n) for shape in ("pipelines", "workspaces") for n in SIZES if n > 1]
        for shape, size in scenarios:
            paths = _pipelines(shape, size, sink.url)
            where = (
                "1 pipeline, 1 workspace"
                if size == 1
                else f"{size} pipelines in 1 workspace"
                if shape == "pipelines"
                else f"1 pipeline in each of {size} workspaces"
            )
            worker = _worker(processes, env, WORKER_PROCESSES)
            load = _Load(port, paths, sink)
            _warm_up(load, worker.pid, len(paths))
            result = load.run(EVENTS, None)
            count, rss, pss = _runtime_memory(worker.pid)
            if baseline is None:
                baseline = result["rate"]
            rows += _rows(label, where, result, size, baseline, count, rss, pss)
            if size == max(SIZES):
                paced = load.run(PACED_RATE * PACED_SECONDS, PACED_RATE)
                rows += _paced_rows(label, where, paced)
            processes.stop(worker)
    return rows


def _rows(
    label: str,
    where: str,
    r: dict,
    size: int,
    baseline: float,
    processes: int,
    rss: float,
    pss: float,
) -> list[BenchRow]:
    name = f"{label}, {where}, {EVENTS} webhooks as fast as taken"
    whole = _whole(r)
    largest = size == max(SIZES)
    target = KEPT_SHARE * baseline
    return [
        BenchRow(
            AREA,
            f"{name}: delivered end to end",
            r["rate"],
            f"events/s ({r['rate'] / baseline:.2f}x)",
            f">= {target:.0f}/s ({KEPT_SHARE}x)" if largest else "",
            (r["rate"] >= target and whole) if largest else None,
        ),
        _whole_row(AREA, name, r),
        BenchRow(AREA, f"{name}: latency p50 / p99", r["p50"], f"/ {r['p99']:.0f} ms"),
        BenchRow(AREA, f"{name}: machine CPU per event", r["cpu_ms_per_event"], "ms"),
        BenchRow(
            AREA,
            f"{name}: runtime memory ({processes} Node.js processes)",
            pss,
            f"MiB PSS ({rss:,.0f} RSS)",
        ),
    ]


def _paced_rows(label: str, where: str, r: dict) -> list[BenchRow]:
    name = f"{label}, {where}, {PACED_RATE} webhooks/s for {PACED_SECONDS} s"
    whole = _whole(r)
    return [
        BenchRow(AREA, f"{name}: latency p50", r["p50"], "ms"),
        BenchRow(
            AREA, f"{name}: latency p99", r["p99"], "ms", "<= 1000", r["p99"] <= 1000 and whole
        ),
    ]
