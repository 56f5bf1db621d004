"""A thread-safe pool of long-lived Node.js workers, supervised from Python.

Each worker (js/worker.js) reads one JSON request per stdin line and writes one JSON reply per
stdout line; it acknowledges every request as soon as it reads it. The supervisor:

- starts workers lazily, with an empty environment and Node's permission model;
- gives each call a hard deadline (timeout + margin); a worker that misses it is killed and
  replaced (this is what stops a busy loop that runs after an `await`);
- replaces a worker that crashes (e.g. on out-of-memory) and reports a clear error;
- retries once on a fresh worker when a request is never acknowledged (the worker was wedged by
  a previous run's leftovers, so the new run never started);
- is safe across fork (Celery prefork): a child process builds its own pools;
- stops every worker at interpreter exit.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import itertools
import json
import os
import queue
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from functions_ui.runtime.types import RuntimeUnavailable

JS_DIR = Path(__file__).resolve().parent / "js"
WORKER_JS = JS_DIR / "worker.js"
BOOTSTRAP_JS = JS_DIR / "bootstrap.js"
PROJECT_DIR = Path(__file__).resolve().parents[2]

MIN_NODE_MAJOR = 20
HARD_TIMEOUT_MARGIN_S = 1.0
ACK_TIMEOUT_S = 2.0
START_TIMEOUT_S = 15.0
ACQUIRE_TIMEOUT_S = 60.0

DEFAULTS: dict[str, Any] = {
    "RUNTIME_WORKERS": min(2, os.cpu_count() or 1),
    "RUNTIME_TIMEOUT_MS": 5000,
    "RUNTIME_MEMORY_MB": 128,
    "RUNTIME_FETCH_ALLOWED_HOSTS": [],
    "RUNTIME_NODE_PATH": "node",
    "RUNTIME_LODASH_PATH": str(PROJECT_DIR / "node_modules" / "lodash" / "lodash.min.js"),
}


def runtime_setting(name: str) -> Any:
    """Read a RUNTIME_* Django setting, falling back to the default (also outside Django)."""
    try:
        from django.conf import settings

        return getattr(settings, name, DEFAULTS[name])
    except Exception:  # settings not configured: library used outside Django
        return DEFAULTS[name]


_node_cache: dict[str, str] = {}
_node_lock = threading.Lock()


def find_node(node_path: str | None = None) -> str:
    """Return the absolute path of a Node.js >= 20 binary or raise RuntimeUnavailable."""
    wanted = node_path or str(runtime_setting("RUNTIME_NODE_PATH"))
    with _node_lock:
        if wanted in _node_cache:
            return _node_cache[wanted]
        found = shutil.which(wanted)
        if not found:
            raise RuntimeUnavailable(
                f"Node.js {MIN_NODE_MAJOR}+ is required to run functions, but {wanted!r} was not "
                "found. Install Node.js 20 LTS or set RUNTIME_NODE_PATH."
            )
        try:
            out = subprocess.run(
                [found, "--version"], capture_output=True, text=True, timeout=15, env={}
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            raise RuntimeUnavailable(
                f"Node.js {MIN_NODE_MAJOR}+ is required to run functions; {found} failed: {exc}"
            ) from exc
        match = re.match(r"v(\d+)\.", out)
        if not match or int(match.group(1)) < MIN_NODE_MAJOR:
            raise RuntimeUnavailable(
                f"Node.js {MIN_NODE_MAJOR}+ is required to run functions; {found} is "
                f"{out or 'an unknown version'}."
            )
        _node_cache[wanted] = found
        return found


# What a worker needs beyond its heap: Node itself, the bootstrap, lodash and I/O buffers.
DATA_LIMIT_HEADROOM_MB = 384


class WorkerCrashed(Exception):
    def __init__(self, message: str, *, oom: bool, started: bool) -> None:
        super().__init__(message)
        self.oom = oom
        self.started = started


class WorkerTimeout(Exception):
    pass


class _NotStarted(Exception):
    """The worker never acknowledged the request: nothing ran, so it is safe to retry."""


class Worker:
    """One node process and the threads that drain its stdout and stderr."""

    def __init__(self, node: str, memory_mb: int, lodash_path: str) -> None:
        args = [
            node,
            "--no-warnings",
            "--experimental-permission",
            f"--allow-fs-read={WORKER_JS}",
            f"--allow-fs-read={BOOTSTRAP_JS}",
        ]
        if lodash_path and Path(lodash_path).is_file():
            args.append(f"--allow-fs-read={lodash_path}")
        else:
            lodash_path = ""
        args += [
            "--disallow-code-generation-from-strings",
            "--frozen-intrinsics",
            f"--max-old-space-size={int(memory_mb)}",
            str(WORKER_JS),
            lodash_path,
        ]
        self.memory_mb = memory_mb
        # --max-old-space-size caps only V8's heap; Buffers and ArrayBuffers live outside it.
        # An OS limit on the worker's data segment makes such allocations fail inside the
        # run (a RangeError) instead of taking the machine's memory.
        prlimit = shutil.which("prlimit")
        if prlimit:
            data_limit = (int(memory_mb) + DATA_LIMIT_HEADROOM_MB) * 1024 * 1024
            args = [prlimit, f"--data={data_limit}", "--", *args]
        try:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={},
                cwd=str(JS_DIR),
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise RuntimeUnavailable(f"could not start the Node.js worker: {exc}") from exc
        self._lines: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._stderr_done = threading.Event()
        threading.Thread(target=self._read_stdout, daemon=True, name="fn-worker-out").start()
        threading.Thread(target=self._read_stderr, daemon=True, name="fn-worker-err").start()
        try:
            line = self._lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            line = None
        if not line or not json.loads(line).get("ready"):
            self.kill()
            self._stderr_done.wait(1.0)
            raise RuntimeUnavailable(
                "the Node.js worker failed to start: " + (self.stderr_tail() or "no output")
            )

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line.decode("utf-8", "replace").rstrip())
        self._stderr_done.set()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr)[-2000:]

    def rss_bytes(self) -> int | None:
        try:
            with open(f"/proc/{self.pid}/status") as fh:
                for row in fh:
                    if row.startswith("VmRSS:"):
                        return int(row.split()[1]) * 1024
        except OSError:
            return None
        return None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.kill()

    def _crashed(self, started: bool) -> WorkerCrashed:
        self.kill()
        self._stderr_done.wait(1.0)
        tail = self.stderr_tail()
        oom = "heap out of memory" in tail or "Reached heap limit" in tail
        return WorkerCrashed(tail or "the worker exited", oom=oom, started=started)

    def request(self, msg: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        rid = msg["id"]
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(msg, ensure_ascii=False).encode() + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError) as exc:
            raise self._crashed(started=False) from exc
        acked = False
        while True:
            try:
                line = self._lines.get(timeout=timeout_s if acked else ACK_TIMEOUT_S)
            except queue.Empty:
                self.kill()
                if not acked:
                    raise _NotStarted() from None
                raise WorkerTimeout() from None
            if line is None:
                raise self._crashed(started=acked)
            reply = json.loads(line)
            if reply.get("id") != rid:
                continue  # a late line from an earlier request
            if reply.get("ack"):
                acked = True
                continue
            return reply


class WorkerPool:
    """N workers with the same memory cap; callers borrow one worker per call."""

    def __init__(
        self,
        size: int,
        memory_mb: int,
        node_path: str | None = None,
        lodash_path: str | None = None,
    ) -> None:
        self.size = max(1, int(size))
        self.memory_mb = int(memory_mb)
        self.node_path = node_path
        self.lodash_path = lodash_path or str(runtime_setting("RUNTIME_LODASH_PATH") or "")
        self._slots: queue.LifoQueue[Worker | None] = queue.LifoQueue()
        for _ in range(self.size):
            self._slots.put(None)
        self._workers: set[Worker] = set()
        self._lock = threading.Lock()
        self._closed = False

    def _spawn(self) -> Worker:
        worker = Worker(find_node(self.node_path), self.memory_mb, self.lodash_path)
        with self._lock:
            self._workers.add(worker)
        return worker

    def _forget(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)

    def _refill(self) -> None:
        """Start a replacement worker in the background so the next caller finds it warm."""

        def spawn() -> None:
            worker: Worker | None = None
            try:
                if not self._closed:
                    worker = self._spawn()
            except Exception:
                worker = None
            finally:
                self._slots.put(worker)

        threading.Thread(target=spawn, daemon=True, name="fn-worker-respawn").start()

    def request(self, msg: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send one request to a free worker and return its reply.

        Raises WorkerTimeout, WorkerCrashed or RuntimeUnavailable.
        """
        for attempt in range(2):
            try:
                worker = self._slots.get(timeout=ACQUIRE_TIMEOUT_S)
            except queue.Empty:
                raise RuntimeUnavailable("all function workers are busy; try again") from None
            healthy = False
            try:
                if worker is None or not worker.alive:
                    if worker is not None:
                        self._forget(worker)
                    worker = None
                    worker = self._spawn()
                reply = worker.request(msg, timeout_s)
                healthy = True
                return reply
            except _NotStarted:
                if attempt == 1:
                    raise WorkerTimeout() from None
            except WorkerCrashed as exc:
                if not exc.started and attempt == 0:
                    continue
                raise
            finally:
                if healthy:
                    self._slots.put(worker)
                elif worker is None:
                    self._slots.put(None)
                else:
                    self._forget(worker)
                    self._refill()
        raise WorkerTimeout()

    def warm_up(self) -> None:
        """Start every worker now instead of on first use."""
        taken = [self._slots.get() for _ in range(self.size)]
        try:
            for i, worker in enumerate(taken):
                if worker is None:
                    taken[i] = self._spawn()
        finally:
            for worker in taken:
                self._slots.put(worker)

    def worker_rss_bytes(self) -> list[int]:
        with self._lock:
            workers = list(self._workers)
        return [rss for w in workers if w.alive and (rss := w.rss_bytes()) is not None]

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.close()


_pools: dict[int, WorkerPool] = {}
_pools_pid = os.getpid()
_pools_lock = threading.Lock()
_ids = itertools.count(1)


def next_request_id() -> int:
    return next(_ids)


def get_pool(memory_mb: int | None = None) -> WorkerPool:
    """The process-wide pool for a memory cap (one pool per distinct cap)."""
    global _pools, _pools_pid
    mb = int(memory_mb or runtime_setting("RUNTIME_MEMORY_MB"))
    with _pools_lock:
        if os.getpid() != _pools_pid:
            # Forked (e.g. a Celery prefork child): the parent's workers are not ours to use.
            _pools = {}
            _pools_pid = os.getpid()
        pool = _pools.get(mb)
        if pool is None:
            pool = WorkerPool(int(runtime_setting("RUNTIME_WORKERS")), mb)
            _pools[mb] = pool
        return pool


def shutdown() -> None:
    """Stop every worker started by this process."""
    global _pools
    with _pools_lock:
        if os.getpid() != _pools_pid:
            return
        pools = list(_pools.values())
        _pools = {}
    for pool in pools:
        pool.close()


atexit.register(shutdown)
