"""Long-lived Node.js workers, one set per workspace, supervised from Python.

Each worker (js/worker.js) reads one JSON request per stdin line and writes one JSON reply per
stdout line. Inside a worker, each function
runs in its own V8 isolate (isolated-vm). The supervisor:

- keys workers by workspace: a worker only ever runs one workspace's code, so no memory, timer
  or thread of one tenant's process can meet another tenant's run;
- bounds the total number of workers per Python process and the number one workspace may hold,
  so one workspace's flood waits for its own workers while others keep theirs; an idle worker of
  the least recently served workspace is retired to make room;
- keeps a spare worker started ahead (RUNTIME_SPARE_WORKERS), one no workspace has used, so a
  workspace whose worker was retired gets a ready process instead of waiting for one to start;
  it starts every worker with an empty environment and Node's permission model;
- closes a worker left idle for RUNTIME_WORKER_IDLE_SECONDS, so memory follows the workspaces
  in use;
- gives each call a hard deadline (timeout + margin); a worker that misses it is killed and
  replaced (the last line behind the isolate's own time limit);
- replaces a worker that crashes and reports a clear error;
- retries once on a fresh worker when a request cannot even be written (the worker had died);
- is safe across fork (Celery prefork): a child process builds its own pools;
- stops every worker at interpreter exit.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import itertools
import json
import logging
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from functions_ui.runtime.types import (
    BATCH_HANDLER,
    HANDLER_BY_EVENT_TYPE,
    SOURCE_HANDLER,
    RuntimeUnavailable,
)

log = logging.getLogger(__name__)

JS_DIR = Path(__file__).resolve().parent / "js"
WORKER_JS = JS_DIR / "worker.js"
NETPOLICY_JS = JS_DIR / "netpolicy.js"
PROJECT_DIR = Path(__file__).resolve().parents[2]
# Built by `make` (esbuild) from js/sandbox/: the runtime that lives inside each isolate.
SANDBOX_JS = JS_DIR / "build" / "sandbox.js"
ISOLATED_VM_DIR = PROJECT_DIR / "node_modules" / "isolated-vm"

MIN_NODE_MAJOR = 20
HARD_TIMEOUT_MARGIN_S = 1.0
START_TIMEOUT_S = 15.0
ACQUIRE_TIMEOUT_S = 60.0
# The worker's own heap holds only requests and replies; user code has the isolate's heap.
HOST_HEAP_MB = 96
DEFAULT_TENANT = "_default"

DEFAULTS: dict[str, Any] = {
    "RUNTIME_WORKERS": 128,
    "RUNTIME_SPARE_WORKERS": 1,
    "RUNTIME_WORKER_IDLE_SECONDS": 300,
    "RUNTIME_WORKERS_PER_WORKSPACE": min(2, os.cpu_count() or 1),
    "RUNTIME_WARM_MB": 16,
    "RUNTIME_TIMEOUT_MS": 5000,
    "RUNTIME_MEMORY_MB": 128,
    "RUNTIME_FETCH_ALLOWED_HOSTS": [],
    "RUNTIME_NODE_PATH": "node",
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


# What a worker needs beyond its heaps: Node itself, isolated-vm, the sandbox bundle, I/O buffers.
DATA_LIMIT_HEADROOM_MB = 384


# JavaScript strings may hold half of a surrogate pair, which JSON.stringify writes as "\ud800"
# (a whole pair travels as its UTF-8 character). Python reads it into a str that no page, log or
# database can encode, so such halves become U+FFFD on the way in.
_LONE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {
            _without_lone_surrogates(key): _without_lone_surrogates(item)
            for key, item in value.items()
        }
    return value


class WorkerCrashed(Exception):
    def __init__(self, message: str, *, oom: bool, started: bool) -> None:
        super().__init__(message)
        self.oom = oom
        self.started = started


class WorkerTimeout(Exception):
    pass


class Worker:
    """One node process of one workspace, and the threads that drain its stdout and stderr."""

    def __init__(self, node: str, memory_mb: int, tenant: str | None, warm_mb: int) -> None:
        if not SANDBOX_JS.is_file() or not ISOLATED_VM_DIR.is_dir():
            raise RuntimeUnavailable(
                "the function sandbox is not built: run `make setup` (it installs isolated-vm "
                "and bundles js/sandbox/ into js/build/sandbox.js)"
            )
        self.tenant = tenant
        self.last_used = time.monotonic()
        config = {
            "sandbox": str(SANDBOX_JS),
            "isolatedVm": str(ISOLATED_VM_DIR),
            "memoryMb": int(memory_mb),
            "warmMb": int(warm_mb),
            "handlers": {
                "byEventType": HANDLER_BY_EVENT_TYPE,
                "source": SOURCE_HANDLER,
                "batch": BATCH_HANDLER,
            },
        }
        args = [
            node,
            "--no-warnings",
            # isolated-vm needs this on Node 20 (its isolates cannot start from Node's snapshot).
            "--no-node-snapshot",
            "--experimental-permission",
            f"--allow-fs-read={JS_DIR}",
            f"--allow-fs-read={ISOLATED_VM_DIR}",
            "--allow-addons",
            "--disallow-code-generation-from-strings",
            f"--max-old-space-size={HOST_HEAP_MB}",
            str(WORKER_JS),
            json.dumps(config),
        ]
        self.memory_mb = memory_mb
        # The isolate's memory limit (a run's memory and the warm functions' budget) covers its
        # heap and its ArrayBuffers; the OS limit on the data segment is the backstop for the
        # process as a whole.
        prlimit = shutil.which("prlimit")
        if prlimit:
            data_limit = (
                (HOST_HEAP_MB + int(memory_mb) + int(warm_mb) + DATA_LIMIT_HEADROOM_MB)
                * 1024
                * 1024
            )
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
            # The details name server paths: they go to the log, not to the person running.
            log.error("the Node.js worker failed to start: %s", self.stderr_tail() or "no output")
            raise RuntimeUnavailable("the function runtime could not start (see the server log)")

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
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise WorkerTimeout() from None
            if line is None:
                raise self._crashed(started=True)
            try:
                reply = json.loads(line)
                if _LONE_SURROGATE.search(line):
                    reply = _without_lone_surrogates(reply)
            except (RecursionError, ValueError):
                # Only a run's reply can fail to parse (nested deeper than Python reads).
                return {
                    "id": rid,
                    "status": "bad_request",
                    "error": {
                        "name": "OutputTooDeep",
                        "message": "The function's output is nested too deeply to be read",
                        "stack": "",
                    },
                }
            if reply.get("id") != rid:
                continue  # a late line from an earlier request
            answer: dict[str, Any] = reply
            return answer


class WorkerPool:
    """Workers keyed by workspace: at most `size` in all, at most `per_tenant` for one workspace.

    A caller borrows one worker of its workspace per call. When its workspace has none free and
    may have another, an idle worker of another workspace (the least recently used) is retired to
    make room; otherwise the caller waits for one of its own workspace's workers.
    """

    def __init__(
        self,
        size: int,
        memory_mb: int,
        node_path: str | None = None,
        per_tenant: int | None = None,
        warm_mb: int | None = None,
        spares: int | None = None,
        idle_seconds: float | None = None,
    ) -> None:
        self.size = max(1, int(size))
        self.per_tenant = max(1, min(self.size, int(per_tenant or self.size)))
        self.memory_mb = int(memory_mb)
        self.warm_mb = max(1, int(warm_mb or runtime_setting("RUNTIME_WARM_MB")))
        self.node_path = node_path
        if spares is None:
            spares = int(runtime_setting("RUNTIME_SPARE_WORKERS"))
        self.spares = max(0, spares)
        self.idle_seconds = float(
            runtime_setting("RUNTIME_WORKER_IDLE_SECONDS") if idle_seconds is None else idle_seconds
        )
        # Started ahead, never given a request yet: any workspace may take one.
        self._spare: list[Worker] = []
        self._spares_starting = 0
        self._swept = time.monotonic()
        self._idle: dict[str, list[Worker]] = collections.defaultdict(list)
        self._count: collections.Counter[str] = collections.Counter()
        self._total = 0
        self._cond = threading.Condition()
        self._closed = False

    def _take(self, tenant: str) -> Worker | None:
        """A free worker of the tenant, or None when the caller may start one (a slot is held)."""
        deadline = time.monotonic() + ACQUIRE_TIMEOUT_S
        with self._cond:
            while True:
                idle = self._idle[tenant]
                while idle:
                    worker = idle.pop()
                    if worker.alive:
                        return worker
                    self._release_slot(tenant)
                if self._count[tenant] < self.per_tenant:
                    if self._total >= self.size:
                        self._retire_idle_other(tenant)
                    if self._total < self.size:
                        self._count[tenant] += 1
                        self._total += 1
                        return None
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeUnavailable("all function workers are busy; try again")
                self._cond.wait(left)

    def _retire_idle_other(self, tenant: str) -> None:
        oldest: Worker | None = None
        for other, workers in self._idle.items():
            if other == tenant:
                continue
            for worker in workers:
                if oldest is None or worker.last_used < oldest.last_used:
                    oldest = worker
        if oldest is not None and oldest.tenant is not None:
            self._idle[oldest.tenant].remove(oldest)
            self._release_slot(oldest.tenant)
            threading.Thread(target=oldest.close, daemon=True, name="fn-worker-retire").start()

    def _release_slot(self, tenant: str) -> None:
        self._count[tenant] -= 1
        self._total -= 1
        if self._count[tenant] <= 0:
            del self._count[tenant]
        self._cond.notify_all()

    def _give_back(self, tenant: str, worker: Worker | None, healthy: bool) -> None:
        keep = healthy and worker is not None and not self._closed
        with self._cond:
            if keep and worker is not None:
                worker.last_used = time.monotonic()
                self._idle[tenant].append(worker)
                self._cond.notify_all()
                stale = self._stale_idle()
            else:
                self._release_slot(tenant)
                stale = []
        if worker is not None and not keep:
            worker.kill()
        for old in stale:
            old.close()

    def _stale_idle(self) -> list[Worker]:
        """Under the lock, at most every few seconds: idle workers unused for idle_seconds, taken
        out of the pool (the caller closes them)."""
        now = time.monotonic()
        if now - self._swept < min(10.0, self.idle_seconds):
            return []
        self._swept = now
        stale = []
        for tenant, workers in list(self._idle.items()):
            for worker in [w for w in workers if now - w.last_used > self.idle_seconds]:
                workers.remove(worker)
                self._release_slot(tenant)
                stale.append(worker)
        return stale

    def _new_worker(self, tenant: str) -> Worker:
        """A worker for the tenant: a spare when one is ready (then another is started behind
        it), else one started now."""
        with self._cond:
            while self._spare:
                spare = self._spare.pop()
                if spare.alive:
                    spare.tenant = tenant
                    break
                spare.kill()
            else:
                spare = None
        self._start_spares()
        if spare is not None:
            return spare
        return Worker(find_node(self.node_path), self.memory_mb, tenant, self.warm_mb)

    def _start_spares(self) -> None:
        with self._cond:
            wanted = self.spares - len(self._spare) - self._spares_starting
            if wanted <= 0 or self._closed:
                return
            self._spares_starting += wanted
        for _ in range(wanted):
            threading.Thread(target=self._start_spare, daemon=True, name="fn-worker-spare").start()

    def _start_spare(self) -> None:
        worker: Worker | None = None
        try:
            worker = Worker(find_node(self.node_path), self.memory_mb, None, self.warm_mb)
        except RuntimeUnavailable:
            log.warning("a spare function worker could not start", exc_info=True)
        with self._cond:
            self._spares_starting -= 1
            if worker is not None and not self._closed:
                self._spare.append(worker)
                worker = None
        if worker is not None:
            worker.close()

    def request(
        self, msg: dict[str, Any], timeout_s: float, tenant: str = DEFAULT_TENANT
    ) -> dict[str, Any]:
        """Send one request to a free worker of the tenant and return its reply.

        Raises WorkerTimeout, WorkerCrashed or RuntimeUnavailable.
        """
        for attempt in range(2):
            worker = self._take(tenant)
            healthy = False
            try:
                if worker is None:
                    worker = self._new_worker(tenant)
                reply = worker.request(msg, timeout_s)
                healthy = True
                return reply
            except WorkerCrashed as exc:
                if not exc.started and attempt == 0:
                    continue
                raise
            finally:
                self._give_back(tenant, worker, healthy)
        raise WorkerTimeout()

    def warm_up(self, tenant: str = DEFAULT_TENANT) -> None:
        """Start the tenant's workers now instead of on first use."""
        for _ in range(self.per_tenant):
            self.request({"op": "ping", "id": next_request_id()}, START_TIMEOUT_S, tenant)

    def worker_rss_bytes(self, tenant: str | None = None) -> list[int]:
        with self._cond:
            workers = [
                w for t, ws in self._idle.items() if tenant in (None, t) for w in ws if w.alive
            ]
        return [rss for w in workers if (rss := w.rss_bytes()) is not None]

    def worker_pids(self, tenant: str) -> list[int]:
        """The process ids of the tenant's workers not serving a call now."""
        with self._cond:
            return [w.pid for w in self._idle.get(tenant, []) if w.alive]

    def spare_pids(self) -> list[int]:
        """The process ids of the spares started ahead, ready for any workspace."""
        with self._cond:
            return [w.pid for w in self._spare if w.alive]

    def tenants(self) -> dict[str, int]:
        """How many workers each workspace holds (busy or idle)."""
        with self._cond:
            return dict(self._count)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers = [w for ws in self._idle.values() for w in ws] + self._spare
            self._idle.clear()
            self._spare = []
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
            pool = WorkerPool(
                int(runtime_setting("RUNTIME_WORKERS")),
                mb,
                per_tenant=int(runtime_setting("RUNTIME_WORKERS_PER_WORKSPACE")),
            )
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
