"""run_many: one code over many payloads in shared round trips, each run on its own."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

import pytest
from django.views.debug import ExceptionReporter

from functions_ui.runtime import RunOptions, run_function, run_many
from functions_ui.runtime import api as runtime_api
from functions_ui.runtime.masking import MASK
from functions_ui.runtime.pool import WorkerPool
from functions_ui.runtime.types import SOURCE_BODY_LIMIT

MIXED = """
async function onTrack(event, settings) {
  console.log('saw', event.n);
  if (event.n === 1) throw new DropEvent('not this one');
  if (event.n === 2) throw new RetryError('later');
  if (event.n === 3) return { token: settings.token };
  return { n: event.n * 10 };
}
"""


S = "success"


def track(n: int) -> dict:
    return {"type": "track", "event": "E", "n": n}


def test_each_payload_gets_its_own_result_in_order() -> None:
    results = run_many(
        code=MIXED,
        function_type="destination",
        payloads=[track(n) for n in range(60)],
        settings={"token": "s3cret-token"},
        options=RunOptions(secret_values=["s3cret-token"]),
    )
    assert len(results) == 60
    assert [r.status for r in results[:5]] == ["success", "dropped", "retry", "success", "success"]
    assert results[0].result == {"n": 0}
    assert results[59].result == {"n": 590}
    # The secret a run returned is masked, as in run_function.
    assert results[3].result == {"token": MASK}
    # Each run's console is its own.
    assert [r.logs[0]["message"] for r in results[:3]] == ["saw 0", "saw 1", "saw 2"]
    assert all(len(r.logs) == 1 for r in results)


def test_the_same_as_one_run_at_a_time() -> None:
    payloads = [track(n) for n in range(5)]
    alone = [
        run_function(code=MIXED, function_type="destination", payload=p, settings={"token": "t"})
        for p in payloads
    ]
    together = run_many(
        code=MIXED, function_type="destination", payloads=payloads, settings={"token": "t"}
    )
    shape = [(r.status, r.category, r.result, r.error and r.error["name"]) for r in alone]
    assert [(r.status, r.category, r.result, r.error and r.error["name"]) for r in together] == (
        shape
    )


def run_tracks(code: str, count: int, **options) -> list:
    """Run destination code over `count` track events with run_many."""
    return run_many(
        code=code,
        function_type="destination",
        payloads=[track(n) for n in range(count)],
        settings={},
        options=RunOptions(**options),
    )


def test_a_run_that_times_out_fails_alone() -> None:
    code = """
    async function onTrack(event) {
      if (event.n === 1) { while (true) {} }
      return event.n;
    }
    """
    results = run_tracks(code, 4, timeout_ms=300)
    assert [r.status for r in results] == ["success", "timeout", "success", "success"]
    assert [r.result for r in results if r.status == "success"] == [0, 2, 3]


def test_runs_past_the_budget_go_in_the_next_round_trip(monkeypatch) -> None:
    """Each run waits 150 ms and a round trip starts none after 300 ms (its run time limit): the
    runs need several round trips, and every one of them ends with its result."""
    trips = []
    request = WorkerPool.request

    def counting(self, msg, timeout_s, tenant="_default"):
        reply = request(self, msg, timeout_s, tenant)
        if msg.get("op") == "runMany":
            trips.append(len(reply["results"]))
        return reply

    monkeypatch.setattr(WorkerPool, "request", counting)
    code = "async function onTrack(e) { await new Promise(r => setTimeout(r, 150)); return e.n }"
    results = run_tracks(code, 6, timeout_ms=300)
    assert [r.result for r in results] == [0, 1, 2, 3, 4, 5]
    assert len(trips) >= 2
    assert sum(trips) == 6


def _worker_pids() -> set[int]:
    """Node.js runtime processes on this machine."""
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as fh:
                if b"worker.js" in fh.read():
                    pids.add(int(entry))
    return pids


@pytest.fixture
def pool_without_spares(monkeypatch):
    """The project's pool but with no spare started ahead: every new process is the run's own."""
    from functions_ui.runtime import pool as pool_module

    pool = pool_module.WorkerPool(
        4, int(pool_module.runtime_setting("RUNTIME_MEMORY_MB")), per_tenant=2, spares=0
    )
    monkeypatch.setattr(pool_module, "_pools", {pool.memory_mb: pool})
    yield pool
    pool.close()


def test_a_worker_killed_mid_round_trip_costs_no_outcome(
    keep_alive_server, pool_without_spares
) -> None:
    """The Node.js process is SIGKILLed while the first run of a round trip waits (its request
    reached the server): the round trip's payloads run again one by one, on a new process, and
    each ends with its result."""
    url, requests_seen = keep_alive_server
    before = _worker_pids()
    killed: list[int] = []

    def kill_the_new_worker() -> None:
        deadline = time.monotonic() + 20
        while not requests_seen and time.monotonic() < deadline:
            time.sleep(0.005)
        killed.extend(_worker_pids() - before)
        for pid in killed:
            os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_the_new_worker)
    killer.start()
    code = f"""
    async function onTrack(event) {{
      if (event.n === 0) {{
        await fetch('{url}/first');
        await new Promise((r) => setTimeout(r, 1000));
      }}
      return event.n;
    }}
    """
    results = run_tracks(code, 3, workspace="killed-mid-round-trip", allowed_hosts=["127.0.0.1"])
    killer.join()
    assert killed
    assert not _worker_pids() & set(killed)
    assert [(r.status, r.result) for r in results] == [(S, 0), (S, 1), (S, 2)]
    assert len(requests_seen) == 2  # the first run's request, then its run alone


def test_an_answer_too_deep_to_read_costs_only_its_own_outcome() -> None:
    """One output nested deeper than Python reads spoils the round trip's answer line: the
    payloads run again one by one, and only that one fails."""
    code = """
    async function onTrack(event) {
      if (event.n !== 1) return event.n;
      const deep = {}; let cur = deep;
      for (let i = 0; i < 1500; i++) { cur.a = {}; cur = cur.a; }
      return deep;
    }
    """
    results = run_tracks(code, 3)
    assert [r.status for r in results] == ["success", "bad_request", "success"]
    assert results[1].error["name"] == "OutputTooDeep"
    assert [results[0].result, results[2].result] == [0, 2]


def test_an_oversized_source_body_is_refused_alone() -> None:
    code = "async function onRequest(request) { Segment.track({ event: 'E', userId: 'u' }) }"
    results = run_many(
        code=code,
        function_type="source",
        payloads=[{"body": "{}"}, {"body": "x" * (SOURCE_BODY_LIMIT + 1)}, {"body": "{}"}],
        settings={},
    )
    assert [r.status for r in results] == ["success", "bad_request", "success"]
    assert results[1].error["name"] == "PayloadTooLarge"
    assert [len(r.events) for r in results] == [1, 0, 1]


@pytest.mark.parametrize("count", [0, 1, runtime_api.MANY_MAX_RUNS + 1])
def test_any_number_of_payloads(count: int) -> None:
    results = run_many(
        code=MIXED,
        function_type="destination",
        payloads=[track(10 + n) for n in range(count)],
        settings={},
    )
    assert [r.result for r in results] == [{"n": (10 + n) * 10} for n in range(count)]


@pytest.mark.parametrize("many", [False, True], ids=["run_function", "run_many"])
def test_an_error_report_from_mid_run_hides_the_settings(monkeypatch, many) -> None:
    """Django's error report of a failure inside a run (here: the pool raising unexpectedly)
    lists the frames' variables; none of them shows the function's settings."""

    def broken(self, msg, timeout_s, tenant="_default"):
        raise RuntimeError("the pool broke")

    monkeypatch.setattr(WorkerPool, "request", broken)
    # A key Django's own filter does not hide by its name (it hides "token", "key", ...).
    settings = {"region": "s3cret-token"}
    try:
        if many:
            run_many(
                code=MIXED, function_type="destination", payloads=[track(1)], settings=settings
            )
        else:
            run_function(
                code=MIXED, function_type="destination", payload=track(1), settings=settings
            )
    except RuntimeError:
        frames = ExceptionReporter(None, *sys.exc_info()).get_traceback_data()["frames"]
    shown = {
        name: value
        for frame in frames
        if "functions_ui/runtime" in frame["filename"]
        for name, value in frame["vars"]
    }
    assert "code" in shown  # the runtime's own frames are in the report
    assert [n for n, v in shown.items() if "s3cret-token" in repr(v)] == []


def test_jobs_of_many_functions_share_a_round_trip_each_with_its_own_code_and_settings(
    monkeypatch,
) -> None:
    from functions_ui.runtime import Job, run_jobs

    sent = []
    request = WorkerPool.request

    def counting(self, msg, timeout_s, tenant="_default"):
        sent.append(msg["op"])
        return request(self, msg, timeout_s, tenant)

    monkeypatch.setattr(WorkerPool, "request", counting)
    jobs = [
        Job(
            f"async function onTrack(event, settings) {{ return ['f{n}', settings.key, event.n] }}",
            "destination",
            [track(i) for i in range(3)],
            {"key": f"secret-{n}"},
            RunOptions(workspace="jobs", function_key=f"dfn_{n}", secret_values=[f"secret-{n}"]),
        )
        for n in range(4)
    ]
    ran = run_jobs(jobs)
    assert sent == ["runMany"]  # twelve runs of four functions, one round trip
    assert [[r.result for r in results] for results in ran] == [
        [[f"f{n}", MASK, i] for i in range(3)] for n in range(4)
    ]


def test_jobs_of_two_workspaces_are_never_sent_together() -> None:
    from functions_ui.runtime import Job, run_jobs

    jobs = [
        Job("function onTrack() {}", "destination", [track(0)], {}, RunOptions(workspace=ws))
        for ws in ("acme", "globex")
    ]
    with pytest.raises(ValueError, match="one workspace"):
        run_jobs(jobs)
