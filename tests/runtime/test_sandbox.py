# ruff: noqa: E501  (JavaScript snippets read better unwrapped)
"""Hostile code: escapes, limits, and the outbound fetch policy."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings

from functions_ui.runtime import MockResponse, RunOptions, run_function
from tests.runtime.conftest import run_body, run_dest

ESCAPES = [
    "this.constructor.constructor('return process')()",
    "globalThis.constructor.constructor('return process')()",
    "console.log.constructor('return process')()",
    "fetch.constructor('return process')()",
    "Buffer.constructor('return process')()",
    "Buffer.from.constructor('return process')()",
    "URL.constructor('return process')()",
    "setTimeout.constructor('return process')()",
    "Segment.track.constructor('return process')()",
    "crypto.createHash('sha256').constructor.constructor('return process')()",
    "(async () => {}).constructor('return process')()",
    "(function* () {}).constructor('return process')()",
    "(() => { try { new URL('bad') } catch (e) { return e.constructor.constructor('return process')() } })()",
    "new Function('return process')()",
    "eval('process')",
    "import('node:fs')",
    "process.env",
    "require('fs')",
    "module.exports",
    "WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))",
]


@pytest.mark.parametrize("expr", ESCAPES)
def test_escape_attempts_fail(expr: str) -> None:
    r = run_body(f"return typeof (await ({expr}))")
    assert r.status == "bad_request", r.result
    assert r.error["name"] in {"EvalError", "ReferenceError", "TypeError", "CompileError", "Error"}


def test_no_host_globals() -> None:
    r = run_body(
        "return ['process', 'require', 'module', 'exports', 'global', '__dirname', '__fnrt_host']"
        ".map(n => typeof globalThis[n])"
    )
    assert r.result == ["undefined"] * 7


def test_prepare_stack_trace_cannot_be_hooked_and_hides_host_frames() -> None:
    r = run_body(
        "'use strict';\n"
        "let threw = false;\n"
        "try { Error.prepareStackTrace = (e, frames) => frames.map(f => f.getThis()); } catch { threw = true }\n"
        "return [threw, new Error('x').stack]"
    )
    threw, stack = r.result
    assert threw is True
    assert "worker.js" not in stack and "node:" not in stack and "bootstrap" not in stack
    assert stack.startswith("Error: x\n    at onTrack (function.js:")


@pytest.mark.parametrize(
    "mutation",
    [
        "Object.getPrototypeOf(URL.prototype).polluted = 1",
        "Buffer.prototype.toString = () => 'pwned'",
        "Object.getPrototypeOf(new Headers()).get = () => 'pwned'",
        "Object.getPrototypeOf(Buffer.from).call = () => 'pwned'",
        "Object.getPrototypeOf(new Response('x').body).getReader = () => 'pwned'",
        "Object.getPrototypeOf(crypto.subtle).digest = () => 'pwned'",
        "Object.getPrototypeOf(new URLSearchParams('a=1').entries()).next = () => 'pwned'",
        "(() => { const r = new Response('x'); const s = r[Object.getOwnPropertySymbols(r)[0]];"
        " Object.getPrototypeOf(s.headersList).get = () => 'pwned' })()",
        "(() => { try { new URL('bad') } catch (e) { Object.getPrototypeOf(e).toString = () => 'pwned' } })()",
    ],
)
def test_host_prototypes_are_frozen_across_runs(mutation: str) -> None:
    run_body(f"'use strict';\ntry {{ {mutation} }} catch {{}}")
    r = run_body(
        "return [({}).polluted, Buffer.from('ab').toString(), new Headers({a: 'b'}).get('a'),"
        " typeof new Response('x').body.getReader(), typeof crypto.subtle.digest,"
        " [...new URLSearchParams('a=1').entries()].length, new Response('x', {headers: {h: 'v'}}).headers.get('h'),"
        " (() => { try { new URL('bad') } catch (e) { return String(e).slice(0, 9) } })()]"
    )
    assert r.result == [None, "ab", "b", "object", "function", 1, "v", "TypeError"]


# Every kind of object the runtime hands to user code, including those of classes no global
# leads to (readers, iterators, hashes, timers, a body's internal state).
INSTANCES = """[
  new Response('x').body, new Response('x').body.getReader(), new Request('https://a.test/'),
  new Response('x'), new Headers({a: 'b'}).entries(), new URLSearchParams('a=1').keys(),
  (() => { const f = new FormData(); f.append('a', 'b'); return f.values() })(),
  crypto.createHash('sha256'), crypto.createHmac('sha256', 'k'),
  crypto.createCipheriv('aes-128-cbc', Buffer.alloc(16), Buffer.alloc(16)),
  crypto.createSign('RSA-SHA256'), setTimeout(() => {}, 1), new TextDecoder(), new TextEncoder(),
  new AbortController().signal, new Event('e'), new Blob(['x']), new File(['x'], 'f'),
  new URL('https://a.test/?q=1'), new URL('https://a.test/?q=1').searchParams, Buffer.from('x'),
  new Response('x').body.values(), new DOMException('x'),
]"""


def test_no_prototype_user_code_can_reach_is_left_unfrozen() -> None:
    """What runs of one workspace share (its runtime, every prototype user code reaches from
    the objects it is given) is frozen: a run can change nothing the next run, of the same or
    another function, would see."""
    r = run_body(
        f"const seen = new Set(), open = [];\n"
        f"const visit = (o, path, depth) => {{\n"
        f"  if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) return;\n"
        f"  seen.add(o);\n"
        f"  for (const key of Reflect.ownKeys(o)) {{\n"
        f"    const d = Object.getOwnPropertyDescriptor(o, key);\n"
        f"    if (d && 'value' in d && typeof d.value === 'object' && depth < 2) visit(d.value, path + '.' + String(key), depth + 1);\n"
        f"  }}\n"
        f"  for (let p = Object.getPrototypeOf(o), at = path; p; p = Object.getPrototypeOf(p)) {{\n"
        f"    at += '.__proto__';\n"
        f"    if (!Object.isFrozen(p)) open.push(at);\n"
        f"    for (const key of Reflect.ownKeys(p)) {{\n"
        f"      const d = Object.getOwnPropertyDescriptor(p, key);\n"
        f"      for (const v of [d.value, d.get, d.set]) if (typeof v === 'function' && !Object.isFrozen(v)) open.push(at + '.' + String(key));\n"
        f"    }}\n"
        f"  }}\n"
        f"}};\n"
        f"{INSTANCES}.forEach((o, i) => visit(o, 'instance' + i, 0));\n"
        f"return open"
    )
    assert r.status == "success", r.error
    assert r.result == []


def test_context_state_does_not_leak_between_runs() -> None:
    run_body(
        "globalThis.leak = 'secret'; Object.prototype.polluted = 1; Array.prototype.push = null"
    )
    r = run_body("const a = []; a.push(1); return [typeof leak, ({}).polluted, a.length]")
    assert r.result == ["undefined", None, 1]


def test_sync_infinite_loop_times_out_and_worker_survives() -> None:
    started = time.perf_counter()
    r = run_body("while (true) {}", timeout_ms=300)
    assert r.status == "timeout" and r.category == "Timeout"
    assert time.perf_counter() - started < 3
    assert run_body("return 'alive'").result == "alive"


def test_top_level_infinite_loop_times_out() -> None:
    r = run_dest("for (;;) {}\nfunction onTrack() {}", timeout_ms=300)
    assert r.status == "timeout"


def test_busy_loop_after_await_is_killed() -> None:
    started = time.perf_counter()
    r = run_body("await null; while (true) {}", timeout_ms=300)
    assert r.status == "timeout"
    assert r.error["message"] == "Function timed out after 300 ms"
    assert time.perf_counter() - started < 5
    assert run_body("return 'alive'").result == "alive"


def test_never_settling_promise_times_out_in_worker() -> None:
    r = run_body("await new Promise(() => {})", timeout_ms=200)
    assert r.status == "timeout"
    assert r.error["message"] == "Function timed out after 200 ms"


def test_loop_in_timer_callback_times_out() -> None:
    r = run_body(
        "setTimeout(() => { while (true) {} }, 1); await new Promise(() => {})", timeout_ms=300
    )
    assert r.status == "timeout"
    assert run_body("return 1").result == 1


def test_memory_bomb_is_stopped_and_pool_recovers() -> None:
    r = run_body(
        "const a = []; while (true) a.push(new Array(100000).fill(Math.random()))", memory_mb=64
    )
    assert r.status == "bad_request"
    assert r.error["name"] == "MemoryLimitExceeded"
    assert "memory" in r.error["message"]
    assert run_body("return 'alive'", memory_mb=64).result == "alive"


def test_deep_recursion() -> None:
    r = run_body("function f(n) { return f(n + 1) + 1 }\n return f(0)")
    assert r.status == "bad_request"
    assert r.error["name"] == "RangeError"
    assert run_body("return 1").result == 1


def test_console_flood_is_capped() -> None:
    r = run_body(
        "for (let i = 0; i < 100000; i++) console.log('line ' + i + ' ' + 'x'.repeat(50)); return 'done'"
    )
    assert r.result == "done"
    total = sum(len(entry["message"]) for entry in r.logs)
    assert total <= 33 * 1024
    assert "truncated" in r.logs[-1]["message"]


def test_huge_single_log_line_is_capped() -> None:
    r = run_body("console.log('y'.repeat(10 * 1024 * 1024)); return 1")
    assert r.result == 1
    assert len(r.logs[0]["message"]) < 33 * 1024


def test_other_runs_continue_after_a_hostile_run() -> None:
    run_body("await null; while (true) {}", timeout_ms=200)
    results = [run_body(f"return {i}").result for i in range(5)]
    assert results == [0, 1, 2, 3, 4]


# ---- fetch -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/",
        "http://localhost:9/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/",
        "http://[::ffff:127.0.0.1]:9/",
        "http://0.0.0.0:9/",
        "http://10.1.2.3:9/",
        "http://192.168.0.1:9/",
        "http://172.16.5.5:9/",
        "http://2130706433:9/",
        "http://0x7f.1:9/",
        "http://[fe80::1]:9/",
        "http://[fd00::1]:9/",
    ],
)
def test_fetch_to_private_addresses_is_refused(url: str) -> None:
    r = run_body(f"await fetch('{url}')")
    assert r.status == "bad_request"
    assert r.error["name"] == "TypeError"
    assert "refused" in r.error["message"]
    assert r.fetches[0]["error"]


def test_dns_name_resolving_to_loopback_is_refused(http_server: str) -> None:
    port = http_server.rsplit(":", 1)[1]
    r = run_body(f"await fetch('http://localhost:{port}/')")
    assert "refused" in r.error["message"]


def test_real_fetch_with_allowed_host(http_server: str) -> None:
    r = run_body(
        f"""
        const res = await fetch('{http_server}/echo?x=1', {{
          method: 'POST', headers: {{ Authorization: 'Basic ' + btoa('k:'), 'Content-Type': 'application/json' }},
          body: JSON.stringify({{ a: 1 }}) }});
        const json = await res.json();
        return [res.status, res.ok, res.headers.get('x-test'), json, res.url];
        """,
        allowed_hosts=["127.0.0.1"],
    )
    assert r.status == "success", r.error
    status, ok, header, json_body, url = r.result
    assert (status, ok, header) == (200, True, "yes")
    assert json_body == {
        "method": "POST",
        "path": "/echo?x=1",
        "body": '{"a":1}',
        "contentType": "application/json",
        "auth": "Basic azo=",
    }
    assert url == f"{http_server}/echo?x=1"
    [rec] = r.fetches
    assert rec["method"] == "POST" and rec["status"] == 200 and rec["duration_ms"] >= 0
    assert rec["url"] == f"{http_server}/echo?x=1"


def test_fetch_form_bodies(http_server: str) -> None:
    r = run_body(
        f"""
        const a = await (await fetch('{http_server}/', {{ method: 'POST', body: new URLSearchParams({{ q: '1' }}) }})).json();
        const fd = new FormData(); fd.append('k', 'v');
        const b = await (await fetch('{http_server}/', {{ method: 'PUT', body: fd }})).json();
        return [a.body, a.contentType, b.contentType.split(';')[0], b.body.includes('name="k"')];
        """,
        allowed_hosts=["127.0.0.1"],
    )
    assert r.result == [
        "q=1",
        "application/x-www-form-urlencoded;charset=UTF-8",
        "multipart/form-data",
        True,
    ]


def test_redirect_to_a_blocked_host_is_refused(http_server: str) -> None:
    port = http_server.rsplit(":", 1)[1]
    r = run_body(
        f"await fetch('{http_server}/redirect?to=http://localhost:{port}/')",
        allowed_hosts=["127.0.0.1"],
    )
    assert "refused" in r.error["message"]


def test_allowed_hostname_bypasses_block(http_server: str) -> None:
    port = http_server.rsplit(":", 1)[1]
    r = run_body(
        f"const res = await fetch('http://localhost:{port}/status/503'); return res.status",
        allowed_hosts=["localhost"],
    )
    assert r.result == 503


def test_connections_to_a_collector_are_kept_between_runs(
    keep_alive_server: tuple[str, list[int]],
) -> None:
    """A destination posting every event to one collector does not reconnect for each."""
    url, client_ports = keep_alive_server
    workspace = f"keep-alive-{uuid.uuid4().hex}"
    for _ in range(8):
        r = run_body(
            f"await fetch('{url}/collect', {{ method: 'POST', body: 'e' }})",
            allowed_hosts=["127.0.0.1"],
            workspace=workspace,
        )
        assert r.status == "success", r.error
    assert len(client_ports) == 8
    # The workspace's runs are spread over at most its worker processes, one connection each.
    assert len(set(client_ports)) <= settings.RUNTIME_WORKERS_PER_WORKSPACE


def test_a_connection_opened_for_an_allowed_host_serves_no_run_without_the_exemption(
    keep_alive_server: tuple[str, list[int]],
) -> None:
    """A pooled socket to a host the operator allowed must not let another run skip the policy."""
    port = keep_alive_server[0].rsplit(":", 1)[1]
    workspace = f"keep-alive-{uuid.uuid4().hex}"
    for _ in range(4):  # every worker process of the workspace pools a socket to localhost
        allowed = run_body(
            f"const res = await fetch('http://localhost:{port}/'); return res.status",
            allowed_hosts=["localhost"],
            workspace=workspace,
        )
        assert allowed.result == 200, allowed.error
    for _ in range(4):
        refused = run_body(f"await fetch('http://localhost:{port}/')", workspace=workspace)
        assert "refused" in refused.error["message"]


def test_retry_on_5xx_pattern(http_server: str) -> None:
    r = run_body(
        f"const res = await fetch('{http_server}/status/503');"
        " if (res.status >= 500) throw new RetryError(`Failed with ${res.status}`)",
        allowed_hosts=["127.0.0.1"],
    )
    assert r.status == "retry" and r.error["message"] == "Failed with 503"


def test_mock_fetch_records_and_sends_nothing() -> None:
    r = run_body(
        "const res = await fetch('http://127.0.0.1:9/never', { method: 'POST', body: 'x' });"
        " return [res.status, await res.json(), res.headers.get('x-mock')]",
        mock_fetch=True,
        mock_response=MockResponse(status=202, headers={"x-mock": "1"}, body={"mocked": True}),
    )
    assert r.result == [202, {"mocked": True}, "1"]
    assert r.fetches[0]["method"] == "POST" and r.fetches[0]["status"] == 202


def test_fetch_connection_error_is_a_type_error() -> None:
    r = run_body(
        "try { await fetch('http://nonexistent.invalid/') } catch (e) { return [e.name, e.message.startsWith('fetch failed')] }"
    )
    assert r.result == ["TypeError", True]


def test_buffers_outside_the_heap_are_capped_too() -> None:
    """Buffer memory is not V8 heap; the worker's OS data limit stops a Buffer bomb."""
    code = (
        "async function onTrack(event) {\n"
        "  const buffers = [];\n"
        "  for (let i = 0; i < 40; i++) buffers.push(Buffer.alloc(100 * 1024 * 1024, 1));\n"
        "  return buffers.length;\n"
        "}\n"
    )
    # V8 collects garbage for a few seconds before it gives up an allocation over the limit;
    # the longer time limit keeps this test about the limit, not about how fast that is.
    result = run_function(
        code=code,
        function_type="destination",
        payload={"type": "track"},
        settings={},
        options=RunOptions(timeout_ms=30_000),
    )
    assert result.status == "bad_request"
    assert "allocation failed" in result.error["message"]
    after = run_function(
        code="async function onTrack(e) { return 1 }",
        function_type="destination",
        payload={"type": "track"},
        settings={},
    )
    assert after.status == "success"


def test_half_of_a_surrogate_pair_reaches_python_as_a_replacement_character() -> None:
    """A lone surrogate from user code could not be encoded by any page, log or database."""
    r = run_body(
        "const half = '\\ud800'; console.log('log ' + half); "
        "return { text: half, pair: '\\ud83d\\ude00' }"
    )
    assert r.status == "success", r.error
    assert r.result == {"text": "\ufffd", "pair": "\U0001f600"}
    assert r.logs[0]["message"] == "log \ufffd"
    r.logs[0]["message"].encode("utf-8")  # encodable
