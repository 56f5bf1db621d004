"""Pieces of the fault tests (test_faults.py): a local HTTP sink, a Redis that can be stopped
and started again on the same port, the real web server as a subprocess, and the accounting
that says whether every accepted webhook ended delivered, none twice.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from functions_ui.deploys.models import (
    FINAL_RUN_STATUSES,
    Delivery,
    RunStatus,
    SourceEvent,
    SourceRun,
    WebhookRequest,
)
from functions_ui.devserver.redis_server import RedisServer, free_port, redis_reachable
from tests.deploys.workers import WorkerProcess, eventually

BASE_DIR = Path(__file__).resolve().parents[2]

# A destination that sends every event to the sink; any answer but 2xx is a retry.
SINK_DESTINATION = """
async function onTrack(event, settings) {
  const res = await fetch('%(url)s', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ messageId: event.messageId, n: event.properties.n }),
  });
  if (!res.ok) throw new RetryError('the sink answered ' + res.status);
}
"""

# Worker environment of the fault tests: a short lease (a dead worker's claim is taken back
# after 3 s), the sweep every half second, and the sink reachable from user code.
WORKER_ENV = {
    "PIPELINE_LEASE_SECONDS": "3",
    "PIPELINE_SWEEP_SECONDS": "0.5",
    "RUNTIME_FETCH_ALLOWED_HOSTS": "127.0.0.1",
}


def with_beat(schedule: Path) -> str:
    """Worker setup code (workers.WORKER_SCRIPT's `setup`): embed Celery beat, as `make run`
    does, so the sweep runs from settings.CELERY_BEAT_SCHEDULE every PIPELINE_SWEEP_SECONDS."""
    return f"sys.argv += ['--beat', '--schedule', {str(schedule)!r}]\n"


# Worker setup code: stop the worker in the middle of a delivery batch, once it holds
# TEST_STOP_AT outcomes not recorded yet (their events have reached the sink), say so over
# Redis and hang there until the test kills it. Outcomes are then written every
# PIPELINE_COMMIT_EVERY only (not also every COMMIT_INTERVAL_S), so the point is reached.
STOP_MID_DELIVERIES = """
import redis
from functions_ui.deploys import deliveries
deliveries.COMMIT_INTERVAL_S = 3600
_write = deliveries._Batch.write
_stopped = []
def _stopping_write(self):
    if not _stopped and len(self.pending) >= int(os.environ["TEST_STOP_AT"]):
        _stopped.append(True)
        client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=None)
        client.rpush("test:stopped", len(self.pending))
        client.blpop("test:never", timeout=0)
    _write(self)
deliveries._Batch.write = _stopping_write
"""

# Worker setup code: stop the worker after a source batch ran, before it is recorded.
STOP_MID_SOURCES = """
import redis
from functions_ui.deploys import sources
_record = sources._record
_stopped = []
def _stopping_record(**kwargs):
    if not _stopped:
        _stopped.append(True)
        client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=None)
        client.rpush("test:stopped", len(kwargs["ran"]))
        client.blpop("test:never", timeout=0)
    return _record(**kwargs)
sources._record = _stopping_record
"""


class Sink:
    """A threading HTTP server on 127.0.0.1 recording the messageId of every JSON body."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    message_id = str(json.loads(body).get("messageId"))
                except (ValueError, AttributeError):
                    message_id = "<unreadable>"
                with sink._lock:
                    sink.received.append(message_id)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Sink:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)

    def counts(self) -> Counter:
        with self._lock:
            return Counter(self.received)


class RestartableRedis(RedisServer):
    """A test Redis that can be stopped and started again on the same port and data directory.

    Like RedisServer it keeps nothing on disk, so a stop loses what the broker held (queued
    tasks, unacknowledged ones, doorbell flags): the worst case the pipeline must survive.
    """

    def stop(self) -> None:
        """Stop the server only; start() brings it back on the same port."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        assert not redis_reachable(self.url, timeout=0.2)

    def close(self) -> None:
        super().stop()


class WebServer:
    """The real web server (gunicorn, as in production) on the test database and Redis."""

    def __init__(self, *, redis_url: str, workers: int = 2) -> None:
        self.port = free_port()
        # The workers' environment: the test database (whichever engine), Redis, the keys.
        self.env = WorkerProcess(redis_url, "web").env
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def start(self) -> WebServer:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.process = subprocess.Popen(
            [
                gunicorn,
                "functions_ui.wsgi:application",
                "--config",
                "python:functions_ui.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own process group: a kill takes the master and its workers together.
            start_new_session=True,
        )
        eventually(self.answers, timeout=30)
        return self

    def answers(self) -> bool:
        """The server answers an HTTP request (any status)."""
        assert self.process is not None and self.process.poll() is None, "gunicorn exited"
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            connection.request("GET", "/hooks/none-such")
            connection.getresponse().read()
            connection.close()
            return True
        except OSError:
            return False

    def _signal(self, sig: int) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            self.process.wait(timeout=15)

    def kill(self) -> None:
        """SIGKILL the master and its workers (their process group) at once: a crash."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        try:
            self._signal(signal.SIGTERM)
        except subprocess.TimeoutExpired:
            self.kill()


def post_webhook(port: int, path: str, body: dict) -> str | None:
    """POST one webhook over HTTP: its requestId when answered 200, else None (the sender
    would send it again)."""
    data = json.dumps(body).encode()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", path, data, {"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = response.read()
        connection.close()
    except (OSError, http.client.HTTPException):
        return None
    if response.status != 200:
        return None
    return json.loads(answer)["requestId"]


def message_ids_of(deliveries) -> set[str]:
    return {d.event.payload["messageId"] for d in deliveries.select_related("event")}


def settled() -> bool:
    """No webhook request waits and no delivery is still to be made (the pipeline is idle)."""
    return (
        not WebhookRequest.objects.exists()
        and not Delivery.objects.exclude(status__in=FINAL_RUN_STATUSES).exists()
    )


def assert_all_delivered(
    accepted: list[str], sink: Sink, *, in_flight: set[str], timeout: float = 60
) -> dict[str, int]:
    """Every accepted request ends with a final run, one event, and its delivery made once
    (or failed with a reason); the sink got every delivered messageId, and more than once only
    those in flight when the fault hit. Returns the figures the report needs."""
    assert len(set(accepted)) == len(accepted)
    eventually(settled, timeout=timeout)
    accepted_set = set(accepted)
    runs = {r.request_id: r for r in SourceRun.objects.filter(request_id__in=accepted_set)}
    missing = accepted_set - set(runs)
    assert not missing, f"{len(missing)} accepted requests have no run, e.g. {sorted(missing)[:3]}"
    not_final = [r for r in runs.values() if r.status not in FINAL_RUN_STATUSES]
    assert not not_final, f"runs not final: {not_final[:3]}"
    failed_runs = [r for r in runs.values() if r.status != RunStatus.DELIVERED]
    assert all(r.category and r.error for r in failed_runs), failed_runs[:3]
    events = SourceEvent.objects.filter(run__request_id__in=accepted_set)
    assert events.count() == sum(r.event_count for r in runs.values())
    deliveries = Delivery.objects.filter(event__run__request_id__in=accepted_set)
    # One destination: one delivery per event (the database also refuses a second one).
    assert deliveries.count() == events.count()
    failed = deliveries.exclude(status=RunStatus.DELIVERED)
    assert all(d.category and d.error for d in failed), list(failed[:3])
    delivered = message_ids_of(deliveries.filter(status=RunStatus.DELIVERED))
    counts = sink.counts()
    unsent = delivered - set(counts)
    assert not unsent, f"{len(unsent)} delivered events never reached the sink"
    repeated = {message_id for message_id, n in counts.items() if n > 1}
    assert repeated <= in_flight, (
        f"repeated at the sink but not in flight when the fault hit: {sorted(repeated - in_flight)}"
    )
    return {
        "accepted": len(accepted),
        "runs_failed": len(failed_runs),
        "delivered": len(delivered),
        "deliveries_failed": failed.count(),
        "in_flight": len(in_flight),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
    }
