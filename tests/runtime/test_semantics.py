# ruff: noqa: E501  (JavaScript snippets read better unwrapped)
"""Segment semantics: handlers, globals, error classes, the request object, settings."""

from __future__ import annotations

import json

import pytest

from functions_ui.runtime import RunOptions, check_code, run_function
from tests.runtime.conftest import run_body, run_dest


def test_track_handler_receives_event_and_settings() -> None:
    r = run_dest(
        "async function onTrack(event, settings) { return { e: event.event, k: settings.apiKey } }",
        settings={"apiKey": "abc"},
    )
    assert r.status == "success"
    assert r.category == "Success"
    assert r.result == {"e": "E", "k": "abc"}
    assert r.error is None


@pytest.mark.parametrize(
    ("etype", "handler"),
    [
        ("identify", "onIdentify"),
        ("track", "onTrack"),
        ("page", "onPage"),
        ("screen", "onScreen"),
        ("group", "onGroup"),
        ("alias", "onAlias"),
        ("delete", "onDelete"),
    ],
)
def test_dispatch_by_event_type(etype: str, handler: str) -> None:
    code = "\n".join(
        f"function {h}(e) {{ return '{h}' }}"
        for h in ("onIdentify", "onTrack", "onPage", "onScreen", "onGroup", "onAlias", "onDelete")
    )
    assert run_dest(code, event={"type": etype}).result == handler


def test_batch_runs_on_batch() -> None:
    r = run_dest(
        "async function onBatch(events) { return events.map(e => e.userId) }",
        event=[{"type": "track", "userId": "a"}, {"type": "identify", "userId": "b"}],
    )
    assert r.result == ["a", "b"]


def test_missing_handler_is_unsupported_event_type() -> None:
    r = run_dest("async function onIdentify(e) {}", event={"type": "track"})
    assert r.status == "unsupported_event_type"
    assert r.category == "Unsupported Event Type"
    assert r.error["name"] == "EventNotSupported"
    assert "track is not supported" in r.error["message"]


def test_missing_batch_handler_and_unknown_type() -> None:
    assert (
        run_dest("function onTrack(){}", event=[{"type": "track"}]).status
        == "unsupported_event_type"
    )
    assert (
        run_dest("function onTrack(){}", event={"type": "weird"}).status == "unsupported_event_type"
    )


def test_const_arrow_handlers_are_found() -> None:
    assert run_dest("const onTrack = async (e) => 'arrow'").result == "arrow"


@pytest.mark.parametrize(
    ("cls", "status", "label"),
    [
        ("EventNotSupported", "unsupported_event_type", "Unsupported Event Type"),
        ("InvalidEventPayload", "message_rejected", "Message Rejected"),
        ("ValidationError", "message_rejected", "Message Rejected"),
        ("RetryError", "retry", "Retry"),
        ("DropEvent", "dropped", "Filtered at insert function"),
        ("Error", "bad_request", "Bad Request"),
        ("TypeError", "bad_request", "Bad Request"),
    ],
)
def test_error_classes_and_categories(cls: str, status: str, label: str) -> None:
    r = run_body(f"await null;\n  throw new {cls}('nope')")
    assert r.status == status
    assert r.category == label
    assert r.error["name"] == cls
    assert r.error["message"] == "nope"
    assert r.error["line"] == 3  # points into the user's code
    assert r.error["column"] > 0
    assert "function.js:3" in r.error["stack"]


def test_error_classes_are_plain_error_subclasses() -> None:
    r = run_body(
        "return [EventNotSupported, InvalidEventPayload, ValidationError, RetryError, DropEvent]"
        ".map(C => { const e = new C('m'); return [e instanceof Error, e.name === C.name, e.message] })"
    )
    assert r.result == [[True, True, "m"]] * 5


def test_thrown_non_error_and_sync_throw() -> None:
    assert run_body("throw 'just a string'").error["message"] == "just a string"
    r = run_dest("function onTrack() {\n  null.boom\n}")
    assert r.status == "bad_request"
    assert r.error["name"] == "TypeError"
    assert (r.error["line"], r.error["column"]) == (2, 8)


def test_top_level_error_is_reported() -> None:
    r = run_dest("const x = undefinedThing;\nfunction onTrack() {}")
    assert r.status == "bad_request"
    assert r.error["name"] == "ReferenceError"
    assert r.error["line"] == 1


def test_syntax_error_is_invalid_code_with_position() -> None:
    r = run_dest("function onTrack(e) {\n  return e +;\n}")
    assert r.status == "invalid_code"
    assert r.error["name"] == "SyntaxError"
    assert r.error["line"] == 2
    assert r.error["column"] == 13


def test_insert_returns_changed_event_and_drop() -> None:
    code = """
    async function onTrack(event) {
      if (event.userId === 'drop') throw new DropEvent('filtered');
      event.properties = { ...event.properties, enriched: true };
      return event;
    }"""
    r = run_function(
        code=code,
        function_type="insert",
        payload={"type": "track", "userId": "u", "properties": {"a": 1}},
        settings={},
    )
    assert r.result == {"type": "track", "userId": "u", "properties": {"a": 1, "enriched": True}}
    r = run_function(
        code=code, function_type="insert", payload={"type": "track", "userId": "drop"}, settings={}
    )
    assert r.status == "dropped"


SOURCE = """
async function onRequest(request, settings) {
  const body = request.json();
  return {
    body,
    text: request.text(),
    contentType: request.headers.get('content-type'),
    sig: request.headers.get('X-Signature'),
    headersIsHeaders: request.headers instanceof Headers,
    urlIsURL: request.url instanceof URL,
    name: request.url.searchParams.get('name'),
    tags: request.url.searchParams.getAll('tag'),
    host: request.url.host,
  };
}
"""


def test_source_request_object() -> None:
    r = run_function(
        code=SOURCE,
        function_type="source",
        payload={
            "body": {"a": [1, 2]},
            "headers": {"Content-Type": "application/json", "X-Signature": "s1"},
            "url": "https://hooks.example.com/in?name=zed",
            "queryParameters": {"tag": ["x", "y"]},
        },
        settings={},
    )
    assert r.status == "success", r.error
    assert r.result == {
        "body": {"a": [1, 2]},
        "text": '{"a":[1,2]}',
        "contentType": "application/json",
        "sig": "s1",
        "headersIsHeaders": True,
        "urlIsURL": True,
        "name": "zed",
        "tags": ["x", "y"],
        "host": "hooks.example.com",
    }


def test_source_string_body_and_form_body() -> None:
    code = "async function onRequest(r) { return [r.text(), r.json()] }"
    r = run_function(code=code, function_type="source", payload={"body": '{"x": 1}'}, settings={})
    assert r.result == ['{"x": 1}', {"x": 1}]
    r = run_function(
        code=code,
        function_type="source",
        settings={},
        payload={
            "body": "a=1&b=two",
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
    )
    assert r.result == ["a=1&b=two", {"a": "1", "b": "two"}]


def test_source_body_limit() -> None:
    r = run_function(
        code="async function onRequest(){}",
        function_type="source",
        payload={"body": "x" * (512 * 1024 + 1)},
        settings={},
    )
    assert r.status == "bad_request"
    assert r.error["name"] == "PayloadTooLarge"


def test_source_without_on_request() -> None:
    r = run_function(
        code="function onTrack(){}", function_type="source", payload={"body": "{}"}, settings={}
    )
    assert r.status == "unsupported_event_type"


def test_settings_strings_booleans_arrays_and_maps() -> None:
    settings = {"apiKey": "k", "enabled": True, "ids": ["a", "b"], "mapping": {"x": "1", "y": "2"}}
    r = run_body(
        "return [settings.apiKey, settings.enabled, Array.isArray(settings.ids), settings.ids.join('|'),"
        " Object.entries(settings.mapping), settings.mapping instanceof Object]",
        settings=settings,
    )
    assert r.result == ["k", True, True, "a|b", [["x", "1"], ["y", "2"]], True]


EMIT_ALL = """
async function onRequest(request) {
  Segment.identify({ userId: 'u1', traits: { name: 'Ann' } });
  Segment.track({ event: 'Signed Up', anonymousId: 'a1', properties: { plan: 'pro' }, extra: 'dropped' });
  Segment.page({ name: 'Home', userId: 'u1', properties: { url: 'https://x' } });
  Segment.screen({ name: 'Main', userId: 'u1' });
  Segment.group({ groupId: 'g1', userId: 'u1', traits: { n: 1 } });
  Segment.alias({ previousId: 'old', userId: 'u1' });
  Segment.set({ collection: 'users', id: 'u1', properties: { a: 1 } });
  return 'ignored';
}
"""


def test_segment_emitters() -> None:
    r = run_function(code=EMIT_ALL, function_type="source", payload={"body": "{}"}, settings={})
    assert r.status == "success", r.error
    assert [e["type"] for e in r.events] == [
        "identify",
        "track",
        "page",
        "screen",
        "group",
        "alias",
    ]
    assert r.events[1] == {
        "type": "track",
        "anonymousId": "a1",
        "event": "Signed Up",
        "properties": {"plan": "pro"},
    }
    assert r.objects == [{"collection": "users", "id": "u1", "properties": {"a": 1}}]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("Segment.track({ userId: 'u' })", "event is required but not defined"),
        ("Segment.track({ event: 'E' })", "userId or anonymousId is required but not defined"),
        ("Segment.identify({ traits: {} })", "userId or anonymousId is required but not defined"),
        ("Segment.page({ name: 'x' })", "userId or anonymousId is required but not defined"),
        ("Segment.screen({})", "userId or anonymousId is required but not defined"),
        ("Segment.group({ userId: 'u' })", "groupId is required but not defined"),
        ("Segment.alias({ userId: 'u' })", "previousId is required but not defined"),
        ("Segment.set({ id: '1' })", "collection is required but not defined"),
        ("Segment.set({ collection: 'users' })", "id is required but not defined"),
        ("Segment.set({ collection: 'Users', id: '1' })", "collection must be lowercase"),
    ],
)
def test_segment_validation(call: str, message: str) -> None:
    r = run_body(call)
    assert r.status == "message_rejected"
    assert r.error["name"] == "ValidationError"
    assert r.error["message"] == message


def test_emitted_message_size_and_count_limits() -> None:
    r = run_body(
        "Segment.track({ event: 'E', userId: 'u', properties: { big: 'x'.repeat(40000) } })"
    )
    assert r.status == "message_rejected"
    assert "32KB" in r.error["message"]
    r = run_body("for (let i = 0; i < 5000; i++) Segment.track({ event: 'E', userId: 'u' })")
    assert r.status == "message_rejected"
    assert len(r.events) == 1000


def test_console_is_captured_with_levels() -> None:
    r = run_body(
        "console.log('a', 1, { b: [1, 'c'] }); console.info('%s=%d', 'n', 5);"
        " console.warn('w'); console.error(new Error('boom')); console.debug(null, undefined)"
    )
    assert r.logs[0] == {"level": "log", "message": "a 1 { b: [ 1, 'c' ] }"}
    assert r.logs[1] == {"level": "info", "message": "n=5"}
    assert r.logs[2]["level"] == "warn"
    assert r.logs[3]["level"] == "error" and r.logs[3]["message"].startswith("Error: boom")
    assert r.logs[4]["message"] == "null undefined"


def test_web_and_node_globals() -> None:
    r = run_body(
        """
        const u = new URL('https://a.example/p?q=1'); u.searchParams.append('r', '2');
        const h = new Headers({ 'X-A': '1' });
        const res = new Response(JSON.stringify({ ok: 1 }), { status: 201 });
        const req = new Request('https://a.example/', { method: 'POST', body: 'x' });
        const fd = new FormData(); fd.append('k', 'v');
        return {
          url: u.toString(), qs: new URLSearchParams('a=1&b=2').get('b'), h: h.get('x-a'),
          res: [res.status, await res.json()], req: [req.method, await req.text()], fd: fd.get('k'),
          b64: [btoa('hi'), atob('aGk=')], buf: Buffer.from('hi').toString('base64'),
          hash: crypto.createHash('sha256').update('abc').digest('hex').slice(0, 8),
          hmac: crypto.createHmac('sha256', 'k').update('m').digest('hex').length,
          uuid: crypto.randomUUID().length, rnd: crypto.randomBytes(4).length,
          subtle: Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc'))).toString('hex').slice(0, 8),
          lodash: [_.get({ a: { b: 3 } }, 'a.b'), _.chunk([1, 2, 3], 2), typeof _.debounce],
          types: [typeof setTimeout, typeof clearTimeout, typeof setInterval, typeof clearInterval, typeof fetch],
        };
        """
    )
    assert r.status == "success", r.error
    assert r.result == {
        "url": "https://a.example/p?q=1&r=2",
        "qs": "2",
        "h": "1",
        "res": [201, {"ok": 1}],
        "req": ["POST", "x"],
        "fd": "v",
        "b64": ["aGk=", "hi"],
        "buf": "aGk=",
        "hash": "ba7816bf",
        "hmac": 64,
        "uuid": 36,
        "rnd": 4,
        "subtle": "ba7816bf",
        "lodash": [3, [[1, 2], [3]], "function"],
        "types": ["function"] * 5,
    }


def test_timers() -> None:
    r = run_body(
        """
        const order = [];
        await new Promise(r => setTimeout(() => { order.push('t'); r() }, 5));
        const t = setTimeout(() => order.push('cleared'), 1); clearTimeout(t);
        let n = 0;
        await new Promise(r => { const i = setInterval(() => { order.push('i'); if (++n === 3) { clearInterval(i); r() } }, 1) });
        await new Promise(r => setTimeout(r, 5));
        return order;
        """
    )
    assert r.result == ["t", "i", "i", "i"]


def test_exception_in_timer_callback_fails_the_run() -> None:
    r = run_body(
        "setTimeout(() => { throw new RetryError('later') }, 1); await new Promise(() => {})",
        timeout_ms=2000,
    )
    assert r.status == "retry"


def test_cache_is_fresh_without_namespace_and_persists_with_one() -> None:
    code = "let n = 0; async function onTrack() { return cache.load('k', 60000, async () => Date.now() + Math.random()) }"
    a = run_dest(code).result
    b = run_dest(code).result
    assert a != b  # editor test runs start with an empty cache
    ns = f"fn-{a}"
    c = run_dest(code, cache_namespace=ns).result
    d = run_dest(code, cache_namespace=ns).result
    assert c == d
    r = run_body(
        "cache.delete('k'); const v = await cache.load('k', -1, () => 'fresh');"
        " const w = await cache.load('k', 10, () => 'other'); return [v, w]",
        cache_namespace=ns,
    )
    assert r.result == ["fresh", "fresh"]


def test_cache_ttl_expiry_and_failed_loads_are_not_cached() -> None:
    r = run_body(
        """
        const a = await cache.load('t', 1, () => 'a');
        await new Promise(r => setTimeout(r, 5));
        const b = await cache.load('t', 1, () => 'b');
        let err; try { await cache.load('f', 1000, async () => { throw new Error('x') }) } catch (e) { err = e.message }
        const c = await cache.load('f', 1000, () => 'ok');
        return [a, b, err, c];
        """
    )
    assert r.result == ["a", "b", "x", "ok"]


def test_return_value_must_be_json() -> None:
    r = run_body("const o = {}; o.self = o; return o")
    assert r.status == "bad_request"
    assert "JSON" in r.error["message"]


def test_to_dict_is_json_serializable() -> None:
    d = run_body("console.log('x'); return 1").to_dict()
    assert json.loads(json.dumps(d))["logs"] == [{"level": "log", "message": "x"}]
    assert set(d) >= {
        "status",
        "category",
        "events",
        "objects",
        "result",
        "logs",
        "fetches",
        "error",
        "duration_ms",
    }


def test_check_code() -> None:
    assert check_code(code="async function onRequest(r, s) {}", function_type="source") == []
    assert check_code(code="async function onTrack(e, s) {}", function_type="destination") == []
    assert check_code(code="const onBatch = async (e) => e", function_type="insert") == []
    [p] = check_code(code="// function onRequest\nfunction helper() {}", function_type="source")
    assert p.kind == "missing_handler"
    [p] = check_code(code="function helper() {}", function_type="destination")
    assert p.kind == "missing_handler"
    [p] = check_code(code="function onTrack(e) {\n  return e +;\n}", function_type="destination")
    assert (p.kind, p.line, p.column) == ("syntax", 2, 13)
    problems = check_code(
        code="async function onRequest() {\n fetch('https://fn.segmentapis.com/x') }",
        function_type="source",
    )
    assert [(p.kind, p.line) for p in problems] == [("forbidden", 2)]


def test_unknown_function_type() -> None:
    with pytest.raises(ValueError):
        run_function(code="", function_type="nope", payload={}, settings={})


def test_secret_values_are_masked() -> None:
    r = run_body(
        "console.log('key is', settings.token); Segment.track({ event: settings.token, userId: 'u' });"
        " await fetch('https://api.example.com/?t=' + settings.token);"
        " throw new Error('bad token ' + settings.token)",
        settings={"token": "s3cr3t-value"},
        secret_values=["s3cr3t-value"],
        mock_fetch=True,
    )
    blob = json.dumps(r.to_dict(), ensure_ascii=False)
    assert "s3cr3t-value" not in blob
    assert r.logs[0]["message"] == "key is ••••"
    assert r.error["message"] == "bad token ••••"
    assert r.fetches[0]["url"] == "https://api.example.com/?t=••••"


def test_run_options_default() -> None:
    assert (
        run_function(
            code="function onTrack(){ return 1 }",
            function_type="destination",
            payload={"type": "track"},
            settings={},
            options=RunOptions(),
        ).result
        == 1
    )


def test_missing_node_is_a_clear_error() -> None:
    from functions_ui.runtime import RuntimeUnavailable
    from functions_ui.runtime.pool import WorkerPool

    pool = WorkerPool(1, 64, node_path="/nonexistent/node")
    with pytest.raises(RuntimeUnavailable, match=r"Node\.js 20\+ is required"):
        pool.request({"op": "ping", "id": 1}, 1.0)
