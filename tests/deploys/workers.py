"""Real workers for tests: a file database, Celery pointed at a real Redis, worker processes.

Integration and browser tests run a real Celery worker in a subprocess (no eager mode),
which must see the test database: an in-memory SQLite database is invisible to it, so
importing this module (from a conftest or a test module, at collection time, before the
test database exists) moves the session's test database to a file under .var/. It is
created once per session, and only transactional tests commit to it. On PostgreSQL the
workers connect to the test database pytest-django made (`test_<name>`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.conftest import TEST_SECRETS_KEY

BASE_DIR = Path(__file__).resolve().parents[2]
_db = settings.DATABASES["default"]
if _db["ENGINE"].endswith("sqlite3"):
    # .var/ is ignored by git, so a fresh clone does not have it yet.
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    _db.setdefault("TEST", {})["NAME"] = str(
        Path(settings.VAR_DIR) / f"test-deploys-{os.getpid()}.sqlite3"
    )


# A worker started from Python, so a test can patch the code it runs (say, to stop it in
# the middle of a deploy). Unacknowledged tasks of a killed worker come back to the queue
# after TEST_VISIBILITY_TIMEOUT seconds, checked every half second.
WORKER_SCRIPT = """
import os, sys
from functions_ui.celery import app
import django
django.setup()
app.conf.broker_transport_options = {{
    "visibility_timeout": float(os.environ.get("TEST_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 0.5,
    "unacked_restore_throttle": 1,
}}
{setup}
app.worker_main(sys.argv[1:])
"""


def test_database_url() -> str:
    """A DATABASE_URL naming the test database; only valid once the test database exists
    (pytest-django puts its name into the settings when it creates it)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    if not db["ENGINE"].endswith("postgresql"):
        raise NotImplementedError(f"Test workers cannot run on {db['ENGINE']}.")
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{db.get('HOST') or ''}{port}/{quote(db['NAME'], safe='')}"


class WorkerProcess:
    """A real `celery worker` subprocess on the test database and the test Redis."""

    def __init__(self, redis_url: str, name: str, **env: str) -> None:
        self.env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "DATABASE_URL": test_database_url(),
            "SECRETS_ENCRYPTION_KEYS": TEST_SECRETS_KEY,
            "RUNTIME_WORKERS": "1",
            **env,
        }
        self.name = name
        self.process: subprocess.Popen | None = None

    def start(self, *, setup: str = "") -> WorkerProcess:
        argv = [
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"{self.name}@%h",
        ]
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT.format(setup=setup), *argv],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(celery_on_redis):
    """Start real worker subprocesses; each is stopped after the test."""
    workers: list[WorkerProcess] = []

    def start(name: str = "deploys", setup: str = "", **env: str) -> WorkerProcess:
        worker = WorkerProcess(celery_on_redis.url, f"{name}-{len(workers)}", **env)
        workers.append(worker.start(setup=setup))
        return worker

    yield start
    for worker in workers:
        worker.stop()


def eventually(check, *, timeout: float = 30.0, interval: float = 0.05):
    """Return check()'s first truthy answer, polling until the timeout; never a fixed wait."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Not true after {timeout} s: {check.__doc__ or check}")
        threading.Event().wait(interval)


def wait_for_worker(timeout: float = 30) -> None:
    """Return once a worker answers a ping task (event-driven: the result arrives)."""
    from functions_ui.celery import ping

    assert ping.apply_async(expires=timeout).get(timeout=timeout) == "pong"
