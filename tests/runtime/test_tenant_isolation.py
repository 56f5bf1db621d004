# ruff: noqa: E501  (JavaScript snippets read better unwrapped)
"""Cross-tenant attacks on the runtime API (issue 10): globex attacks, acme is the victim.

Each observation of the issue is replayed as an attack, between two workspaces and between two
functions of one workspace (and, where it applies, between two runs of one function), and the
victim must see nothing of the attacker and be disturbed in no way.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from functions_ui.runtime import RunOptions, RunResult, check_code, run_function
from functions_ui.runtime import pool as pool_module
from functions_ui.runtime.pool import WorkerPool, runtime_setting
from tests.runtime.attacks import (
    LEFTOVERS,
    QUIET_VICTIM_BODY,
    QUIET_VICTIM_CODE,
    SCAN_OR_USE_CODE,
    SCANNER_CODE,
    VICTIM_CODE,
    leftover_attacker,
    new_secret,
    scan_needles,
    secret_forms,
)

ATTACKER = "globex"
VICTIM = "acme"
EVENT = {"type": "track", "userId": "u1", "event": "E"}


def run(
    code: str,
    *,
    workspace: str | None,
    function_key: str,
    settings: dict[str, Any] | None = None,
    event: Any = None,
    **opts: Any,
) -> RunResult:
    return run_function(
        code=code,
        function_type="destination",
        payload=EVENT if event is None else event,
        settings=settings or {},
        options=RunOptions(workspace=workspace, function_key=function_key, **opts),
    )


@pytest.fixture(scope="module", autouse=True)
def one_worker_per_workspace() -> Iterator[WorkerPool]:
    """A pool where a workspace has ONE worker: its functions share a process, as an attacker
    in the same workspace would wish; other workspaces get processes of their own."""
    pool = WorkerPool(size=4, memory_mb=int(runtime_setting("RUNTIME_MEMORY_MB")), per_tenant=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pool_module, "_pools", {pool.memory_mb: pool})
        yield pool
    pool.close()


@pytest.fixture
def fresh_pool(settings, monkeypatch) -> Iterator[Callable[..., WorkerPool]]:
    """get_pool() builds a new pool from the settings given (the way production builds it)."""

    def make(**runtime_settings: Any) -> WorkerPool:
        for name, value in runtime_settings.items():
            setattr(settings, name, value)
        monkeypatch.setattr(pool_module, "_pools", {})
        return pool_module.get_pool()

    yield make
    for pool in list(pool_module._pools.values()):
        pool.close()


def assert_attack_ran(result: RunResult) -> None:
    """The attacker's own run ended: normally, or failed by its own unhandled rejection."""
    if result.status == "success":
        assert result.result == "attacker-done"
    else:
        assert result.status == "bad_request", result.error


def assert_quiet_victim(result: RunResult, label: str = "E") -> None:
    assert (result.status, result.error) == ("success", None), result.error
    assert result.result == f"victim-{label}"
    assert result.logs == [{"level": "log", "message": "victim says hi"}]
    assert result.events == [] and result.objects == []


# Where the attacker sits relative to the victim: (attacker workspace, attacker function key).
PLACES = {
    "other_workspace": (ATTACKER, "dfn_globex_attacker"),
    "same_workspace_other_function": (VICTIM, "dfn_acme_other"),
}


# ---- 1. recycled memory -------------------------------------------------------------------------


def assert_nothing_found(report: dict[str, Any], secret: str) -> None:
    assert report["checked"] == 3 * 6 * 16  # every allocator, size and round was scanned
    assert report["bytes"] > 3 * 5 * 1024 * 1024
    assert report["hits"] == []
    assert report["nonzero"] == [], report["sample"][:300]
    dumped = json.dumps(report, ensure_ascii=False)
    for form in secret_forms(secret):
        assert form not in dumped


@pytest.mark.parametrize("place", PLACES)
def test_fresh_memory_holds_nothing_of_another_tenants_secret(place: str) -> None:
    secret = new_secret()
    attacker_ws, attacker_key = PLACES[place]
    for _ in range(3):
        victim = run(
            VICTIM_CODE,
            workspace=VICTIM,
            function_key="dfn_acme_victim",
            settings={"apiKey": secret},
            secret_values=[secret],
            mock_fetch=True,
        )
        assert victim.result == "victim-ok", victim.error
    scan = run(
        SCANNER_CODE,
        workspace=attacker_ws,
        function_key=attacker_key,
        settings={"needles": scan_needles(secret)},
        timeout_ms=20000,
    )
    assert scan.status == "success", scan.error
    assert_nothing_found(scan.result, secret)


def test_a_later_run_of_the_same_function_sees_nothing_of_an_earlier_runs_secret() -> None:
    """Two instances of one function (two customers' keys) share the function's isolate."""
    secret = new_secret()
    victim = run(
        SCAN_OR_USE_CODE,
        workspace=VICTIM,
        function_key="dfn_acme_shared",
        settings={"apiKey": secret, "mode": "use"},
        secret_values=[secret],
        mock_fetch=True,
    )
    assert victim.result == "victim-ok", victim.error
    scan = run(
        SCAN_OR_USE_CODE,
        workspace=VICTIM,
        function_key="dfn_acme_shared",
        settings={"mode": "scan", "needles": scan_needles(secret)},
        timeout_ms=20000,
    )
    assert scan.status == "success", scan.error
    assert_nothing_found(scan.result, secret)


def test_the_scanner_would_see_the_secret_if_it_were_there() -> None:
    """The scanner itself works: a needle in memory it allocated and filled is found."""
    secret = new_secret()
    code = SCANNER_CODE.replace(
        "return scanMemory(settings.needles);",
        "const planted = Buffer.allocUnsafe(4096); planted.write(settings.needles[0].split('').reverse().join(''), 100, 'latin1');\n"
        "  const text = String.fromCharCode.apply(null, planted);\n"
        "  return [text.includes(settings.needles[0].split('').reverse().join('')), scanMemory(settings.needles).hits]",
    )
    r = run(
        code,
        workspace=ATTACKER,
        function_key="dfn_scanner_check",
        settings={"needles": scan_needles(secret)},
        timeout_ms=20000,
    )
    assert r.result == [True, []], r.error


# ---- 2. leftover timers, callbacks and promises -------------------------------------------------


@pytest.mark.parametrize("leftover", LEFTOVERS)
@pytest.mark.parametrize("place", PLACES)
def test_leftovers_of_an_attacker_never_reach_the_victims_runs(place: str, leftover: str) -> None:
    attacker_ws, attacker_key = PLACES[place]
    attacker = leftover_attacker(LEFTOVERS[leftover])
    for _ in range(2):
        assert_attack_ran(
            run(
                attacker,
                workspace=attacker_ws,
                function_key=attacker_key,
                timeout_ms=2000,
                mock_fetch=True,
            )
        )
    for _ in range(10):
        assert_quiet_victim(run(QUIET_VICTIM_CODE, workspace=VICTIM, function_key="dfn_acme_quiet"))


@pytest.mark.parametrize("leftover", LEFTOVERS)
def test_leftovers_of_a_run_never_reach_later_runs_of_the_same_function(leftover: str) -> None:
    code = (
        "async function onTrack(event, settings) {\n"
        f"  if (event.event === 'attack') {{\n{LEFTOVERS[leftover]}\n    return 'attacker-done';\n  }}\n"
        f"{QUIET_VICTIM_BODY}}}\n"
    )
    key = f"dfn_acme_twofaced_{leftover}"
    for _ in range(2):
        assert_attack_ran(
            run(
                code,
                workspace=VICTIM,
                function_key=key,
                event={**EVENT, "event": "attack"},
                mock_fetch=True,
            )
        )
    for n in range(10):
        assert_quiet_victim(
            run(code, workspace=VICTIM, function_key=key, event={**EVENT, "event": f"run{n}"}),
            label=f"run{n}",
        )


@pytest.mark.parametrize("leftover", LEFTOVERS)
def test_each_leftover_does_disturb_the_run_it_is_alive_in(leftover: str) -> None:
    """The attacks are real: inside the victim's own run, each one breaks it."""
    code = (
        "async function onTrack(event, settings) {\n"
        f"{LEFTOVERS[leftover]}\n"
        "  await new Promise((r) => setTimeout(r, 400));\n"
        f"{QUIET_VICTIM_BODY}}}\n"
    )
    r = run(code, workspace=VICTIM, function_key="dfn_acme_selfharm", mock_fetch=True)
    with pytest.raises(AssertionError):
        assert_quiet_victim(r)


def test_leftovers_interleaved_with_victim_runs() -> None:
    attacker = leftover_attacker(LEFTOVERS["all_at_once"])
    for _ in range(6):
        for ws, key in PLACES.values():
            assert_attack_ran(run(attacker, workspace=ws, function_key=key, mock_fetch=True))
        assert_quiet_victim(run(QUIET_VICTIM_CODE, workspace=VICTIM, function_key="dfn_acme_quiet"))


# ---- 3. the thread pool -------------------------------------------------------------------------

STALLER = """
async function onTrack(event, settings) {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode('pw'), 'PBKDF2', false, ['deriveBits']);
  for (let i = 0; i < 4; i++) {
    crypto.subtle.deriveBits({ name: 'PBKDF2', salt: new Uint8Array(16), iterations: 2000000000, hash: 'SHA-512' }, key, 512).catch(() => {});
    crypto.subtle.deriveBits({ name: 'PBKDF2', salt: new Uint8Array(16), iterations: 1000000, hash: 'SHA-512' }, key, 512).catch(() => {});
    try { crypto.pbkdf2Sync('pw', 'salt', 2000000000, 64, 'sha512') } catch {}
  }
  return 'stalled';
}
"""


@pytest.mark.parametrize("place", PLACES)
def test_crypto_jobs_of_an_attacker_do_not_stall_the_victim(place: str) -> None:
    attacker_ws, attacker_key = PLACES[place]
    with ThreadPoolExecutor(1) as executor:
        attack = executor.submit(
            run, STALLER, workspace=attacker_ws, function_key=attacker_key, timeout_ms=1500
        )
        attack.result(timeout=30)  # whatever became of it (it may time out): the victim comes next
    started = [
        run(QUIET_VICTIM_CODE, workspace=VICTIM, function_key="dfn_acme_quiet") for _ in range(3)
    ]
    for r in started:
        assert_quiet_victim(r)
        # Far below the 5 s limit the victims ran into.
        assert r.duration_ms < 1000


def test_crypto_jobs_running_in_another_workspace_do_not_stall_the_victim() -> None:
    with ThreadPoolExecutor(1) as executor:
        attack = executor.submit(
            run, STALLER, workspace=ATTACKER, function_key="dfn_globex_staller", timeout_ms=3000
        )
        victims = [
            run(QUIET_VICTIM_CODE, workspace=VICTIM, function_key="dfn_acme_quiet")
            for _ in range(3)
        ]
        attack.result(timeout=30)
    for r in victims:
        assert_quiet_victim(r)
        assert r.duration_ms < 1000


# ---- 4. prototype pollution -----------------------------------------------------------------------

POLLUTIONS = [
    "Object.prototype.polluted = 'yes'",
    "Object.defineProperty(Object.prototype, 'then', { get() { console.log('sabotage: then'); return undefined } })",
    "Object.prototype.toJSON = function () { return 'pwned' }",
    "Array.prototype.push = function () { return 'pwned' }",
    "delete Array.prototype.map",
    "Array.prototype[Symbol.iterator] = function* () { yield 'pwned' }",
    "Promise.prototype.then = function () { throw new Error('pwned') }",
    "Promise.resolve = () => 'pwned'",
    "JSON.stringify = () => '\"pwned\"'",
    "JSON.parse = () => 'pwned'",
    "Error.prototype.toString = function () { return 'pwned' }",
    "Error.prototype.name = 'Pwned'",
    "Error.stackTraceLimit = 0",
    "Error.captureStackTrace = () => 'pwned'",
    "String.prototype.toUpperCase = () => 'pwned'",
    "String.prototype.polluted = 'yes'",
    "Object.getPrototypeOf([][Symbol.iterator]()).next = () => ({ done: true })",
    "Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()))[Symbol.iterator] = () => [][Symbol.iterator]()",
    "Object.getPrototypeOf(new Map().keys()).next = () => ({ done: true })",
    "Object.getPrototypeOf(async function () {}).polluted = 'yes'",
    "Object.getPrototypeOf(async function () {}).constructor = function () { return 'pwned' }",
    "Object.getPrototypeOf(Object.getPrototypeOf(Object.getPrototypeOf((async function* () {})())))[Symbol.asyncIterator] = () => 'pwned'",
    "Object.getPrototypeOf(async function* () {}).prototype.next = () => 'pwned'",
    "Function.prototype.call = () => 'pwned'",
    "Reflect.apply = () => 'pwned'",
    "Math.random = () => 4",
    "Date.now = () => 0",
    "RegExp.prototype.exec = () => null",
    "Symbol.prototype.toString = () => 'pwned'",
    "globalThis.x = 'pwned'",
    "Object.setPrototypeOf(globalThis, { notDefinedAnywhere: 'pwned' })",
    "Object.defineProperty(globalThis, 'fetch', { value: () => 'pwned' })",
    "console.log = () => {}",
    "console.polluted = 'yes'",
    "Segment.track = () => {}",
    "Segment.polluted = 'yes'",
    "cache.load = () => 'pwned'",
    "_.get = () => 'pwned'",
    "_.mixin({ chunk: () => 'pwned', pwned: () => 'pwned' })",
    "Buffer.prototype.toString = () => 'pwned'",
    "Object.getPrototypeOf(Uint8Array.prototype).fill = () => 'pwned'",
    "Object.getPrototypeOf(new Headers()).get = () => 'pwned'",
    "URL.prototype.toString = () => 'pwned'",
    "URLSearchParams.prototype.get = () => 'pwned'",
    "Response.prototype.json = async () => 'pwned'",
    "Object.getPrototypeOf(crypto.subtle).digest = () => 'pwned'",
    "crypto.createHash = () => 'pwned'",
    "(() => { try { new URL('bad') } catch (e) { Object.getPrototypeOf(e).toString = () => 'pwned' } })()",
    "(() => { try { null.x } catch (e) { Object.getPrototypeOf(e).name = 'Pwned' } })()",
    "EventNotSupported.prototype.name = 'Pwned'",
    "Object.freeze = (o) => o",
]
POLLUTE_ALL = "\n".join(f"try {{ {p} }} catch (e) {{}}" for p in POLLUTIONS)

# What a run sees of the shared world. Compared with a pristine run's.
CHECK_BODY = r"""
  const out = {};
  out.polluted = [({}).polluted, [].polluted, ''.polluted, (() => {}).polluted, typeof globalThis.x,
    typeof notDefinedAnywhere, console.polluted, Segment.polluted, Object.getPrototypeOf(async function () {}).polluted];
  const a = []; out.push = [a.push(1, 2), a.length];
  out.map = [1, 2].map((x) => x * 2);
  out.then = await Promise.resolve('then-ok');
  out.thenable = await { value: 1 };
  out.json = [JSON.stringify({ a: [1, 'b'], d: new Date(0) }), JSON.parse('{"k":[1]}')];
  out.errors = [String(new TypeError('m')), new Error('e').name, new RangeError('r').toString(), Object.prototype.toString.call(new Error())];
  try { null.x } catch (e) { out.caught = [e.name, e instanceof TypeError] }
  out.stack = new Error('s').stack.split('\n').length > 1 && new Error('s').stack.includes('at onTrack (function.js:');
  const holder = {}; Error.captureStackTrace(holder); out.captured = typeof holder.stack;
  out.upper = 'ab'.toUpperCase();
  out.spread = [...[1, 2, 3], ...new Set([4]), ...new Map([[5, 6]]).keys()];
  out.destructure = (() => { const [p, q] = [7, 8]; const { r, ...rest } = { r: 9, s: 10 }; return [p, q, r, rest] })();
  out.asyncIter = await (async () => { const r = []; for await (const v of (async function* () { yield 1; yield 2 })()) r.push(v); return r })();
  out.asyncFnProto = Object.getOwnPropertyNames(Object.getPrototypeOf(async function () {})).sort();
  out.genNext = (function* () { yield 'g' })().next();
  out.regexp = /b(c)/.exec('abc').slice(), out.replace = 'a-b'.replace(/-/g, '+');
  out.symbol = Symbol('s').toString();
  out.lodash = [_.get({ a: { b: 1 } }, 'a.b'), _.chunk([1, 2, 3], 2), typeof _.pwned];
  out.random = Math.random() !== Math.random() && Math.random() < 1;
  out.now = Date.now() > 1.6e12;
  out.call = Math.max.call(null, 1, 2);
  out.reflect = Reflect.apply(Math.max, null, [3, 4]);
  out.buffer = [Buffer.from('hi').toString('base64'), Buffer.alloc(3).fill(1).join(',')];
  out.web = [new Headers({ a: 'b' }).get('a'), String(new URL('https://x.example/p?q=1')), new URLSearchParams('a=1').get('a'),
    await new Response('{"r":1}').json(), typeof fetch, (() => { try { new URL('bad') } catch (e) { return String(e) } })()];
  out.crypto = [typeof crypto.createHash, crypto.createHash('sha256').update('x').digest('hex').slice(0, 8),
    Buffer.from(await crypto.subtle.digest('SHA-256', new Uint8Array([1]))).toString('hex').slice(0, 8)];
  out.cache = await cache.load('k', () => 'fresh-' + event.event);
  out.segmentError = new EventNotSupported('x').name;
  console.log('check', 1, { k: 'v' });
  console.log(new Error('logged error'));
  Segment.track({ event: 'Checked', userId: 'u1' });
  return out;
"""
CHECK_CODE = f"async function onTrack(event, settings) {{{CHECK_BODY}}}\n"
POLLUTER = (
    f"async function onTrack(event, settings) {{\n{POLLUTE_ALL}\n  return 'attacker-done';\n}}\n"
)
STRICT_POLLUTER = f"'use strict';\nasync function onTrack(event, settings) {{\n{POLLUTE_ALL}\n  return 'attacker-done';\n}}\n"
TWO_FACED = (
    "async function onTrack(event, settings) {\n"
    f"  if (event.event === 'attack') {{\n{POLLUTE_ALL}\n    return 'attacker-done';\n  }}\n"
    f"{CHECK_BODY}}}\n"
)


def comparable(result: RunResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "error": result.error,
        "result": result.result,
        "logs": [{**entry, "message": entry["message"].split("\n")[0]} for entry in result.logs],
        "events": result.events,
    }


@pytest.fixture(scope="module")
def pristine() -> dict[str, Any]:
    """What the check sees in a workspace no one else has touched."""
    result = run(CHECK_CODE, workspace="pristine", function_key="dfn_pristine")
    assert result.status == "success", result.error
    seen = result.result
    assert seen["polluted"] == [None, None, None, None, "undefined", "undefined", None, None, None]
    assert seen["push"] == [2, 2] and seen["map"] == [2, 4] and seen["then"] == "then-ok"
    assert seen["json"] == ['{"a":[1,"b"],"d":"1970-01-01T00:00:00.000Z"}', {"k": [1]}]
    assert seen["errors"] == ["TypeError: m", "Error", "RangeError: r", "[object Error]"]
    assert seen["stack"] is True and seen["upper"] == "AB"
    assert seen["spread"] == [1, 2, 3, 4, 5] and seen["asyncIter"] == [1, 2]
    assert seen["lodash"] == [1, [[1, 2], [3]], "undefined"]
    assert seen["web"][:4] == ["b", "https://x.example/p?q=1", "1", {"r": 1}]
    assert result.logs[0]["message"] == "check 1 { k: 'v' }"
    assert result.logs[1]["message"].startswith("Error: logged error\n    at onTrack (function.js:")
    assert result.events == [{"type": "track", "event": "Checked", "userId": "u1"}]
    return comparable(result)


@pytest.mark.parametrize("polluter", [POLLUTER, STRICT_POLLUTER], ids=["sloppy", "strict"])
@pytest.mark.parametrize("place", PLACES)
def test_pollution_by_another_function_is_not_seen(
    pristine: dict[str, Any], place: str, polluter: str
) -> None:
    attacker_ws, attacker_key = PLACES[place]
    for _ in range(2):
        r = run(polluter, workspace=attacker_ws, function_key=attacker_key)
        assert r.result == "attacker-done", r.error
    for _ in range(2):
        assert (
            comparable(run(CHECK_CODE, workspace=VICTIM, function_key="dfn_acme_check")) == pristine
        )


def test_pollution_by_an_earlier_run_of_the_same_function_is_not_seen(
    pristine: dict[str, Any],
) -> None:
    for _ in range(2):
        r = run(
            TWO_FACED,
            workspace=VICTIM,
            function_key="dfn_acme_twofaced",
            event={**EVENT, "event": "attack"},
        )
        assert r.result == "attacker-done", r.error
        after = run(TWO_FACED, workspace=VICTIM, function_key="dfn_acme_twofaced")
        assert comparable(after) == pristine


@pytest.mark.parametrize("pollution", POLLUTIONS)
def test_each_pollution_alone_is_not_seen_by_the_next_run(
    pristine: dict[str, Any], pollution: str
) -> None:
    code = (
        "async function onTrack(event, settings) {\n"
        f"  if (event.event === 'attack') {{ try {{ {pollution} }} catch (e) {{}} return 'attacker-done' }}\n"
        f"{CHECK_BODY}}}\n"
    )
    r = run(
        code, workspace=ATTACKER, function_key="dfn_globex_each", event={**EVENT, "event": "attack"}
    )
    assert r.result == "attacker-done", r.error
    assert comparable(run(code, workspace=ATTACKER, function_key="dfn_globex_each")) == pristine


def test_an_attackers_error_to_string_never_formats_the_victims_error() -> None:
    attacker = (
        "async function onTrack() {\n"
        "  for (const E of [Error, TypeError, InvalidEventPayload, RetryError]) {\n"
        "    try { E.prototype.toString = () => 'pwned' } catch {}\n"
        "    try { Object.defineProperty(E.prototype, 'stack', { get: () => 'pwned' }) } catch {}\n"
        "    try { Object.defineProperty(E.prototype, 'message', { get: () => 'pwned' }) } catch {}\n"
        "  }\n  return 'attacker-done'\n}\n"
    )
    victim = "async function onTrack() { console.log(new TypeError('t')); throw new InvalidEventPayload('victim error') }"
    for ws, key in PLACES.values():
        assert run(attacker, workspace=ws, function_key=key).result == "attacker-done"
    r = run(victim, workspace=VICTIM, function_key="dfn_acme_thrower")
    assert (r.status, r.error["name"], r.error["message"]) == (
        "message_rejected",
        "InvalidEventPayload",
        "victim error",
    )
    assert r.error["stack"].startswith(
        "InvalidEventPayload: victim error\n    at onTrack (function.js:1:"
    )
    assert r.logs[0]["message"].startswith("TypeError: t\n    at onTrack (function.js:1:")
    assert "pwned" not in json.dumps(r.to_dict())


def test_ordinary_code_patterns_still_work_on_a_locked_down_runtime() -> None:
    code = r"""
class MyError extends Error { constructor(m) { super(m); this.name = 'MyError' } }
class Strict extends Error { constructor(m) { 'use strict'; super(m); this.name = 'Strict'; this.code = 'E1' } }
function F() {}
F.prototype.toString = function () { return 'F' };
F.prototype.valueOf = function () { return 41 };
async function onTrack(event, settings) {
  'use strict';
  const o = {}; o.toString = () => 'x';
  const err = new Error('orig'); err.message = 'changed'; err.name = 'Renamed'; err.stack = 'custom stack';
  const e = new MyError('mine');
  const p = new Promise((r) => r(1)); p.then = p.then.bind(p);
  const fn = function () {}; fn.call = 'shadow'; fn.bind = 'shadow';
  const thenable = { then(r) { r('thenable-ok') } };
  let mixin;
  // The shared lodash is frozen; a run that needs mixins takes its own copy.
  try { const own = _.runInContext(); own.mixin({ shout: (s) => s.toUpperCase() }); mixin = own.shout('a') } catch (x) { mixin = 'mixin failed: ' + x }
  return {
    myError: [e instanceof MyError, e instanceof Error, e.name, e.message, String(e), Object.keys(e)],
    strict: (() => { const s = new Strict('s'); return [s.name, s.code, String(s)] })(),
    F: [String(new F()), new F() + 1],
    o: String(o),
    err: [err.message, err.name, err.stack, String(err)],
    promise: await p,
    fn: [fn.call, fn.bind],
    thenable: await thenable,
    assign: Object.assign({}, { a: 1 }, { b: 2 }),
    spread: { ...{ a: 1 }, b: 2, arr: [...[1], 2] },
    json: JSON.parse(JSON.stringify({ k: [1, { n: null }], toJSON: undefined })),
    toJSON: JSON.stringify({ toJSON() { return 'own' } }),
    lodash: [_.get({ a: [{ b: 'deep' }] }, 'a[0].b'), _.chunk([1, 2, 3, 4, 5], 2), _.merge({ a: 1 }, { b: 2 }), _.cloneDeep({ c: [1] })],
    mixin,
    defineOwn: (() => { const x = {}; Object.defineProperty(x, 'constructor', { value: 'mine' }); return x.constructor })(),
    classes: (() => { class A { toString() { return 'A' } } class B extends A { get name() { return 'B' } } return [String(new B()), new B().name] })(),
  };
}
"""
    r = run(code, workspace=VICTIM, function_key="dfn_acme_ordinary")
    assert r.status == "success", r.error
    assert r.result == {
        "myError": [True, True, "MyError", "mine", "MyError: mine", ["name"]],
        "strict": ["Strict", "E1", "Strict: s"],
        "F": ["F", 42],
        "o": "x",
        "err": ["changed", "Renamed", "custom stack", "Renamed: changed"],
        "promise": 1,
        "fn": ["shadow", "shadow"],
        "thenable": "thenable-ok",
        "assign": {"a": 1, "b": 2},
        "spread": {"a": 1, "b": 2, "arr": [1, 2]},
        "json": {"k": [1, {"n": None}]},
        "toJSON": '"own"',
        "lodash": ["deep", [[1, 2], [3, 4], [5]], {"a": 1, "b": 2}, {"c": [1]}],
        "mixin": "A",
        "defineOwn": "mine",
        "classes": ["A", "B"],
    }
    # The mixin went to the run's own lodash, never to the shared one.
    later = run(
        "async function onTrack() { return typeof _.shout }",
        workspace=VICTIM,
        function_key="dfn_acme_ordinary2",
    )
    assert later.result == "undefined"


# ---- 5. host paths ------------------------------------------------------------------------------

HOST_MARKS = (
    "/work",
    "node_modules",
    "worker.js",
    "node:",
    "runtime:sandbox",
    "sandbox.js",
    "/usr/",
    "internal/",
)

THROWERS = [
    "new URL('bad')",
    "new URL('/p', 'not a base')",
    "JSON.parse('{bad')",
    "null.x",
    "new Headers({ 'bad name': 'x' })",
    "new Response(null, { status: 99 })",
    "new Request('not a url')",
    "atob('%%%')",
    "Buffer.from({})",
    "Buffer.alloc(-1)",
    "new TextDecoder('nope')",
    "structuredClone(() => {})",
    "crypto.createHash('nope')",
    "crypto.createHmac('nope', 'k')",
    "crypto.createCipheriv('nope', Buffer.alloc(16), Buffer.alloc(16)).final()",
    "crypto.createSign('nope').update('x').sign('not a key')",
    "crypto.pbkdf2Sync('p', 's', 1e12, 64, 'sha512')",
    "crypto.subtle.digest('NOPE', new Uint8Array(1))",
    "crypto.subtle.importKey('raw', new Uint8Array(1), { name: 'NOPE' }, false, ['sign'])",
    "crypto.subtle.importKey('raw', new Uint8Array(1), { name: 'HMAC', hash: 'NOPE' }, false, ['sign'])",
    "fetch('http://127.0.0.1:9/')",
    "fetch('ftp://example.com/')",
    "fetch('not a url')",
    "fetch('https://example.com/', { method: 'GET', body: 'x' })",
    "new Headers({ a: 'b' }).forEach(() => { throw new Error('from a callback') })",
    "[1].map(() => { throw new Error('from a builtin callback') })",
    "Promise.reject(new Error('rejected'))",
    "new Promise((_, reject) => setTimeout(() => reject(new Error('later')), 1))",
    "(() => { const o = {}; Error.captureStackTrace(o); throw o })()",
    "(() => { function inner() { const o = {}; Error.captureStackTrace(o, inner); return o } throw inner() })()",
    "Segment.track({})",
    "Segment.set({ collection: 'UPPER', id: 1 })",
    "cache.load('k', 1, 'not a function')",
    "(function f() { f() })()",
]


@pytest.mark.parametrize("expr", THROWERS)
def test_errors_show_no_host_paths(expr: str) -> None:
    caught = run(
        "async function onTrack() {\n"
        "  try {\n"
        f"    await (async () => {expr})();\n"
        "  } catch (e) {\n"
        "    const seen = [String(e && e.stack), String(e)];\n"
        "    for (const k of Object.getOwnPropertyNames(Object(e))) { try { seen.push(String(e[k])) } catch {} }\n"
        "    console.log(e);\n"
        "    return seen;\n"
        "  }\n"
        "  return 'did not throw';\n"
        "}\n",
        workspace=ATTACKER,
        function_key="dfn_globex_paths",
    )
    assert caught.status == "success", caught.error
    assert caught.result != "did not throw"
    uncaught = run(
        f"async function onTrack() {{ await (async () => {expr})() }}",
        workspace=ATTACKER,
        function_key="dfn_globex_paths2",
    )
    assert uncaught.status != "success"
    for result in (caught, uncaught):
        dumped = json.dumps(result.to_dict())
        for mark in HOST_MARKS:
            assert mark not in dumped, (mark, dumped[:2000])


@pytest.mark.parametrize(
    "code",
    [
        "function onTrack( {",
        "async function onTrack() { await }",
        "const onTrack = () => { return 1 }}",
        "throw new Error('at load time')\nfunction onTrack() {}",
        "new URL('bad')\nfunction onTrack() {}",
    ],
)
def test_broken_code_shows_no_host_paths(code: str) -> None:
    r = run(code, workspace=ATTACKER, function_key="dfn_globex_broken")
    problems = check_code(code=code, function_type="destination", workspace=ATTACKER)
    assert r.status != "success"
    dumped = json.dumps([r.to_dict(), [p.to_dict() for p in problems]])
    for mark in HOST_MARKS:
        assert mark not in dumped, (mark, dumped[:2000])


# ---- 6. blocked addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://[fec0::1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[100::1]/",
        "http://[2001::1]/",
        "http://[2002:7f00:1::]/",
        "http://[::1]/",
        "http://[::]/",
        "http://[ff02::1]/",
        "http://127.0.0.1/",
        "http://127.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://0.0.0.0/",
    ],
)
def test_fetch_to_blocked_addresses_is_refused(url: str) -> None:
    r = run(
        f"async function onTrack() {{ try {{ await fetch('{url}'); return 'fetched' }} catch (e) {{ return [e.name, e.message] }} }}",
        workspace=ATTACKER,
        function_key="dfn_globex_ssrf",
    )
    assert r.status == "success", r.error
    name, message = r.result
    assert name == "TypeError"
    assert "blocked" in message
    [record] = r.fetches
    assert record["status"] is None and "blocked" in record["error"]


# ---- 7. fairness --------------------------------------------------------------------------------


class Gate:
    """An HTTP endpoint whose requests wait until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.cond = threading.Condition()
        self.arrived = 0
        self.inside = 0
        self.most_inside = 0
        gate = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with gate.cond:
                    gate.arrived += 1
                    gate.inside += 1
                    gate.most_inside = max(gate.most_inside, gate.inside)
                    gate.cond.notify_all()
                gate.opened.wait(30)
                with gate.cond:
                    gate.inside -= 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/gate"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_arrived(self, n: int, timeout: float = 30) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.arrived >= n, timeout)

    def close(self) -> None:
        self.opened.set()
        self.server.shutdown()


@pytest.fixture
def gate() -> Iterator[Gate]:
    g = Gate()
    yield g
    g.close()


def flood_then_victim(pool: WorkerPool, gate: Gate, per_tenant: int) -> None:
    flooder = (
        f"async function onTrack() {{ const r = await fetch('{gate.url}'); return await r.text() }}"
    )
    flood_size = per_tenant + 4
    with ThreadPoolExecutor(flood_size + 1) as executor:
        flood = [
            executor.submit(
                run,
                flooder,
                workspace=ATTACKER,
                function_key="dfn_globex_flood",
                timeout_ms=30000,
                allowed_hosts=["127.0.0.1"],
            )
            for _ in range(flood_size)
        ]
        try:
            assert gate.wait_arrived(per_tenant), "the flood never got its workers"
            assert pool.tenants().get(ATTACKER, 0) <= per_tenant
            victim = executor.submit(
                run, QUIET_VICTIM_CODE, workspace=VICTIM, function_key="dfn_acme_quiet"
            )
            # The flood is held at the gate: the victim must get through without it.
            assert_quiet_victim(victim.result(timeout=20))
            assert not any(f.done() for f in flood)
            assert (
                gate.arrived == per_tenant
            )  # the rest of the flood waits for the flood's own workers
            assert pool.tenants().get(ATTACKER, 0) <= per_tenant
        finally:
            gate.opened.set()
        assert [f.result(timeout=60).result for f in flood] == ["ok"] * flood_size
    assert gate.most_inside <= per_tenant
    assert pool.tenants().get(ATTACKER, 0) <= per_tenant


def test_a_flood_of_one_workspace_does_not_hold_up_another(fresh_pool, gate: Gate) -> None:
    pool = fresh_pool(RUNTIME_WORKERS=3, RUNTIME_WORKERS_PER_WORKSPACE=2)
    assert (pool.size, pool.per_tenant) == (3, 2)
    flood_then_victim(pool, gate, per_tenant=2)


def test_a_flood_does_not_hold_up_another_workspace_with_the_projects_own_pool_settings(
    fresh_pool, gate: Gate
) -> None:
    """The same, with RUNTIME_WORKERS / RUNTIME_WORKERS_PER_WORKSPACE as the project sets them."""
    pool = fresh_pool()
    assert pool.per_tenant < pool.size, (
        f"one workspace may hold every worker (RUNTIME_WORKERS={pool.size}, per workspace {pool.per_tenant})"
    )
    flood_then_victim(pool, gate, per_tenant=pool.per_tenant)


def test_idle_workers_of_another_workspace_make_room_for_the_victim(fresh_pool) -> None:
    pool = fresh_pool(RUNTIME_WORKERS=2, RUNTIME_WORKERS_PER_WORKSPACE=2)
    with ThreadPoolExecutor(2) as executor:
        warm = [
            executor.submit(
                run,
                "async function onTrack() { return 1 }",
                workspace=ATTACKER,
                function_key="dfn_globex_warm",
            )
            for _ in range(2)
        ]
        assert [f.result(timeout=30).result for f in warm] == [1, 1]
    assert sum(pool.tenants().values()) <= 2
    assert_quiet_victim(run(QUIET_VICTIM_CODE, workspace=VICTIM, function_key="dfn_acme_quiet"))
    assert pool.tenants().get(VICTIM) == 1 and sum(pool.tenants().values()) <= 2


# ---- 8. masking ---------------------------------------------------------------------------------

MASK = "••••"
MASKED_SECRET = 'sk_Live_"Quote\\Back/Slash+Plus&Amp=Eq Space_' + new_secret()[8:]


def masked_forms(secret: str) -> dict[str, str]:
    raw = secret.encode()
    return {
        "json": json.dumps(secret)[1:-1],
        "url": quote(secret, safe=""),
        "url_plus": quote_plus(secret),
        "base64": base64.b64encode(raw).decode(),
        "hex": raw.hex(),
        "upper": secret.upper(),
        "lower": secret.lower(),
        "exact": secret,
    }


FORMS_JS = """
  const s = settings.apiKey;
  const forms = {
    json: JSON.stringify(s).slice(1, -1), url: encodeURIComponent(s),
    url_plus: new URLSearchParams({ k: s }).toString().slice(2),
    base64: Buffer.from(s).toString('base64'), hex: Buffer.from(s).toString('hex'),
    upper: s.toUpperCase(), lower: s.toLowerCase(), exact: s,
  };
"""


@pytest.mark.parametrize("channel", ["logs", "result", "events", "error", "fetches"])
def test_the_secret_is_masked_in_every_common_encoding(channel: str) -> None:
    body = {
        "logs": "for (const [k, v] of Object.entries(forms)) console.log(k, v); return 'done'",
        "result": "return forms",
        "events": "for (const [k, v] of Object.entries(forms)) Segment.track({ event: 'E', userId: 'u', properties: { k, v } });",
        "error": "throw new Error(Object.entries(forms).map(([k, v]) => k + '=' + v).join(' | '))",
        "fetches": "for (const v of Object.values(forms)) await fetch('https://api.example.com/?k=' + v);",
    }[channel]
    r = run(
        f"async function onTrack(event, settings) {{{FORMS_JS}\n  {body}\n}}",
        workspace=VICTIM,
        function_key="dfn_acme_masking",
        settings={"apiKey": MASKED_SECRET},
        secret_values=[MASKED_SECRET],
        mock_fetch=True,
    )
    shown = json.dumps(getattr(r, channel), ensure_ascii=False)
    assert MASK in shown, shown
    for name, form in masked_forms(MASKED_SECRET).items():
        assert form.lower() not in shown.lower(), name
