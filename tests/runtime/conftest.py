from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from functions_ui.runtime import RunOptions, RunResult, run_function


def run_dest(code: str, event: Any = None, settings: dict | None = None, **opts: Any) -> RunResult:
    return run_function(
        code=code,
        function_type="destination",
        payload={"type": "track", "userId": "u1", "event": "E"} if event is None else event,
        settings=settings or {},
        options=RunOptions(**opts),
    )


def run_body(body: str, **opts: Any) -> RunResult:
    """Run `body` as the inside of an async onTrack(event, settings)."""
    return run_dest(f"async function onTrack(event, settings) {{\n{body}\n}}", **opts)


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if self.path.startswith("/redirect"):
            target = self.path.split("to=", 1)[1]
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()
            return
        if self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1])
            self.send_response(code)
            self.end_headers()
            return
        payload = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "body": body,
                "contentType": self.headers.get("content-type"),
                "auth": self.headers.get("authorization"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Test", "yes")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _reply


@pytest.fixture(scope="session")
def http_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _KeepAliveHandler(http.server.BaseHTTPRequestHandler):
    """Answers 200 on connections kept open, noting the client port of each request."""

    protocol_version = "HTTP/1.1"
    client_ports: list[int] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.client_ports.append(self.client_address[1])
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST


@pytest.fixture
def keep_alive_server() -> Iterator[tuple[str, list[int]]]:
    """A local HTTP/1.1 server and the client port each request it took came from."""
    ports: list[int] = []
    handler = type("Handler", (_KeepAliveHandler,), {"client_ports": ports})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", ports
    server.shutdown()
