'use strict';
// A long-lived worker: reads one JSON request per stdin line, runs the user's function in a fresh
// vm context, writes one JSON reply per stdout line. Started by functions_ui/runtime/pool.py with an
// empty environment, the permission model (fs reads limited to this directory and lodash),
// --disallow-code-generation-from-strings, --frozen-intrinsics and --max-old-space-size.
//
// Host objects handed to a context are deep-frozen here at startup, and the host realm's
// intrinsics are frozen by --frozen-intrinsics, so user code cannot pollute prototypes shared with
// this file or with later runs. The worker handles one run at a time.

const vm = require('node:vm');
const http = require('node:http');
const https = require('node:https');
const dns = require('node:dns');
const net = require('node:net');
const zlib = require('node:zlib');
const nodeCrypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { performance } = require('node:perf_hooks');

const USER_FILE = 'function.js';
const LOG_LIMIT = 32 * 1024;
const MESSAGE_LIMIT = 32 * 1024;
const MAX_MESSAGES = 1000;
const MAX_FETCHES = 200;
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const MAX_REDIRECTS = 20;
const MAX_RESULT_BYTES = 1024 * 1024;
const SCRIPT_CACHE_SIZE = 256;
const CACHE_NAMESPACES = 256;
const CTX_OPTIONS = Object.freeze({
  name: 'function',
  codeGeneration: Object.freeze({ strings: false, wasm: false }),
});

// ---- host classes exposed to contexts -----------------------------------------------------
const H = Object.create(null);
for (const name of [
  'URL',
  'URLSearchParams',
  'Headers',
  'Request',
  'Response',
  'FormData',
  'Blob',
  'TextEncoder',
  'TextDecoder',
  'Buffer',
  'atob',
  'btoa',
]) {
  H[name] = globalThis[name];
}

const cryptoHost = Object.create(null);
for (const name of [
  'createHash',
  'createHmac',
  'createSign',
  'createVerify',
  'createCipheriv',
  'createDecipheriv',
  'randomBytes',
  'randomUUID',
  'randomInt',
  'timingSafeEqual',
  'pbkdf2Sync',
  'getHashes',
]) {
  cryptoHost[name] = nodeCrypto[name];
}
cryptoHost.getRandomValues = (arr) => nodeCrypto.webcrypto.getRandomValues(arr);
cryptoHost.subtle = nodeCrypto.webcrypto.subtle;

const { EventEmitter } = require('node:events');
const { Stream } = require('node:stream');
// Freezing these would break node itself (instances assign over inherited properties); objects
// built on them are only ever held in closures, never handed to user code.
const NEVER_FREEZE = new Set([EventEmitter.prototype, Stream.prototype, EventEmitter, Stream]);

function deepFreeze(root) {
  const seen = new Set();
  const stack = [root];
  while (stack.length) {
    const o = stack.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    if (NEVER_FREEZE.has(o)) continue;
    if (o === process || o === globalThis) throw new Error('process/globalThis reachable from exposed objects');
    seen.add(o);
    try {
      Object.freeze(o);
    } catch {
      // typed arrays with elements cannot be frozen; their prototypes still are
    }
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (!d) continue;
      if ('value' in d) stack.push(d.value);
      else stack.push(d.get, d.set);
    }
    stack.push(Object.getPrototypeOf(o));
  }
}

// Freeze the prototype chains of every object reachable from a sample instance (internal state
// objects such as undici's HeadersList), without freezing the instances themselves.
function freezeReachablePrototypes(root) {
  const seen = new Set();
  const queue = [root];
  while (queue.length && seen.size < 20000) {
    const o = queue.shift();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    if (o === process || o === globalThis) throw new Error('process/globalThis reachable from a sample');
    seen.add(o);
    if (o instanceof EventEmitter) continue;
    const proto = Object.getPrototypeOf(o);
    if (proto && !NEVER_FREEZE.has(proto)) deepFreeze(proto);
    let keys;
    try {
      keys = Reflect.ownKeys(o);
    } catch {
      continue;
    }
    for (const key of keys) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d && 'value' in d) queue.push(d.value);
    }
  }
}

// Classes whose instances user code can obtain (directly or through the exposed classes).
const FREEZE_ALSO = [
  'ReadableStream',
  'ReadableStreamDefaultReader',
  'ReadableStreamBYOBReader',
  'ReadableStreamBYOBRequest',
  'ReadableByteStreamController',
  'ReadableStreamDefaultController',
  'WritableStream',
  'WritableStreamDefaultWriter',
  'WritableStreamDefaultController',
  'TransformStream',
  'TransformStreamDefaultController',
  'File',
  'DOMException',
  'AbortController',
  'AbortSignal',
  'EventTarget',
  'Event',
  'Crypto',
  'CryptoKey',
  'SubtleCrypto',
];
function freezeExposed() {
  deepFreeze(H);
  deepFreeze(cryptoHost);
  for (const name of FREEZE_ALSO) if (globalThis[name]) deepFreeze(globalThis[name]);
  // Prototypes of objects created at run time: iterators, node errors, hash objects.
  const samples = [];
  const sample = (fn) => {
    try {
      samples.push(fn());
    } catch (e) {
      samples.push(e);
    }
  };
  sample(() => new URL('not a url'));
  sample(() => H.Buffer.from(1));
  sample(() => H.Buffer.from('x', 'nope'));
  sample(() => new H.Headers([['a', 'b']]).entries());
  sample(() => new H.URLSearchParams('a=1').entries());
  sample(() => new H.Headers({ 'bad header': 'x' }));
  sample(() => new H.Response('x').body);
  sample(() => new H.Response('x').body.getReader());
  sample(() => new H.FormData().entries());
  sample(() => {
    const fd = new H.FormData();
    fd.append('a', 'b');
    fd.append('f', new H.Blob(['x']), 'f.txt');
    return fd;
  });
  sample(() => new H.Response(H.Buffer.from('x'), { status: 201, headers: [['a', 'b']] }));
  sample(() => new H.Request('http://x/', { method: 'POST', body: 'x', headers: { a: 'b' } }));
  sample(() => new H.Request('http://x/', { method: 'POST', body: new H.URLSearchParams('a=1') }));
  sample(() => new H.Response('x').clone());
  sample(() => new H.Response('x').text());
  sample(() => new H.Blob(['x']).stream());
  sample(() => new H.Blob(['x']).arrayBuffer());
  sample(() => new H.TextDecoder());
  sample(() => new H.TextEncoder().encode('x'));
  sample(() => new URL('http://a/?b=c'));
  sample(() => new URL('http://a/?b=c').searchParams);
  sample(() => nodeCrypto.webcrypto.subtle.digest('SHA-256', new Uint8Array(1)));
  for (const alg of ['sha256', 'md5']) sample(() => nodeCrypto.createHash(alg));
  sample(() => nodeCrypto.createHmac('sha256', 'k'));
  sample(() => nodeCrypto.createHash('nope'));
  sample(() => nodeCrypto.randomBytes(-1));
  for (const s of samples) freezeReachablePrototypes(s);
}
freezeExposed();

// ---- scripts --------------------------------------------------------------------------------
const bootstrapScript = new vm.Script(fs.readFileSync(path.join(__dirname, 'bootstrap.js'), 'utf8'), {
  filename: 'runtime:bootstrap',
});
const HANDLER_NAMES = [
  'onRequest',
  'onTrack',
  'onIdentify',
  'onPage',
  'onScreen',
  'onGroup',
  'onAlias',
  'onDelete',
  'onBatch',
];
const invokeScript = new vm.Script(
  '__fnrt_invoke({' +
    HANDLER_NAMES.map((n) => `${n}: typeof ${n} === 'function' ? ${n} : undefined`).join(', ') +
    '});',
  { filename: 'runtime:invoke' },
);
const tickScript = new vm.Script('__fnrt_tick();', { filename: 'runtime:tick' });

let lodashScript = null;
const lodashPath = process.argv[2] || '';
if (lodashPath) {
  try {
    const src = fs.readFileSync(lodashPath, 'utf8');
    lodashScript = new vm.Script(
      '(function () { var module = { exports: {} }; var exports = module.exports; var define; var global = globalThis;\n' +
        src +
        '\n;return module.exports; })()',
      { filename: 'lodash.js' },
    );
  } catch (e) {
    process.stderr.write(`lodash unavailable: ${e.message}\n`);
  }
}

const scriptCache = new Map();
function compile(code) {
  const key = nodeCrypto.createHash('sha256').update(code).digest('hex');
  let script = scriptCache.get(key);
  if (script) {
    scriptCache.delete(key);
    scriptCache.set(key, script);
    return script;
  }
  script = new vm.Script(code, { filename: USER_FILE });
  scriptCache.set(key, script);
  if (scriptCache.size > SCRIPT_CACHE_SIZE) scriptCache.delete(scriptCache.keys().next().value);
  return script;
}

const cacheStores = new Map();

// ---- errors ---------------------------------------------------------------------------------
const FRAME_RE = new RegExp(`${USER_FILE.replace('.', '\\.')}:(\\d+):(\\d+)`);

function cleanStack(stack) {
  if (typeof stack !== 'string') return '';
  const lines = stack.split('\n');
  const out = [];
  for (const line of lines) {
    if (/^\s+at /.test(line)) {
      if (line.includes(USER_FILE)) out.push(line);
    } else if (out.length === 0 || !/^\s+at /.test(out[out.length - 1])) {
      out.push(line);
    }
  }
  return out.join('\n').slice(0, 8192);
}

function locate(error) {
  const m = FRAME_RE.exec(error.stack || '');
  if (m) {
    error.line = Number(m[1]);
    error.column = Number(m[2]);
  } else {
    error.line = null;
    error.column = null;
  }
  return error;
}

function syntaxErrorInfo(e) {
  // vm.Script compile errors carry "function.js:LINE\n<source line>\n   ^^^\n\nSyntaxError: msg".
  const stack = String((e && e.stack) || '');
  const name = String((e && e.name) || 'SyntaxError');
  const message = String((e && e.message) || 'Invalid code');
  const lines = stack.split('\n');
  let line = null;
  let column = null;
  const head = /^function\.js:(\d+)$/.exec(lines[0] || '');
  if (head) {
    line = Number(head[1]);
    const caret = lines[2] || '';
    const idx = caret.indexOf('^');
    if (idx >= 0) column = idx + 1;
  }
  const where = line ? `\n    at ${USER_FILE}:${line}:${column || 1}` : '';
  return { name, message, stack: `${name}: ${message}${where}`, line, column };
}

// ---- fetch policy ---------------------------------------------------------------------------
function ipv4ToInt(s) {
  const p = s.split('.').map(Number);
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}
const V4_BLOCKS = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
].map(([base, bits]) => [ipv4ToInt(base), bits]);

function v4Blocked(s) {
  const n = ipv4ToInt(s);
  return V4_BLOCKS.some(([base, bits]) => (n ^ base) >>> (32 - bits) === 0);
}

function v6Groups(s) {
  let addr = s.split('%')[0].toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (v4) {
    const n = ipv4ToInt(v4[1]);
    addr = `${addr.slice(0, -v4[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const parts = addr.split('::');
  if (parts.length > 2) return null;
  const parse = (x) => (x ? x.split(':').map((h) => parseInt(h, 16)) : []);
  const l = parse(parts[0]);
  const r = parts.length === 2 ? parse(parts[1]) : [];
  const groups = parts.length === 2 ? [...l, ...new Array(Math.max(0, 8 - l.length - r.length)).fill(0), ...r] : l;
  if (groups.length !== 8 || groups.some((x) => !(x >= 0 && x <= 0xffff))) return null;
  return groups;
}

function isBlockedIp(ip) {
  const family = net.isIP(ip);
  if (family === 4) return v4Blocked(ip);
  if (family !== 6) return true;
  const g = v6Groups(ip);
  if (!g) return true;
  const v4At = (hi, lo) => `${g[hi] >> 8}.${g[hi] & 255}.${g[lo] >> 8}.${g[lo] & 255}`;
  if (g.every((x) => x === 0)) return true; // ::
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true; // ::1
  if ((g[0] & 0xfe00) === 0xfc00) return true; // fc00::/7
  if ((g[0] & 0xffc0) === 0xfe80) return true; // fe80::/10
  if ((g[0] & 0xff00) === 0xff00) return true; // multicast
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return v4Blocked(v4At(6, 7));
  if (g[0] === 0x64 && g[1] === 0xff9b) return v4Blocked(v4At(6, 7)); // NAT64
  if (g[0] === 0x2002) return v4Blocked(v4At(1, 2)); // 6to4
  return false;
}

function policyLookup(hostname, options, callback) {
  const opts = typeof options === 'object' && options ? options : {};
  dns.lookup(hostname, { all: true, family: opts.family || 0, hints: opts.hints }, (err, addrs) => {
    if (err) return callback(err);
    const allowed = addrs.filter((a) => !isBlockedIp(a.address));
    if (allowed.length === 0) {
      const first = addrs[0] ? addrs[0].address : 'no address';
      const e = new Error(
        `refused to connect to ${hostname} (${first}): loopback, private and link-local addresses are blocked`,
      );
      e.code = 'EADDRBLOCKED';
      return callback(e);
    }
    if (opts.all) return callback(null, allowed);
    return callback(null, allowed[0].address, allowed[0].family);
  });
}

function hostFetch(run, method, url, headersJson, bodyB64, redirectMode, cb) {
  const t0 = performance.now();
  const record = { method, url, status: null, duration_ms: 0, start_ms: round(t0 - run.started) };
  const respond = (err, ...rest) => {
    record.duration_ms = round(performance.now() - t0);
    if (err) record.error = err;
    if (run.finished) return;
    try {
      cb(err, ...rest);
    } catch {
      // the callback only resolves a promise inside the context
    }
  };
  if (run.fetches.length >= MAX_FETCHES) {
    return respond(`too many fetch calls (limit ${MAX_FETCHES} per run)`);
  }
  run.fetches.push(record);
  if (run.mock) {
    const m = run.mock;
    const status = Number(m.status) || 200;
    record.status = status;
    record.mocked = true;
    const headers = Object.entries(m.headers || {}).map(([k, v]) => [k, String(v)]);
    const body = Buffer.from(typeof m.body === 'string' ? m.body : JSON.stringify(m.body ?? ''));
    setImmediate(() => respond(null, status, '', JSON.stringify(headers), body.toString('base64'), url, false));
    return;
  }
  let headers;
  try {
    headers = JSON.parse(headersJson);
  } catch {
    headers = [];
  }
  let body = bodyB64 ? Buffer.from(bodyB64, 'base64') : null;
  let currentMethod = method;
  let hops = 0;

  const hop = (target) => {
    let u;
    try {
      u = new URL(target);
    } catch {
      return respond(`invalid URL ${target}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      return respond(`unsupported protocol ${u.protocol}`);
    }
    const bare = u.hostname.replace(/^\[|\]$/g, '');
    const allowed = run.allowedHosts.has(bare.toLowerCase());
    if (!allowed && net.isIP(bare) && isBlockedIp(bare)) {
      return respond(
        `refused to connect to ${bare}: loopback, private and link-local addresses are blocked`,
      );
    }
    const outHeaders = {};
    for (const [k, v] of headers) {
      const key = k.toLowerCase();
      if (key === 'host' || key === 'content-length' || key === 'connection') continue;
      outHeaders[key] = outHeaders[key] === undefined ? v : `${outHeaders[key]}, ${v}`;
    }
    if (!outHeaders['user-agent']) outHeaders['user-agent'] = 'functions-ui-runtime';
    if (body) outHeaders['content-length'] = String(body.length);
    const mod = u.protocol === 'https:' ? https : http;
    let req;
    try {
      req = mod.request(u, {
        method: currentMethod,
        headers: outHeaders,
        agent: false,
        lookup: allowed ? undefined : policyLookup,
      });
    } catch (e) {
      return respond(e.message);
    }
    run.inflight.add(req);
    req.on('error', (e) => {
      run.inflight.delete(req);
      respond(e.message || String(e));
    });
    req.on('response', (res) => {
      const status = res.statusCode;
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location && redirectMode !== 'manual') {
        res.resume();
        run.inflight.delete(req);
        if (redirectMode === 'error') return respond('redirect mode is set to error');
        if (++hops > MAX_REDIRECTS) return respond('too many redirects');
        if (status === 303 || ((status === 301 || status === 302) && currentMethod === 'POST')) {
          currentMethod = currentMethod === 'HEAD' ? 'HEAD' : 'GET';
          body = null;
          headers = headers.filter(([k]) => !/^content-/i.test(k));
        }
        let next;
        try {
          next = new URL(location, u).toString();
        } catch {
          return respond(`invalid redirect location ${location}`);
        }
        return hop(next);
      }
      let stream = res;
      const enc = String(res.headers['content-encoding'] || '').toLowerCase();
      if (enc === 'gzip' || enc === 'x-gzip') stream = res.pipe(zlib.createGunzip());
      else if (enc === 'deflate') stream = res.pipe(zlib.createInflate());
      else if (enc === 'br') stream = res.pipe(zlib.createBrotliDecompress());
      const chunks = [];
      let size = 0;
      stream.on('data', (c) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          req.destroy(new Error(`response body larger than ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      stream.on('error', (e) => {
        run.inflight.delete(req);
        respond(e.message);
      });
      stream.on('end', () => {
        run.inflight.delete(req);
        record.status = status;
        const pairs = [];
        const raw = res.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) {
          const k = raw[i].toLowerCase();
          if (enc && (k === 'content-encoding' || k === 'content-length')) continue;
          pairs.push([raw[i], raw[i + 1]]);
        }
        const safeStatus = status >= 200 && status <= 599 ? status : 502;
        respond(
          null,
          safeStatus,
          res.statusMessage || '',
          JSON.stringify(pairs),
          Buffer.concat(chunks).toString('base64'),
          u.toString(),
          hops > 0,
        );
      });
    });
    if (body) req.end(body);
    else req.end();
  };
  hop(url);
}

// ---- runs -----------------------------------------------------------------------------------
let current = null;

function round(x) {
  return Math.round(x * 1000) / 1000;
}

function remaining(run) {
  return Math.max(1, Math.ceil(run.deadline - performance.now()));
}

function write(obj) {
  process.stdout.write(typeof obj === 'string' ? obj + '\n' : JSON.stringify(obj) + '\n');
}

function makeHost(run) {
  const host = Object.create(null);
  host.logFull = () => run.logBytes >= LOG_LIMIT;
  host.log = (level, message) => {
    if (run.finished || typeof message !== 'string') return;
    if (run.logBytes >= LOG_LIMIT) return;
    const left = LOG_LIMIT - run.logBytes;
    let text = message;
    if (text.length > left) {
      text = `${text.slice(0, left)}\n… console output truncated (limit ${LOG_LIMIT / 1024} KB)`;
      run.logBytes = LOG_LIMIT;
    } else {
      run.logBytes += text.length + 1;
    }
    run.logs.push({ level: String(level), message: text });
  };
  host.emit = (kind, json) => {
    if (run.finished || typeof json !== 'string') return '';
    if (run.events.length + run.objects.length >= MAX_MESSAGES) {
      return `too many messages: a function can emit at most ${MAX_MESSAGES} per run`;
    }
    if (Buffer.byteLength(json) > MESSAGE_LIMIT) {
      return 'failed calling Tracking API: the message is too large and over the maximum 32KB limit';
    }
    (kind === 'object' ? run.objects : run.events).push(json);
    return '';
  };
  host.fetch = (method, url, headersJson, bodyB64, redirect, cb) => {
    if (run.finished) return;
    hostFetch(run, String(method), String(url), String(headersJson), String(bodyB64), String(redirect), cb);
  };
  host.schedule = (delay) => {
    if (run.finished) return;
    if (run.tickTimer) clearTimeout(run.tickTimer);
    run.tickTimer = setTimeout(() => onTick(run), Math.max(0, Math.min(Number(delay) || 0, 2147483647)));
  };
  host.done = (json) => {
    if (typeof json === 'string') finish(run, json);
  };
  host.lodash = () => {
    if (!lodashScript) return undefined;
    return lodashScript.runInContext(run.ctx, { timeout: remaining(run), displayErrors: false });
  };
  host.cacheStore = (store) => {
    if (!run.cacheNamespace) return undefined;
    if (store === undefined) {
      const s = cacheStores.get(run.cacheNamespace);
      if (s !== undefined) {
        cacheStores.delete(run.cacheNamespace);
        cacheStores.set(run.cacheNamespace, s);
      }
      return s;
    }
    cacheStores.set(run.cacheNamespace, store);
    if (cacheStores.size > CACHE_NAMESPACES) cacheStores.delete(cacheStores.keys().next().value);
    return undefined;
  };
  host.crypto = cryptoHost;
  return Object.freeze(host);
}

function onTick(run) {
  run.tickTimer = null;
  if (run.finished) return;
  try {
    tickScript.runInContext(run.ctx, { timeout: remaining(run), displayErrors: false });
  } catch (e) {
    fromThrown(run, e);
  }
}

function timeoutJson(run) {
  const message = `Function timed out after ${run.timeoutMs} ms`;
  return JSON.stringify({
    status: 'timeout',
    error: { name: 'TimeoutError', message, stack: `TimeoutError: ${message}` },
    result: null,
  });
}

function fromThrown(run, e) {
  if (run.finished) return;
  if (e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return finish(run, timeoutJson(run));
  let json;
  try {
    json = run.describe ? run.describe(e) : null;
  } catch {
    json = null;
  }
  if (typeof json !== 'string') {
    json = JSON.stringify({
      status: 'bad_request',
      error: { name: 'Error', message: String((e && e.message) || e), stack: '' },
      result: null,
    });
  }
  finish(run, json);
}

function finish(run, outcomeJson) {
  if (run.finished) return;
  run.finished = true;
  clearTimeout(run.deadlineTimer);
  if (run.tickTimer) clearTimeout(run.tickTimer);
  for (const req of run.inflight) req.destroy();
  run.inflight.clear();
  let outcome;
  try {
    outcome = JSON.parse(outcomeJson);
  } catch {
    outcome = { status: 'bad_request', error: { name: 'Error', message: 'invalid outcome', stack: '' }, result: null };
  }
  if (outcome.error) {
    outcome.error.stack = cleanStack(outcome.error.stack);
    locate(outcome.error);
  }
  let resultJson = outcomeJson.length > MAX_RESULT_BYTES ? null : JSON.stringify(outcome.result ?? null);
  if (resultJson === null) {
    outcome.status = 'bad_request';
    outcome.error = {
      name: 'Error',
      message: `the handler's return value is larger than ${MAX_RESULT_BYTES / 1024} KB`,
      stack: '',
      line: null,
      column: null,
    };
    resultJson = 'null';
  }
  const duration = round(performance.now() - run.started);
  write(
    `{"id":${JSON.stringify(run.id)},"status":${JSON.stringify(outcome.status)},` +
      `"error":${JSON.stringify(outcome.error || null)},"result":${resultJson},` +
      `"events":[${run.events.join(',')}],"objects":[${run.objects.join(',')}],` +
      `"logs":${JSON.stringify(run.logs)},"fetches":${JSON.stringify(run.fetches)},` +
      `"duration_ms":${duration}}`,
  );
  run.ctx = null;
  run.describe = null;
  if (current === run) current = null;
}

function handleRun(msg) {
  const started = performance.now();
  const timeoutMs = Math.max(1, Number(msg.timeoutMs) || 5000);
  const run = {
    id: msg.id,
    started,
    timeoutMs,
    deadline: started + timeoutMs,
    finished: false,
    logs: [],
    logBytes: 0,
    events: [],
    objects: [],
    fetches: [],
    inflight: new Set(),
    tickTimer: null,
    deadlineTimer: null,
    mock: msg.mock || null,
    allowedHosts: new Set((msg.allowedHosts || []).map((h) => String(h).toLowerCase())),
    cacheNamespace: typeof msg.cacheNamespace === 'string' ? msg.cacheNamespace : null,
    ctx: null,
    describe: null,
  };
  current = run;
  let script;
  try {
    script = compile(String(msg.code || ''));
  } catch (e) {
    const error = syntaxErrorInfo(e);
    return finish(run, JSON.stringify({ status: 'invalid_code', error, result: null }));
  }
  run.deadlineTimer = setTimeout(() => finish(run, timeoutJson(run)), timeoutMs);
  try {
    run.ctx = vm.createContext(Object.create(null), CTX_OPTIONS);
    const setup = bootstrapScript.runInContext(run.ctx, { displayErrors: false });
    run.describe = setup(makeHost(run), H, String(msg.data));
    script.runInContext(run.ctx, { timeout: remaining(run), displayErrors: false });
    if (!run.finished) {
      invokeScript.runInContext(run.ctx, { timeout: remaining(run), displayErrors: false });
    }
  } catch (e) {
    fromThrown(run, e);
  }
}

function handleCheck(msg) {
  try {
    new vm.Script(String(msg.code || ''), { filename: USER_FILE });
    write({ id: msg.id, ok: true, error: null });
  } catch (e) {
    write({ id: msg.id, ok: false, error: syntaxErrorInfo(e) });
  }
}

process.on('uncaughtException', (e) => {
  if (current) fromThrown(current, e);
});
process.on('unhandledRejection', (reason) => {
  if (!current || current.finished) return;
  let text;
  try {
    text = reason && typeof reason === 'object' ? `${reason.name}: ${reason.message}` : String(reason);
  } catch {
    text = 'unknown reason';
  }
  makeHost(current).log('error', `Unhandled promise rejection: ${text}`);
});

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  write(`{"id":${JSON.stringify(msg.id)},"ack":true}`);
  if (msg.op === 'run') handleRun(msg);
  else if (msg.op === 'check') handleCheck(msg);
  else if (msg.op === 'ping') write({ id: msg.id, pong: true, rss: process.memoryUsage.rss() });
});
rl.on('close', () => process.exit(0));
write({ ready: true, node: process.version });
