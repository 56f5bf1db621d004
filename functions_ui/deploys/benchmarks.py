"""Webhook intake, webhook-to-destination latency and deploy time, with real servers.

Gunicorn (several processes), a Celery worker and Redis all run as local processes on
loopback, so the benchmark needs a database every process can open: it runs itself in a
child process on a throwaway SQLite file under .var/ and hands its rows back as JSON. Every
loop is bounded; the servers are stopped at the end.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Pool
from pathlib import Path

from functions_ui.bench.rows import BenchRow

AREA = "deploys"
INTAKE_TARGET = 300.0
INTAKE_REQUESTS = 3000
INTAKE_CLIENTS = 16
LATENCY_REQUESTS = 150
LATENCY_WARMUP = 10
LATENCY_RATE = 10.0  # requests per second: a light, steady load
DEPLOYS = 10
GUNICORN_WORKERS = 4

SOURCE = """
async function onRequest(request, settings) {
  const body = request.json();
  Segment.track({ event: 'Bench', userId: 'u' + body.n, properties: { n: body.n } });
}
"""
DESTINATION = "async function onTrack(event, settings) { return event.properties.n; }"


def run() -> list[BenchRow]:
    """Run the measurements in a child process with its own database file."""
    from django.conf import settings

    db = Path(settings.VAR_DIR) / "bench-deploys.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    # WAL, and write transactions that take their lock at BEGIN: without them, concurrent
    # SQLite writers (two worker processes) fail with "database is locked" and retry.
    options = "transaction_mode=IMMEDIATE&init_command=PRAGMA+journal_mode%3DWAL"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}?{options}", "DEBUG": "true"}
    child = subprocess.run(
        [sys.executable, "-c", "from functions_ui.deploys.benchmarks import _child; _child()"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    if child.returncode != 0:
        raise RuntimeError(f"deploys benchmark failed:\n{child.stderr[-4000:]}")
    rows = json.loads(child.stdout.strip().splitlines()[-1])
    return [BenchRow(**row) for row in rows]


def _child() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "functions_ui.settings")
    django.setup()
    from django.core.management import call_command

    from functions_ui.devserver.redis_server import RedisServer

    call_command("migrate", verbosity=0, interactive=False)
    with RedisServer() as redis_server:
        os.environ["REDIS_URL"] = redis_server.url
        from functions_ui.celery import app

        app.conf.broker_url = app.conf.result_backend = redis_server.url
        rows = _measure(redis_server.url)
    print(json.dumps([row.__dict__ for row in rows]))  # noqa: T201 (the parent reads it)


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
        )
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> _Processes:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in self.started:
            self.stop(process)


def _measure(redis_url: str) -> list[BenchRow]:
    from functions_ui.devserver.redis_server import free_port

    data = _make_data()
    env = {**os.environ, "REDIS_URL": redis_url, "RUNTIME_WORKERS": "1", "LOG_LEVEL": "WARNING"}
    port = free_port()
    rows: list[BenchRow] = []
    with _Processes() as processes:
        processes.start(
            sys.executable,
            "-m",
            "gunicorn",
            "functions_ui.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(GUNICORN_WORKERS),
            "--log-level",
            "warning",
            env=env,
        )
        _wait_for_port(port)
        path = f"/hooks/{data['token']}"
        rows.append(_intake(port, path))

        import redis

        redis.Redis.from_url(redis_url).flushdb()
        worker = processes.start(
            sys.executable,
            "-m",
            "celery",
            "-A",
            "functions_ui",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            env=env,
        )
        _wait_for_worker()
        rows.extend(_latency(port, path))
        rows.append(_deploys(data))
        processes.stop(worker)
    return rows


def _make_data() -> dict:
    from catalog.models import ResourceType
    from catalog.services import function_create
    from functions_ui.deploys import services
    from functions_ui.workspaces.models import Workspace
    from versioning.selectors import latest_version

    workspace = Workspace.objects.create(slug="bench", name="Bench")
    source_fn = function_create(
        workspace=workspace,
        user=None,
        resource_type=ResourceType.SOURCE,
        display_name="Bench source",
        code=SOURCE,
    )
    destination_fn = function_create(
        workspace=workspace,
        user=None,
        resource_type=ResourceType.DESTINATION,
        display_name="Bench destination",
        code=DESTINATION,
    )
    source = services.source_instance_create(
        function=source_fn, user=None, name="Bench", raw_settings={}
    )
    destination = services.destination_instance_create(
        function=destination_fn,
        user=None,
        name="Bench",
        raw_settings={},
        source_ids=[source.public_id],
    )
    for function in (source_fn, destination_fn):
        services.deploy_execute(
            deploy_id=services.deploy_start(
                function=function, version=latest_version(function=function), user=None
            ).pk
        )
    return {"token": source.webhook_token, "source": source, "destination": destination}


def _wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("gunicorn did not start")


def _wait_for_worker() -> None:
    from functions_ui.celery import ping

    ping.apply_async(expires=60).get(timeout=60)


def _request(port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _intake_client(args: tuple[int, str, int]) -> int:
    port, path, count = args
    ok = 0

    def send(n: int) -> None:
        nonlocal ok
        if _request(port, path, b'{"n": %d}' % n).startswith(b"HTTP/1.1 200"):
            ok += 1

    with ThreadPoolExecutor(INTAKE_CLIENTS // 2) as pool:
        list(pool.map(send, range(count)))
    return ok


def _intake(port: int, path: str) -> BenchRow:
    """Accepted webhook requests per second, from two client processes."""
    _intake_client((port, path, 200))  # warm up every gunicorn worker
    started = time.perf_counter()
    with Pool(2) as pool:
        accepted = sum(pool.map(_intake_client, [(port, path, INTAKE_REQUESTS // 2)] * 2))
    rate = accepted / (time.perf_counter() - started)
    return BenchRow(
        AREA,
        f"webhook intake, gunicorn x{GUNICORN_WORKERS} ({accepted} accepted)",
        rate,
        "req/s",
        f">= {INTAKE_TARGET:.0f}",
        rate >= INTAKE_TARGET and accepted == INTAKE_REQUESTS,
    )


def _latency(port: int, path: str) -> list[BenchRow]:
    """Webhook POST -> destination handler ran, at a light steady rate."""
    from functions_ui.deploys.models import Delivery, RunStatus

    sent: dict[str, float] = {}
    lock = threading.Lock()

    def send(n: int) -> None:
        stamp = time.time()
        answer = _request(port, path, b'{"n": %d}' % n)
        request_id = json.loads(answer.split(b"\r\n\r\n", 1)[1])["requestId"]
        with lock:
            sent[request_id] = stamp

    # Warm up: each worker process compiles the functions on its first runs.
    for n in range(LATENCY_WARMUP):
        send(-1 - n)
    deliveries = Delivery.objects.filter(status=RunStatus.DELIVERED)
    deadline = time.monotonic() + 30
    while deliveries.count() < LATENCY_WARMUP and time.monotonic() < deadline:
        time.sleep(0.05)
    sent.clear()
    deliveries.delete()

    threads = []
    started = time.perf_counter()
    for n in range(LATENCY_REQUESTS):
        pause = started + n / LATENCY_RATE - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        thread = threading.Thread(target=send, args=(n,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=10)
    deadline = time.monotonic() + 30
    while deliveries.count() < LATENCY_REQUESTS and time.monotonic() < deadline:
        time.sleep(0.05)
    latencies = [
        (finished.timestamp() - sent[request_id]) * 1000
        for request_id, finished in deliveries.values_list("event__run__request_id", "finished_at")
        if request_id in sent
    ]
    latencies.sort()
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else p50
    complete = len(latencies) == LATENCY_REQUESTS
    label = f"webhook -> destination ran, {LATENCY_RATE:.0f} req/s"
    return [
        BenchRow(AREA, f"{label}, p50", p50, "ms", "<= 50", complete and p50 <= 50),
        BenchRow(AREA, f"{label}, p99", p99, "ms", "<= 250", complete and p99 <= 250),
    ]


def _deploys(data: dict) -> BenchRow:
    """Deploy button (the view, through the Django test client) -> instance runs it."""
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
            function=function, user=user, code=SOURCE + f"// {n}", base_version_id=None
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
        AREA, "deploy, click -> instance runs it, p50", p50, "ms", "<= 1000", p50 <= 1000
    )
