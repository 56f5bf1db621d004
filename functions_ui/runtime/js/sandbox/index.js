// The runtime that lives INSIDE a function's V8 isolate (bundled by esbuild into build/sandbox.js).
//
// The isolate has its own heap and nothing of Node or of the host: every global a function sees
// (Segment, console, timers, fetch, URL, Buffer, crypto, lodash, ...) is defined here, in the
// isolate's own realm. The host reaches in through the entry points below and reaches out only
// through one synchronous function, `call(op, ...strings) -> string`, and through the JSON that
// `flush()` returns after each entry (logs, emitted messages, fetches to make, the next timer, the
// outcome). Strings are copied across; no object is shared.
//
// One context serves many runs, one at a time, of the functions of one workspace: each run names
// the function (the factory its code compiled to) it runs. All state of a run hangs off `run`,
// which the next start() replaces; everything shared is frozen by lockdown() once the globals
// are defined, so a run can leave nothing behind that a later run (of the same function or
// another) could see.

import { createWebApis } from './webapis.js';
import { createCrypto } from './crypto.js';
import { harden, internal, lockdown } from './harden.js';

const G = globalThis;
const hostCall = G.__fnrt_host;
delete G.__fnrt_host;
delete G.WebAssembly; // not offered (Segment's runtime has no use for it)

const USER_FILE = 'function.js';
const LOG_LIMIT = 32 * 1024;
const MESSAGE_LIMIT = 32 * 1024;
const MAX_MESSAGES = 1000;
const MAX_TIMERS = 1000;
const MAX_CACHE_ENTRIES = 1000;
const CACHE_NAMESPACES = 256;

const JSONparse = JSON.parse;
const JSONstringify = JSON.stringify;
const StringCtor = String;
const ArrayIsArray = Array.isArray;
const ownKeys = Reflect.ownKeys;
const defineProperty = Object.defineProperty;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const DateNow = Date.now;
const hasOwn = Object.hasOwn;

// Host errors arrive as a string starting with NUL and a letter for the class, then the message.
function call(op, ...args) {
  const reply = hostCall(op, ...args);
  if (typeof reply === 'string' && reply.charCodeAt(0) === 0) {
    const message = reply.slice(2);
    throw reply[1] === 'T' ? new TypeError(message) : reply[1] === 'R' ? new RangeError(message) : new Error(message);
  }
  return reply;
}

// ---- the current run ------------------------------------------------------------------------
let run = null;

function newRun(id, cacheNamespace) {
  return {
    id,
    cacheNamespace,
    logs: [],
    logBytes: 0,
    events: [],
    objects: [],
    timers: new Map(),
    timerSeq: 0,
    outFetches: [],
    pendingFetches: new Map(),
    fetchSeq: 0,
    done: null,
  };
}

// ---- errors -----------------------------------------------------------------------------------
// Stack traces show only the user's frames, and user code cannot install its own formatter (the
// CallSite objects it would receive describe runtime frames).
const errorToString = Error.prototype.toString;
defineProperty(Error, 'prepareStackTrace', {
  value(error, frames) {
    let header;
    try {
      header = Reflect.apply(errorToString, error, []);
    } catch {
      header = 'Error';
    }
    const lines = [header];
    for (const f of frames) if (f.getFileName() === USER_FILE) lines.push(`    at ${f}`);
    return lines.join('\n');
  },
  writable: false,
  configurable: false,
});

class EventNotSupported extends Error {
  name = 'EventNotSupported';
}
class InvalidEventPayload extends Error {
  name = 'InvalidEventPayload';
}
class ValidationError extends Error {
  name = 'ValidationError';
}
class RetryError extends Error {
  name = 'RetryError';
}
class DropEvent extends Error {
  name = 'DropEvent';
}
const CATEGORY_BY_NAME = {
  __proto__: null,
  EventNotSupported: 'unsupported_event_type',
  InvalidEventPayload: 'message_rejected',
  ValidationError: 'message_rejected',
  RetryError: 'retry',
  DropEvent: 'dropped',
};

function categoryOf(e) {
  if (e instanceof EventNotSupported) return 'unsupported_event_type';
  if (e instanceof InvalidEventPayload || e instanceof ValidationError) return 'message_rejected';
  if (e instanceof RetryError) return 'retry';
  if (e instanceof DropEvent) return 'dropped';
  let name;
  try {
    name = e !== null && typeof e === 'object' ? e.name : undefined;
  } catch {
    name = undefined;
  }
  return (typeof name === 'string' && CATEGORY_BY_NAME[name]) || 'bad_request';
}

// Reads a thrown value defensively: its getters and toString are user code.
function describe(e) {
  let name = 'Error';
  let message = '';
  let stack = '';
  try {
    if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
      const n = e.name;
      name = typeof n === 'string' && n ? n : 'Error';
      const m = e.message;
      message = m === undefined ? '' : StringCtor(m);
      const s = e.stack;
      stack = typeof s === 'string' ? s : '';
    } else {
      message = StringCtor(e);
    }
  } catch {
    message = message || 'Uncaught exception (the thrown value could not be read)';
  }
  return { name, message, stack };
}

// ---- console ---------------------------------------------------------------------------------
const IDENT = /^[A-Za-z_$][\w$]*$/;
function inspect(value, depth, seen) {
  const t = typeof value;
  if (value === null) return 'null';
  if (t === 'undefined') return 'undefined';
  if (t === 'string') return depth === 0 ? value : `'${value}'`;
  if (t === 'number' || t === 'boolean') return StringCtor(value);
  if (t === 'bigint') return `${value}n`;
  if (t === 'symbol') return value.toString();
  if (t === 'function') {
    let n = '';
    try {
      n = value.name;
    } catch {
      n = '';
    }
    return n ? `[Function: ${n}]` : '[Function (anonymous)]';
  }
  if (value instanceof Error) {
    const d = describe(value);
    return d.stack || `${d.name}: ${d.message}`;
  }
  if (seen.includes(value)) return '[Circular]';
  if (depth > 2) return ArrayIsArray(value) ? '[Array]' : '[Object]';
  seen.push(value);
  const parts = [];
  let out;
  try {
    if (ArrayIsArray(value)) {
      const n = value.length;
      for (let i = 0; i < n && i < 100; i++) parts.push(inspect(value[i], depth + 1, seen));
      if (n > 100) parts.push(`... ${n - 100} more items`);
      out = parts.length ? `[ ${parts.join(', ')} ]` : '[]';
    } else if (value instanceof Map) {
      for (const [k, v] of value) parts.push(`${inspect(k, depth + 1, seen)} => ${inspect(v, depth + 1, seen)}`);
      out = `Map(${parts.length}) {${parts.length ? ` ${parts.join(', ')} ` : ''}}`;
    } else if (value instanceof Date) {
      out = value.toISOString();
    } else {
      const keys = ownKeys(value);
      for (let i = 0; i < keys.length && i < 100; i++) {
        const k = keys[i];
        if (typeof k === 'symbol') continue;
        const desc = getOwnPropertyDescriptor(value, k);
        if (!desc || !desc.enumerable) continue;
        const label = IDENT.test(k) ? k : `'${k}'`;
        parts.push(`${label}: ${'value' in desc ? inspect(desc.value, depth + 1, seen) : '[Getter/Setter]'}`);
      }
      out = parts.length ? `{ ${parts.join(', ')} }` : '{}';
    }
  } catch {
    out = '[object]';
  }
  seen.pop();
  return out;
}

function format(args) {
  const parts = [];
  let i = 0;
  if (typeof args[0] === 'string' && args.length > 1 && args[0].includes('%')) {
    i = 1;
    parts.push(
      args[0].replace(/%[sdifjoOc%]/g, (m) => {
        if (m === '%%') return '%';
        if (i >= args.length) return m;
        const a = args[i++];
        if (m === '%d' || m === '%i') return StringCtor(Math.trunc(Number(a)));
        if (m === '%f') return StringCtor(Number(a));
        if (m === '%j') {
          try {
            return JSONstringify(a);
          } catch {
            return '[Circular]';
          }
        }
        if (m === '%c') return '';
        if (m === '%s' && typeof a === 'string') return a;
        return inspect(a, 1, []);
      }),
    );
  }
  for (; i < args.length; i++) parts.push(inspect(args[i], 0, []));
  return parts.join(' ');
}

function log(level, args) {
  const r = run;
  if (!r || r.logBytes >= LOG_LIMIT) return;
  let text = format(args);
  const left = LOG_LIMIT - r.logBytes;
  if (text.length > left) {
    text = `${text.slice(0, left)}\n… console output truncated (limit ${LOG_LIMIT / 1024} KB)`;
    r.logBytes = LOG_LIMIT;
  } else {
    r.logBytes += text.length + 1;
  }
  r.logs.push({ level, message: text });
}

const consoleObj = {};
for (const [method, level] of [
  ['log', 'log'],
  ['info', 'info'],
  ['warn', 'warn'],
  ['error', 'error'],
  ['debug', 'debug'],
  ['trace', 'debug'],
  ['dir', 'log'],
  ['table', 'log'],
]) {
  consoleObj[method] = (...args) => log(level, args);
}

// ---- timers: a run's own; the host is asked for one wake-up at the earliest due time ----------
class Timeout {
  #id;
  constructor(id) {
    this.#id = id;
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  hasRef() {
    return true;
  }
  refresh() {
    const t = run && run.timers.get(this.#id);
    if (t) t.at = DateNow() + t.ms;
    return this;
  }
  [Symbol.toPrimitive]() {
    return this.#id;
  }
}
internal(Timeout);

function addTimer(fn, ms, args, repeat) {
  if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
  const r = run;
  if (!r) throw new Error('timers are only available while the function runs');
  if (r.timers.size >= MAX_TIMERS) throw new Error('Too many active timers');
  let delay = Number(ms);
  if (!(delay >= 1 && delay <= 2147483647)) delay = 1;
  const id = ++r.timerSeq;
  r.timers.set(id, { fn, args, ms: delay, at: DateNow() + delay, repeat });
  return new Timeout(id);
}

function clearTimer(handle) {
  if (handle === null || handle === undefined || !run) return;
  const id = typeof handle === 'object' ? Number(handle[Symbol.toPrimitive]?.()) : Number(handle);
  run.timers.delete(id);
}

function nextTimerDelay(r) {
  let next = Infinity;
  for (const t of r.timers.values()) if (t.at < next) next = t.at;
  return next === Infinity ? null : Math.max(0, next - DateNow());
}

// ---- web APIs, Buffer, crypto -------------------------------------------------------------------
const web = createWebApis({
  urlParse: (input, base) => hostCall('url', StringCtor(input), base === undefined ? '\u0000' : StringCtor(base)),
  setTimeout: (fn, ms) => addTimer(fn, ms, [], false),
  clearTimeout: clearTimer,
});
const { Buffer, Headers, URL, URLSearchParams, requestToWire, responseFromWire } = web;
const crypto = createCrypto(call, Buffer);

// ---- fetch: the request is handed to the host after this entry; the answer comes by deliver() --
function fetch(input, init) {
  const r = run;
  return requestToWire(input, init).then(
    (wire) =>
      new Promise((resolve, reject) => {
        if (run !== r || r.done !== null) return; // the run is over: this fetch never happens
        const id = ++r.fetchSeq;
        r.pendingFetches.set(id, { resolve, reject });
        r.outFetches.push({
          id,
          method: wire.method,
          url: wire.url,
          headers: wire.headers,
          body: wire.body === null ? null : Buffer.from(wire.body).toString('base64'),
          redirect: wire.redirect,
        });
      }),
    (e) => {
      throw new TypeError(describe(e).message);
    },
  );
}

// ---- lodash: one copy per isolate, loaded when the runtime is made, and frozen -------------
// A fresh instance per run (`runInContext`) cost 3 ms a run; a frozen shared one costs nothing and
// no run can change it for the next (`_.mixin` and `_.templateSettings` are then read-only;
// `_.runInContext()` still gives a run its own, changeable copy).
let sharedLodash = null;
let lodashLoading = false;
function lodashForRun() {
  // lodash reads the global `_` while it loads (for noConflict): that read must not load it again.
  if (lodashLoading) return undefined;
  if (sharedLodash === null) {
    lodashLoading = true;
    try {
      sharedLodash = harden(require('lodash'));
    } finally {
      lodashLoading = false;
    }
  }
  return sharedLodash;
}

// ---- cache: per instance (namespace), kept across runs of that instance ------------------------
const cacheStores = new Map();
function cacheStore() {
  const ns = run && run.cacheNamespace;
  if (!ns) {
    if (!run.ephemeralCache) run.ephemeralCache = new Map();
    return run.ephemeralCache;
  }
  let store = cacheStores.get(ns);
  if (store) {
    cacheStores.delete(ns);
  } else {
    store = new Map();
  }
  cacheStores.set(ns, store);
  if (cacheStores.size > CACHE_NAMESPACES) cacheStores.delete(cacheStores.keys().next().value);
  return store;
}
const cache = {
  load(key, ttl, fn) {
    if (typeof ttl === 'function' && fn === undefined) {
      fn = ttl;
      ttl = undefined;
    }
    if (typeof fn !== 'function') throw new TypeError('cache.load(key, ttl, fn): fn must be a function');
    const store = cacheStore();
    const k = StringCtor(key);
    const now = DateNow();
    const hit = store.get(k);
    if (hit && (hit.exp === null || hit.exp > now)) return hit.p;
    const p = new Promise((res) => res(fn()));
    const t = Number(ttl);
    const entry = { p, exp: ttl === undefined || ttl === null || !(t >= 0) ? null : now + t };
    store.delete(k);
    store.set(k, entry);
    if (store.size > MAX_CACHE_ENTRIES) store.delete(store.keys().next().value);
    p.then(undefined, () => {
      if (store.get(k) === entry) store.delete(k);
    });
    return p;
  },
  delete(key) {
    cacheStore().delete(StringCtor(key));
  },
};

// ---- Segment -----------------------------------------------------------------------------------
const COMMON = ['userId', 'anonymousId', 'context', 'integrations', 'messageId', 'sentAt', 'timestamp'];
const FIELDS = {
  __proto__: null,
  identify: ['traits'],
  track: ['event', 'properties'],
  page: ['name', 'category', 'properties'],
  screen: ['name', 'category', 'properties'],
  group: ['groupId', 'traits'],
  alias: ['previousId'],
};
const missing = (v) => v === undefined || v === null || v === '';
function requireAttr(msg, attr) {
  if (missing(msg[attr])) throw new ValidationError(`${attr} is required but not defined`);
}
function checkMessage(msg) {
  if (msg === null || typeof msg !== 'object' || ArrayIsArray(msg)) throw new ValidationError('message must be an object');
}
function utf8Length(s) {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c >= 0x800 && !(c >= 0xd800 && c <= 0xdfff) ? 2 : 1;
  }
  return n;
}
function record(kind, message) {
  const r = run;
  if (!r || r.done !== null) return;
  if (r.events.length + r.objects.length >= MAX_MESSAGES) {
    throw new ValidationError(`too many messages: a function can emit at most ${MAX_MESSAGES} per run`);
  }
  const json = JSONstringify(message);
  if (utf8Length(json) > MESSAGE_LIMIT) {
    throw new ValidationError('failed calling Tracking API: the message is too large and over the maximum 32KB limit');
  }
  (kind === 'object' ? r.objects : r.events).push(json);
}
function emit(type, msg) {
  checkMessage(msg);
  if (type === 'track') requireAttr(msg, 'event');
  if (type === 'group') requireAttr(msg, 'groupId');
  if (type === 'alias') requireAttr(msg, 'previousId');
  if (type !== 'group' && type !== 'alias' && missing(msg.userId) && missing(msg.anonymousId)) {
    throw new ValidationError('userId or anonymousId is required but not defined');
  }
  const out = { type };
  for (const f of COMMON) if (msg[f] !== undefined) out[f] = msg[f];
  for (const f of FIELDS[type]) if (msg[f] !== undefined) out[f] = msg[f];
  record('event', out);
}
const Segment = {
  identify: (m) => emit('identify', m),
  track: (m) => emit('track', m),
  page: (m) => emit('page', m),
  screen: (m) => emit('screen', m),
  group: (m) => emit('group', m),
  alias: (m) => emit('alias', m),
  set(m) {
    checkMessage(m);
    requireAttr(m, 'collection');
    requireAttr(m, 'id');
    const collection = StringCtor(m.collection);
    if (collection !== collection.toLowerCase()) throw new ValidationError('collection must be lowercase');
    record('object', { collection, id: m.id, properties: m.properties === undefined ? {} : m.properties });
  },
};

// ---- globals ------------------------------------------------------------------------------------
const globals = {
  console: consoleObj,
  setTimeout: (fn, ms, ...args) => addTimer(fn, ms, args, false),
  setInterval: (fn, ms, ...args) => addTimer(fn, ms, args, true),
  setImmediate: (fn, ...args) => addTimer(fn, 0, args, false),
  clearTimeout: clearTimer,
  clearInterval: clearTimer,
  clearImmediate: clearTimer,
  queueMicrotask: (fn) => {
    if (typeof fn !== 'function') throw new TypeError('callback must be a function');
    Promise.resolve().then(() => fn());
  },
  crypto,
  fetch,
  cache,
  Segment,
  EventNotSupported,
  InvalidEventPayload,
  ValidationError,
  RetryError,
  DropEvent,
};
for (const name of [
  'URL',
  'URLSearchParams',
  'Headers',
  'Request',
  'Response',
  'FormData',
  'Blob',
  'File',
  'TextEncoder',
  'TextDecoder',
  'Buffer',
  'atob',
  'btoa',
  'AbortController',
  'AbortSignal',
  'Event',
  'EventTarget',
  'DOMException',
  'ReadableStream',
  'structuredClone',
]) {
  globals[name] = web[name];
}
for (const [name, value] of Object.entries(globals)) {
  defineProperty(G, name, { value, writable: false, configurable: false, enumerable: false });
}
defineProperty(G, '_', { get: lodashForRun, configurable: false, enumerable: false });

// ---- the source request --------------------------------------------------------------------
function makeRequest(payload) {
  const p = payload !== null && typeof payload === 'object' ? payload : {};
  const headers = new Headers();
  const hs = p.headers !== null && typeof p.headers === 'object' ? p.headers : {};
  for (const k of Object.keys(hs)) {
    const v = hs[k];
    if (ArrayIsArray(v)) for (const item of v) headers.append(k, StringCtor(item));
    else if (v !== undefined && v !== null) headers.append(k, StringCtor(v));
  }
  let url;
  try {
    url = new URL(typeof p.url === 'string' && p.url ? p.url : 'https://fn.segmentapis.com/');
  } catch {
    url = new URL('https://fn.segmentapis.com/');
  }
  // queryParameters add the keys the URL's own query lacks (a fixture may give them apart);
  // a key the URL already has is not repeated.
  const qp = p.queryParameters;
  if (qp !== null && typeof qp === 'object') {
    for (const k of Object.keys(qp)) {
      if (url.searchParams.has(k)) continue;
      const v = qp[k];
      if (ArrayIsArray(v)) for (const item of v) url.searchParams.append(k, StringCtor(item));
      else if (v !== undefined && v !== null) url.searchParams.append(k, StringCtor(v));
    }
  }
  const body = p.body;
  const raw = body === undefined || body === null ? '' : typeof body === 'string' ? body : JSONstringify(body);
  const contentType = headers.get('content-type') || '';
  return {
    headers,
    url,
    json() {
      try {
        return JSONparse(raw);
      } catch (e) {
        if (contentType.includes('application/x-www-form-urlencoded')) {
          const out = {};
          for (const [k, v] of new URLSearchParams(raw)) out[k] = v;
          return out;
        }
        throw e;
      }
    },
    text() {
      return raw;
    },
  };
}

// ---- invocation ----------------------------------------------------------------------------------
// Segment's handlers by event type, and the source and batch handlers: handed over by the host
// when the function is loaded (runtime/types.py describes them).
let HANDLERS = null;

function settle(r, outcome) {
  if (r.done !== null) return;
  r.done = outcome;
  r.timers.clear();
  r.pendingFetches.clear();
}
function ok(r, value) {
  if (r.done !== null) return;
  let json;
  try {
    json = JSONstringify(value === undefined ? null : value);
    if (json === undefined) json = 'null';
  } catch (e) {
    fail(r, new TypeError(`The handler returned a value that is not JSON-serializable: ${describe(e).message}`));
    return;
  }
  settle(r, `{"status":"success","error":null,"result":${json}}`);
}
function fail(r, e) {
  if (r.done !== null) return;
  settle(r, JSONstringify({ status: categoryOf(e), error: describe(e), result: null }));
}

function start(runId, dataJson, cacheNamespace, moduleFactory) {
  const r = newRun(runId, cacheNamespace || null);
  run = r;
  let ret;
  try {
    const data = JSONparse(dataJson);
    const handlers = moduleFactory();
    const payload = data.payload;
    let fn;
    let arg;
    if (data.kind === 'source') {
      fn = handlers[HANDLERS.source];
      if (typeof fn !== 'function') throw new EventNotSupported(`${HANDLERS.source} is not defined`);
      arg = makeRequest(payload);
    } else if (ArrayIsArray(payload)) {
      fn = handlers[HANDLERS.batch];
      if (typeof fn !== 'function') throw new EventNotSupported('batch is not supported');
      arg = payload;
    } else {
      const type = payload !== null && typeof payload === 'object' ? payload.type : undefined;
      const name = typeof type === 'string' && hasOwn(HANDLERS.byEventType, type) ? HANDLERS.byEventType[type] : undefined;
      fn = name ? handlers[name] : undefined;
      if (typeof fn !== 'function') throw new EventNotSupported(`${StringCtor(type)} is not supported`);
      arg = payload;
    }
    ret = fn(arg, data.settings);
  } catch (e) {
    fail(r, e);
    return;
  }
  Promise.resolve(ret).then(
    (v) => ok(r, v),
    (e) => fail(r, e),
  );
}

function tick(runId) {
  const r = run;
  if (!r || r.id !== runId || r.done !== null) return;
  const now = DateNow();
  const due = [];
  for (const [id, t] of r.timers) if (t.at <= now) due.push([id, t]);
  due.sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
  for (const [id, t] of due) {
    if (r.timers.get(id) !== t) continue; // cleared by an earlier callback
    if (t.repeat) t.at = DateNow() + t.ms;
    else r.timers.delete(id);
    try {
      Reflect.apply(t.fn, undefined, t.args);
    } catch (e) {
      fail(r, e); // an exception escaping a timer callback ends the invocation, as in Node
      return;
    }
  }
}

function deliver(runId, fetchId, replyJson) {
  const r = run;
  if (!r || r.id !== runId || r.done !== null) return;
  const pending = r.pendingFetches.get(fetchId);
  if (!pending) return;
  r.pendingFetches.delete(fetchId);
  const reply = JSONparse(replyJson);
  if (reply.error) {
    pending.reject(new TypeError(`fetch failed: ${reply.error}`));
    return;
  }
  try {
    pending.resolve(
      responseFromWire({
        status: reply.status,
        statusText: reply.statusText,
        headers: reply.headers,
        body: reply.nullBody ? null : Buffer.from(reply.body, 'base64'),
        url: reply.url,
        redirected: reply.redirected,
      }),
    );
  } catch (e) {
    pending.reject(new TypeError(`fetch failed: ${describe(e).message}`));
  }
}

// What happened since the last flush, for the host. Events are already JSON text.
function flush() {
  const r = run;
  if (!r) return '{}';
  const out =
    `{"logs":${JSONstringify(r.logs)},"events":[${r.events.join(',')}],"objects":[${r.objects.join(',')}],` +
    `"fetches":${JSONstringify(r.outFetches)},"timer":${r.done === null ? JSONstringify(nextTimerDelay(r)) : 'null'},` +
    `"done":${r.done === null ? 'null' : r.done}}`;
  r.logs = [];
  r.events = [];
  r.objects = [];
  r.outFetches = [];
  return out;
}

const entry = {
  configure(handlersJson) {
    HANDLERS = JSONparse(handlersJson);
  },
  start,
  tick,
  deliver,
  flush,
  lockdown() {
    lockdown(G);
    // Loaded now, while the process starts, not on a function's first use of `_`.
    lodashForRun();
  },
};
defineProperty(G, '__fnrt_entry', { value: entry, configurable: true });
