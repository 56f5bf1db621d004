"""The event pipeline end to end, as a user feels it, on PostgreSQL and on SQLite.

Real servers on loopback: gunicorn (as `functions_ui/gunicorn_conf.py` sets it up for production)
takes the webhooks, Celery workers run the demo pipeline (a Zendesk-style source that turns each
webhook into a track event, the PII Scrubber insert function, and a destination whose `fetch`
posts every event to a small local sink), Redis carries the wake-ups, and the sink counts what
arrives. An event counts as delivered when the sink has it; latency is from sending the webhook
to the sink's receipt.

Each database runs in a child process with its own servers; every loop is bounded and every
server is stopped at the end. PostgreSQL is a throwaway cluster with its durable defaults
(fsync and synchronous commit on).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from functions_ui.bench.rows import BenchRow

AREA = "pipeline"
SATURATION_EVENTS = 3000
SUSTAINED_RATE = 300
HEAVY_RATE = 150
LIGHT_RATE = 10
PACED_SECONDS = 10
CLIENT_CONNECTIONS = 24
DRAIN_TIMEOUT_S = 120
DEPLOYS = 10
BACKLOG_EVENTS = 3000

INSERT = """
async function onTrack(event, settings) {
  if (String(event.userId || '').startsWith('test-')) throw new DropEvent('internal test user');
  return _.omit(event, ['properties.email', 'context.traits.email']);
}
"""
DESTINATION = """
async function onTrack(event, settings) {
  let response;
  try {
    response = await fetch(settings.endpoint, {
      method: 'POST',
      headers: { Authorization: `Basic ${btoa(settings.apiKey + ':')}`,
                 'Content-Type': 'application/json' },
      body: JSON.stringify(event),
    });
  } catch (error) {
    throw new RetryError(error.message);
  }
  if (response.status >= 500 || response.status === 429) throw new RetryError(`${response.status}`);
}
"""


def run() -> list[BenchRow]:
    """Measure on PostgreSQL, then on SQLite, each in a child process of its own."""
    from django.conf import settings

    from functions_ui.devserver.postgres_server import PostgresServer

    rows = [_runtime_ceiling()]
    with PostgresServer(fast=False) as postgres:
        rows += _in_child("PostgreSQL", postgres.url)
    db = Path(settings.VAR_DIR) / "bench-pipeline.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    try:
        rows += _in_child("SQLite", f"sqlite:///{db}")
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    return rows


def _runtime_ceiling() -> BenchRow:
    """What the runtime alone does, one caller: insert + destination (fetch mocked) per event."""
    from functions_ui.runtime import MockResponse, RunOptions, run_function

    options = RunOptions(
        workspace="bench-ceiling",
        function_key="bench",
        mock_fetch=True,
        mock_response=MockResponse(status=200),
    )
    event = {"type": "track", "event": "Ticket Created", "userId": "u1", "properties": {"n": 1}}
    settings = {"endpoint": "https://sink.example/", "apiKey": "k"}

    def one() -> None:
        run_function(
            code=INSERT, function_type="insert", payload=event, settings={}, options=options
        )
        run_function(
            code=DESTINATION,
            function_type="destination",
            payload=event,
            settings=settings,
            options=options,
        )

    for _ in range(100):
        one()
    started = time.perf_counter()
    count = 1000
    for _ in range(count):
        one()
    rate = count / (time.perf_counter() - started)
    return BenchRow(
        AREA, "runtime ceiling: insert + destination runs, one caller", rate, "events/s"
    )


def _in_child(
    label: str, database_url: str, measure: str = "functions_ui.deploys.benchmarks:_measure"
) -> list[BenchRow]:
    """Run `measure` (module:function, taking the label, Redis URL and sink) in a child process
    with its own database, Redis and sink; its rows."""
    from django.conf import settings

    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "false", "LOG_LEVEL": "WARNING"}
    env.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    env.setdefault("SECRETS_ENCRYPTION_KEYS", "m5Qh1Yk0wJrGq7Vx2n3bT9cE6fZs8aLd4uHiPoKjWeA=")
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "from functions_ui.deploys.benchmarks import _child; _child()",
            label,
            measure,
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if child.returncode != 0:
        raise RuntimeError(f"pipeline benchmark on {label} failed:\n{child.stderr[-4000:]}")
    return [BenchRow(**row) for row in json.loads(child.stdout.strip().splitlines()[-1])]


def _child() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "functions_ui.settings")
    django.setup()
    from django.core.management import call_command

    from functions_ui.devserver.redis_server import RedisServer

    label, measure = sys.argv[-2:]
    module, name = measure.split(":")
    call_command("migrate", verbosity=0, interactive=False)
    with RedisServer() as redis_server, _Sink() as sink:
        from functions_ui.celery import app

        app.conf.broker_url = app.conf.result_backend = redis_server.url
        rows = getattr(importlib.import_module(module), name)(label, redis_server.url, sink)
    print(json.dumps([row.__dict__ for row in rows]))  # noqa: T201 (the parent reads it)


# The sink ---------------------------------------------------------------------------------------


class _Sink:
    """A local HTTP endpoint the destination posts to; it notes when each messageId arrived.

    Plain asyncio with the least parsing that works, so that the machine's CPU goes to the
    product, not to the measuring.
    """

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.base_events.Server | None = None
        self.url = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Keep-alive, as the collectors destinations post to are: one connection carries many.
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                stamp = time.time()
                message_id = json.loads(body).get("messageId", "")
                with self.lock:
                    self.arrivals.setdefault(message_id, []).append(stamp)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def clear(self) -> None:
        with self.lock:
            self.arrivals.clear()

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def __enter__(self) -> _Sink:
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
            )
            self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/collect"
            started.set()
            self.loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        started.wait(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


# Servers ----------------------------------------------------------------------------------------


class _Processes:
    """Child servers started for the benchmark, all stopped on exit."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, *command: str, env: dict[str, str]) -> subprocess.Popen:
        from django.conf import settings

        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()

    def __enter__(self) -> _Processes:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in self.started:
            self.stop(process)


def _worker(processes: _Processes, env: dict[str, str], concurrency: int) -> subprocess.Popen:
    from functions_ui.celery import ping

    worker = processes.start(
        sys.executable,
        "-m",
        "celery",
        "-A",
        "functions_ui",
        "worker",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        env=env,
    )
    ping.apply_async(expires=60).get(timeout=60)
    return worker


def _web_server(processes: _Processes, env: dict[str, str]) -> int:
    """gunicorn as production runs it, on a free loopback port: the port."""
    from functions_ui.devserver.redis_server import free_port

    port = free_port()
    processes.start(
        sys.executable,
        "-m",
        "gunicorn",
        "functions_ui.wsgi:application",
        "--config",
        "python:functions_ui.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        env=env,
    )
    _wait_for_port(port)
    return port


def _wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("gunicorn did not start")


# Load --------------------------------------------------------------------------------------------


async def _post(port: int, path: str, body: bytes) -> str | None:
    """One webhook; the request id it was given, or None when it was not accepted."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            + body
        )
        answer = await reader.read()
    finally:
        writer.close()
    if not answer.startswith(b"HTTP/1.1 200"):
        return None
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])["requestId"]


class _Load:
    """Sends `count` webhooks at `rate` per second (None: as fast as they are taken), taking the
    paths (webhook URLs) in turn."""

    def __init__(self, port: int, path: str | list[str], sink: _Sink) -> None:
        self.port, self.sink = port, sink
        self.paths = [path] if isinstance(path, str) else path

    async def _send_all(self, count: int, rate: float | None) -> tuple[dict[str, float], int]:
        sent: dict[str, float] = {}
        refused = 0
        gate = asyncio.Semaphore(CLIENT_CONNECTIONS)
        started = time.perf_counter()

        async def send(n: int) -> None:
            nonlocal refused
            body = json.dumps(
                {"type": "ticket_created", "user_id": f"u{n}", "ticket": n, "email": "a@b.c"}
            ).encode()
            async with gate:
                stamp = time.time()
                try:
                    request_id = await _post(self.port, self.paths[n % len(self.paths)], body)
                except OSError:
                    request_id = None
            if request_id is None:
                refused += 1
            else:
                sent[request_id] = stamp

        tasks = []
        for n in range(count):
            if rate:
                pause = started + n / rate - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
            tasks.append(asyncio.create_task(send(n)))
        await asyncio.gather(*tasks)
        return sent, refused

    def run(self, count: int, rate: float | None) -> dict:
        self.sink.clear()
        cpu_before = _cpu_jiffies()
        started = time.perf_counter()
        sent, refused = asyncio.run(self._send_all(count, rate))
        sent_for = time.perf_counter() - started
        backlog_peak = 0
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while self.sink.count() < len(sent) and time.monotonic() < deadline:
            backlog_peak = max(backlog_peak, len(sent) - self.sink.count())
            time.sleep(0.1)
        cpu = _cpu_jiffies() - cpu_before
        with self.sink.lock:
            arrivals = {k: list(v) for k, v in self.sink.arrivals.items()}
        latencies = sorted(
            (arrivals[f"fn-{rid}-0"][0] - stamp) * 1000
            for rid, stamp in sent.items()
            if f"fn-{rid}-0" in arrivals
        )
        first = min(sent.values()) if sent else 0.0
        last = max((v[0] for v in arrivals.values()), default=first)
        delivered = sum(1 for rid in sent if f"fn-{rid}-0" in arrivals)
        return {
            "accepted": len(sent),
            "refused": refused,
            "delivered": delivered,
            "lost": len(sent) - delivered,
            "doubled": sum(len(v) - 1 for v in arrivals.values()),
            "rate": delivered / max(last - first, 1e-9),
            "intake_rate": len(sent) / sent_for,
            "p50": statistics.median(latencies) if latencies else float("nan"),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            if latencies
            else float("nan"),
            "backlog_peak": backlog_peak,
            "cpu_ms_per_event": cpu / os.sysconf("SC_CLK_TCK") * 1000 / max(delivered, 1),
        }


def _cpu_jiffies() -> int:
    """Busy CPU time of the whole machine so far (every process: servers, workers, client)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields[:8]) - idle


# Measurements ------------------------------------------------------------------------------------


def _make_data(sink_url: str) -> dict:
    from functions_ui.workspaces.models import Workspace

    return _make_pipeline(Workspace.objects.create(slug="bench", name="Bench"), sink_url, 0)


def _make_pipeline(workspace, sink_url: str, number: int) -> dict:
    """A source, an insert and a destination, deployed, in the workspace. Pipelines after the
    first carry their number in their code, as different functions have different code (no
    compile cache helps one from another)."""
    from catalog.models import ResourceType
    from catalog.services import function_create
    from catalog.starters import STARTERS
    from functions_ui.deploys import instances, services
    from versioning.selectors import latest_version

    source_code = next(s.code for s in STARTERS if s.slug == "source-webhook-to-track")
    mark = f"\n// pipeline {number}\n" if number else ""
    setting = {"type": "STRING", "required": True, "sensitive": False}
    endpoint = {**setting, "name": "endpoint", "label": "Endpoint", "description": ""}
    api_key = {
        **setting,
        "name": "apiKey",
        "label": "API Key",
        "sensitive": True,
        "description": "",
    }
    suffix = f" {number}" if number else ""
    made = (
        ("source", ResourceType.SOURCE, "Zendesk Tickets", source_code, []),
        ("insert", ResourceType.INSERT_DESTINATION, "PII Scrubber", INSERT, []),
        (
            "destination",
            ResourceType.DESTINATION,
            "Analytics collector",
            DESTINATION,
            [endpoint, api_key],
        ),
    )
    functions = {
        key: function_create(
            workspace=workspace,
            user=None,
            resource_type=resource_type,
            display_name=name + suffix,
            code=code + mark,
            settings=settings_schema,
        )
        for key, resource_type, name, code, settings_schema in made
    }
    source = instances.source_instance_create(
        function=functions["source"], user=None, name="Zendesk" + suffix, raw_settings={}
    )
    destination = instances.destination_instance_create(
        function=functions["destination"],
        user=None,
        name="Collector" + suffix,
        raw_settings={"endpoint": sink_url, "apiKey": "bench-key"},
        source_ids=[source.public_id],
    )
    instances.insert_instance_create(
        function=functions["insert"],
        user=None,
        name="PII Scrubber" + suffix,
        raw_settings={},
        destination_id=destination.public_id,
        enabled=True,
    )
    for function in functions.values():
        services.deploy_execute(
            deploy_id=services.deploy_start(
                function=function, version=latest_version(function=function), user=None
            ).pk
        )
    return {"token": source.webhook_token, "source": source}


def _measure(label: str, redis_url: str, sink: _Sink) -> list[BenchRow]:
    data = _make_data(sink.url)
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "RUNTIME_FETCH_ALLOWED_HOSTS": "127.0.0.1",
    }
    path = f"/hooks/{data['token']}"
    rows: list[BenchRow] = []
    with _Processes() as processes:
        port = _web_server(processes, env)
        load = _Load(port, path, sink)
        for concurrency in (1, 2):
            # The pipeline alone: a backlog stored first, then drained with no intake running,
            # so the worker processes have the machine to themselves (how they scale).
            _backlog_store(data, BACKLOG_EVENTS)
            sink.clear()
            worker = _worker(processes, env, concurrency)
            rows.append(_backlog_drained(label, concurrency, sink))
            load.run(100, None)  # warm up: each process starts its runtime and isolates
            result = load.run(SATURATION_EVENTS, None)
            rows += _rows(label, f"as fast as taken, {concurrency} worker process(es)", result)
            if concurrency == 2:
                rows.append(_deploys(label, data))
                for rate in (SUSTAINED_RATE, HEAVY_RATE, LIGHT_RATE):
                    count = rate * PACED_SECONDS
                    rows += _rows(
                        label,
                        f"{rate} webhooks/s for {PACED_SECONDS} s",
                        load.run(count, rate),
                        rate,
                    )
            processes.stop(worker)
    return rows


def _whole(r: dict) -> bool:
    """Every webhook of a load was accepted and delivered exactly once."""
    return r["lost"] == 0 and r["doubled"] == 0 and r["refused"] == 0


def _whole_row(area: str, name: str, r: dict) -> BenchRow:
    return BenchRow(
        area,
        f"{name}: lost / doubled / refused",
        r["lost"] + r["doubled"] + r["refused"],
        f"({r['lost']} / {r['doubled']} / {r['refused']} of {r['accepted']})",
        "0",
        _whole(r),
    )


def _rows(label: str, scenario: str, r: dict, rate: int | None = None) -> list[BenchRow]:
    name = f"{label}, {scenario}"
    whole = _whole(r)
    rows = [
        BenchRow(
            AREA,
            f"{name}: delivered end to end",
            r["rate"],
            "events/s",
            ">= 300/s" if rate is None and "2 worker" in scenario and label == "PostgreSQL" else "",
            (r["rate"] >= 300 and whole)
            if rate is None and "2 worker" in scenario and label == "PostgreSQL"
            else None,
        ),
        _whole_row(AREA, name, r),
    ]
    targets = {150: (250, 1000), 10: (50, None)}
    p50_target, p99_target = (
        targets.get(rate, (None, None)) if label == "PostgreSQL" else (None, None)
    )
    rows.append(
        BenchRow(
            AREA,
            f"{name}: latency p50",
            r["p50"],
            "ms",
            f"<= {p50_target}" if p50_target else "",
            r["p50"] <= p50_target if p50_target else None,
        )
    )
    rows.append(
        BenchRow(
            AREA,
            f"{name}: latency p99",
            r["p99"],
            "ms",
            f"<= {p99_target}" if p99_target else "",
            r["p99"] <= p99_target if p99_target else None,
        )
    )
    rows.append(BenchRow(AREA, f"{name}: backlog peak", r["backlog_peak"], "events"))
    rows.append(BenchRow(AREA, f"{name}: machine CPU per event", r["cpu_ms_per_event"], "ms"))
    if rate is None:
        rows.append(BenchRow(AREA, f"{name}: webhooks taken", r["intake_rate"], "req/s"))
    return rows


def _deploys(label: str, data: dict) -> BenchRow:
    """Deploy button (the view, through the Django test client) -> the instance runs the version."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from catalog.models import Function
    from functions_ui.deploys.models import SourceInstance
    from functions_ui.permissions.models import Role
    from functions_ui.workspaces.services import membership_grant
    from versioning.services import version_save

    function = Function.objects.get(pk=data["source"].function_id)
    user = get_user_model().objects.create_user(username="bench-owner")
    membership_grant(workspace=function.workspace, user=user, roles=[Role.WORKSPACE_OWNER])
    client = Client()
    client.force_login(user)
    url = reverse("deploys:deploy_create", args=[function.workspace.slug, function.public_id])
    timings = []
    for n in range(DEPLOYS):
        version = version_save(
            function=function, user=user, code=function.code + f"\n// {n}", base_version_id=None
        )
        started = time.perf_counter()
        client.post(url, {"version_id": version.public_id, "target": "all"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if SourceInstance.objects.filter(pk=data["source"].pk, version=version).exists():
                break
            time.sleep(0.005)
        timings.append((time.perf_counter() - started) * 1000)
    p50 = statistics.median(timings)
    return BenchRow(
        AREA, f"{label}, deploy: click -> instance runs it, p50", p50, "ms", "<= 1000", p50 <= 1000
    )


def _backlog_store(data: dict, count: int) -> None:
    """Store webhook requests as intake would (the wake-ups wait in the broker for a worker)."""
    from functions_ui.deploys.intake import webhook_accept

    source = data["source"]
    for n in range(count):
        body = json.dumps({"type": "ticket_created", "user_id": f"b{n}", "ticket": n})
        webhook_accept(
            token=source.webhook_token,
            body=body,
            headers={"Content-Type": "application/json"},
            query="",
        )


def _backlog_drained(label: str, concurrency: int, sink: _Sink) -> BenchRow:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while sink.count() < BACKLOG_EVENTS and time.monotonic() < deadline:
        time.sleep(0.1)
    with sink.lock:
        arrivals = sorted(v[0] for v in sink.arrivals.values())
    rate = len(arrivals) / max(arrivals[-1] - arrivals[0], 1e-9) if arrivals else 0.0
    return BenchRow(
        AREA,
        f"{label}, a backlog of {BACKLOG_EVENTS} drained by {concurrency} worker process(es), "
        f"no intake ({len(arrivals)} delivered)",
        rate,
        "events/s",
    )
