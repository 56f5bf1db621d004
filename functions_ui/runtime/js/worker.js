'use strict';
// A long-lived worker process of ONE workspace: reads one JSON request per stdin line and writes
// one JSON reply per stdout line. Started by functions_ui/runtime/pool.py with an empty
// environment and Node's permission model; the pool never gives it runs of another workspace.
//
// User code never runs in this process's own V8 heap. The process keeps one isolate
// (isolated-vm: a separate V8 heap with its own memory limit) holding one context with the
// sandbox runtime (sandbox/index.js, bundled), made and locked down when the process starts, so
// a process is ready before it is given to a workspace. Each function's code is compiled into
// that context once, to a factory that each run calls afresh: a new function costs a compile
// (a fraction of a millisecond), not a new isolate and runtime (ten). The workspace's functions
// share the frozen runtime as runs of one function always have: all a run can change belongs to
// that run. No object crosses between this process and the isolate: requests, results, logs,
// fetches and crypto operations cross as strings. Runs are handled one at a time; a function
// stays compiled while the warm functions fit their memory budget (least recently used go
// first). A run stopped mid-call (time or memory limit) ends the isolate, and the next run
// starts a new one, so nothing that run left half done is seen again.

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const zlib = require('node:zlib');
const nodeCrypto = require('node:crypto');
const readline = require('node:readline');
const { performance } = require('node:perf_hooks');
const { literalHostBlocked, policyLookup } = require('./netpolicy.js');

const config = JSON.parse(process.argv[2] || '{}');
const ivm = require(config.isolatedVm);

const USER_FILE = 'function.js';
const MAX_FETCHES = 200;
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const MAX_REDIRECTS = 20;
// What a fetch trace keeps of each outbound request: its headers (credential ones by name only,
// as the webhook reader does on the Python side) and the start of its body.
const TRACE_BODY_CHARS = 1024;
const CREDENTIAL_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'x-auth-token', 'x-access-token', 'cookie',
  'set-cookie',
]);
const MAX_RESULT_BYTES = 1024 * 1024;
const MEMORY_MB = Math.max(8, Number(config.memoryMb) || 128);
// What the warm functions' compiled code may hold (their share of the isolate's heap; a run has
// MEMORY_MB for all it allocates).
const WARM_BYTES = Math.max(1, Number(config.warmMb) || 16) * 1024 * 1024;
// The least a function is counted for: what its compile added to the heap, or this.
const MIN_ENV_BYTES = 16 * 1024;
const SETUP_TIMEOUT_MS = 5000;
// Segment's handlers, as runtime/types.py describes them (the only description).
const HANDLERS = config.handlers;
const HANDLER_NAMES = [HANDLERS.source, ...Object.values(HANDLERS.byEventType), HANDLERS.batch];
const HANDLERS_JSON = JSON.stringify(HANDLERS);
// The user's code becomes the body of a function that is called afresh for every run, so its
// top-level bindings belong to that run. lineOffset -1 keeps the user's line numbers.
const WRAP_HEAD = '(function () {\n';
const WRAP_TAIL = `\n;return {${HANDLER_NAMES.map((n) => `${n}: typeof ${n} === 'function' ? ${n} : undefined`).join(', ')}};\n})`;

// Outbound connections are kept open between runs: a destination posts every event to the same
// collector, and a new TCP (and TLS) handshake per event cost more than the function itself.
// One pool for hosts a run may reach by the address policy, another for hosts the operator
// allowed outright, so that a socket opened under an exemption never serves a run without it.
// The process serves one workspace only, so no pooled connection is shared between tenants.
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30000 };
const AGENTS = {
  'http:': { policy: new http.Agent(AGENT_OPTIONS), allowed: new http.Agent(AGENT_OPTIONS) },
  'https:': { policy: new https.Agent(AGENT_OPTIONS), allowed: new https.Agent(AGENT_OPTIONS) },
};

const sandboxSource = fs.readFileSync(config.sandbox, 'utf8');
let sandboxCache = null; // V8 code cache of the sandbox bundle, for the next isolate

// ---- host operations an isolate may call (strings in, a string out) ------------------------------
function hostError(kind, e) {
  // Only the message: a host stack would show this file's path to user code.
  return `\u0000${kind}${String((e && e.message) || e).slice(0, 500)}`;
}

function parseKey(json) {
  const k = JSON.parse(json);
  const opts = { key: k.text };
  if (k.passphrase !== undefined) opts.passphrase = String(k.passphrase);
  if (k.dsaEncoding) opts.dsaEncoding = String(k.dsaEncoding);
  if (k.padding !== undefined) opts.padding = Number(k.padding);
  return opts;
}

const HOST_OPS = {
  __proto__: null,
  url(input, base) {
    try {
      const u = base === '\u0000' ? new URL(input) : new URL(input, base);
      return JSON.stringify({
        href: u.href,
        origin: u.origin,
        protocol: u.protocol,
        username: u.username,
        password: u.password,
        host: u.host,
        hostname: u.hostname,
        port: u.port,
        pathname: u.pathname,
        search: u.search,
        hash: u.hash,
      });
    } catch {
      return '';
    }
  },
  hash(alg, dataB64, keyB64) {
    const h = keyB64 ? nodeCrypto.createHmac(alg, Buffer.from(keyB64, 'base64')) : nodeCrypto.createHash(alg);
    return h.update(Buffer.from(dataB64, 'base64')).digest('base64');
  },
  sign(alg, keyJson, dataB64) {
    return nodeCrypto.createSign(alg).update(Buffer.from(dataB64, 'base64')).sign(parseKey(keyJson)).toString('base64');
  },
  verify(alg, keyJson, dataB64, sigB64) {
    const v = nodeCrypto.createVerify(alg).update(Buffer.from(dataB64, 'base64'));
    return String(v.verify(parseKey(keyJson), Buffer.from(sigB64, 'base64')));
  },
  cipher(mode, alg, keyB64, ivB64, dataB64, optsJson) {
    const opts = JSON.parse(optsJson);
    const key = Buffer.from(keyB64, 'base64');
    const iv = ivB64 ? Buffer.from(ivB64, 'base64') : null;
    const c = mode === 'cipher' ? nodeCrypto.createCipheriv(alg, key, iv) : nodeCrypto.createDecipheriv(alg, key, iv);
    if (opts.aad) c.setAAD(Buffer.from(opts.aad, 'base64'));
    if (opts.tag && mode !== 'cipher') c.setAuthTag(Buffer.from(opts.tag, 'base64'));
    c.setAutoPadding(opts.padding !== false);
    const data = Buffer.concat([c.update(Buffer.from(dataB64, 'base64')), c.final()]).toString('base64');
    let tag = null;
    if (mode === 'cipher' && /gcm|ccm|ocb|chacha20-poly1305/i.test(alg)) tag = c.getAuthTag().toString('base64');
    return JSON.stringify({ data, tag });
  },
  cipherknown(alg) {
    return String(nodeCrypto.getCiphers().includes(String(alg).toLowerCase()));
  },
  random(n) {
    return nodeCrypto.randomBytes(Math.min(65536, Math.max(0, Number(n) || 0))).toString('base64');
  },
  uuid() {
    return nodeCrypto.randomUUID();
  },
  equal(aB64, bB64) {
    const a = Buffer.from(aB64, 'base64');
    const b = Buffer.from(bB64, 'base64');
    return String(a.length === b.length && nodeCrypto.timingSafeEqual(a, b));
  },
  pbkdf2(pwdB64, saltB64, iterations, keylen, digest) {
    const iter = Number(iterations);
    const len = Number(keylen);
    // Synchronous on this thread, so a run cannot leave key derivation behind on a thread pool;
    // the bounds keep one call within a run's time limit.
    if (!(iter >= 1 && iter <= 1000000)) throw new RangeError('iterations must be between 1 and 1,000,000');
    if (!(len >= 0 && len <= 4096)) throw new RangeError('keylen must be between 0 and 4096');
    // The work grows with the output blocks too: bound iterations x blocks, not iterations alone.
    const blockBytes = Math.max(16, nodeCrypto.createHash(String(digest)).digest().length);
    if (iter * Math.max(1, Math.ceil(len / blockBytes)) > 1000000) {
      throw new RangeError('iterations x output blocks must be at most 1,000,000');
    }
    return nodeCrypto
      .pbkdf2Sync(Buffer.from(pwdB64, 'base64'), Buffer.from(saltB64, 'base64'), iter, len, digest)
      .toString('base64');
  },
  hashes() {
    return JSON.stringify(nodeCrypto.getHashes());
  },
  keyimport(format, spec) {
    let key;
    if (format === 'jwk') {
      const jwk = JSON.parse(spec);
      key = jwk.d ? nodeCrypto.createPrivateKey({ key: jwk, format: 'jwk' }) : nodeCrypto.createPublicKey({ key: jwk, format: 'jwk' });
    } else if (format === 'pkcs8') {
      key = nodeCrypto.createPrivateKey({ key: Buffer.from(spec, 'base64'), format: 'der', type: 'pkcs8' });
    } else if (format === 'spki') {
      key = nodeCrypto.createPublicKey({ key: Buffer.from(spec, 'base64'), format: 'der', type: 'spki' });
    } else {
      throw new TypeError(`unsupported key format ${format}`);
    }
    const pem = key.type === 'private' ? key.export({ format: 'pem', type: 'pkcs8' }) : key.export({ format: 'pem', type: 'spki' });
    return JSON.stringify({ type: key.type, pem: String(pem) });
  },
};

function hostCall(op, ...args) {
  const fn = HOST_OPS[op];
  if (!fn) return hostError('E', `unknown operation ${op}`);
  try {
    return fn(...args.map(String));
  } catch (e) {
    return hostError(e instanceof TypeError ? 'T' : e instanceof RangeError ? 'R' : 'E', e);
  }
}
const hostCallback = new ivm.Callback(hostCall);

// ---- function environments: one isolate per function and code --------------------------------
const envs = new Map();

class CodeError extends Error {}

function syntaxErrorInfo(e) {
  // isolated-vm reports "<message> [function.js:LINE:COL]".
  const raw = String((e && e.message) || 'Invalid code');
  const m = /^(.*) \[function\.js:(\d+):(\d+)\]$/s.exec(raw);
  const message = m ? m[1] : raw;
  const line = m ? Number(m[2]) : null;
  const column = m ? Number(m[3]) : null;
  const name = String((e && e.name) || 'SyntaxError');
  const where = line ? `\n    at ${USER_FILE}:${line}:${column || 1}` : '';
  return { name, message, stack: `${name}: ${message}${where}`, line, column };
}

function compileUser(isolate, code) {
  try {
    return isolate.compileScriptSync(WRAP_HEAD + code + WRAP_TAIL, { filename: USER_FILE, lineOffset: -1 });
  } catch (e) {
    const err = new CodeError('invalid code');
    err.info = syntaxErrorInfo(e);
    throw err;
  }
}

// The isolate and its one context with the runtime, made at start and after a run that ended
// an isolate; its functions (envs) go with it.
let realm = null;
let warmBytes = 0;

function createRealm() {
  const isolate = new ivm.Isolate({ memoryLimit: MEMORY_MB + WARM_BYTES / (1024 * 1024) });
  try {
    const context = isolate.createContextSync();
    context.global.setSync('__fnrt_host', hostCallback);
    const script = isolate.compileScriptSync(sandboxSource, {
      filename: 'runtime:sandbox',
      cachedData: sandboxCache || undefined,
      produceCachedData: !sandboxCache,
    });
    if (!sandboxCache && script.cachedData) sandboxCache = script.cachedData;
    script.runSync(context, { timeout: SETUP_TIMEOUT_MS });
    const entry = context.global.getSync('__fnrt_entry', { reference: true });
    context.global.deleteSync('__fnrt_entry');
    const ref = (name) => entry.getSync(name, { reference: true });
    ref('configure').applySync(undefined, [HANDLERS_JSON], { timeout: SETUP_TIMEOUT_MS });
    ref('lockdown').applySync(undefined, [], { timeout: SETUP_TIMEOUT_MS });
    return { isolate, context, start: ref('start'), tick: ref('tick'), deliver: ref('deliver'), flush: ref('flush') };
  } catch (e) {
    disposeIsolate(isolate);
    throw e;
  }
}

function currentRealm() {
  if (realm && !realm.isolate.isDisposed) return realm;
  envs.clear();
  warmBytes = 0;
  realm = createRealm();
  return realm;
}

function endRealm() {
  if (realm) disposeIsolate(realm.isolate);
  realm = null;
  envs.clear();
  warmBytes = 0;
}

function heapUsed(isolate) {
  return isolate.getHeapStatisticsSync().used_heap_size;
}

function createEnv(code) {
  const r = currentRealm();
  const before = heapUsed(r.isolate);
  const factory = compileUser(r.isolate, code).runSync(r.context, { reference: true, timeout: SETUP_TIMEOUT_MS });
  return { ...r, factory, bytes: Math.max(MIN_ENV_BYTES, heapUsed(r.isolate) - before) };
}

function disposeIsolate(isolate) {
  try {
    if (!isolate.isDisposed) isolate.dispose();
  } catch {
    // already gone
  }
}

function getEnv(key, code) {
  let env = envs.get(key);
  if (env && !env.isolate.isDisposed) {
    envs.delete(key);
    envs.set(key, env);
    return env;
  }
  env = createEnv(code);
  env.key = key;
  envs.set(key, env);
  warmBytes += env.bytes;
  // The least recently used go first, never the one about to run.
  while (warmBytes > WARM_BYTES && envs.size > 1) forget(envs.values().next().value);
  return env;
}

function forget(env) {
  if (envs.get(env.key) !== env) return;
  envs.delete(env.key);
  warmBytes -= env.bytes;
  env.factory.release();
}

// ---- fetch (performed here, under the address policy) --------------------------------------------
function traceHeaders(headers) {
  const shown = {};
  for (const [k, v] of Array.isArray(headers) ? headers : []) {
    const key = String(k).toLowerCase();
    shown[key] = CREDENTIAL_HEADERS.has(key) ? '••••' : String(v);
  }
  return shown;
}

function traceBody(base64) {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  return text.length > TRACE_BODY_CHARS ? `${text.slice(0, TRACE_BODY_CHARS)}…` : text;
}

function hostFetch(run, req, respond) {
  const t0 = performance.now();
  const record = { method: req.method, url: req.url, status: null, duration_ms: 0, start_ms: round(t0 - run.started) };
  record.request_headers = traceHeaders(req.headers);
  if (req.body) record.request_body = traceBody(req.body);
  const done = (err, reply) => {
    record.duration_ms = round(performance.now() - t0);
    if (err) record.error = err;
    if (!run.finished) respond(err ? { error: err } : reply);
  };
  if (run.fetches.length >= MAX_FETCHES) return done(`too many fetch calls (limit ${MAX_FETCHES} per run)`);
  run.fetches.push(record);
  if (run.mock) {
    const m = run.mock;
    const status = Number(m.status) || 200;
    record.status = status;
    record.mocked = true;
    const headers = Object.entries(m.headers || {}).map(([k, v]) => [k, String(v)]);
    const body = Buffer.from(typeof m.body === 'string' ? m.body : JSON.stringify(m.body ?? ''));
    record.response_headers = traceHeaders(headers);
    record.response_body = traceBody(body.toString('base64'));
    setImmediate(() =>
      done(null, { status, statusText: '', headers, body: body.toString('base64'), url: req.url, redirected: false }),
    );
    return;
  }
  let headers = Array.isArray(req.headers) ? req.headers : [];
  let body = req.body ? Buffer.from(req.body, 'base64') : null;
  let method = req.method;
  let hops = 0;
  const hop = (target) => {
    let u;
    try {
      u = new URL(target);
    } catch {
      return done(`invalid URL ${target}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return done(`unsupported protocol ${u.protocol}`);
    const bare = u.hostname.replace(/^\[|\]$/g, '');
    const allowed = run.allowedHosts.has(bare.toLowerCase());
    if (!allowed && literalHostBlocked(u.hostname)) {
      return done(`refused to connect to ${bare}: loopback, private and link-local addresses are blocked`);
    }
    const outHeaders = {};
    for (const [k, v] of headers) {
      const key = String(k).toLowerCase();
      if (key === 'host' || key === 'content-length' || key === 'connection') continue;
      outHeaders[key] = outHeaders[key] === undefined ? String(v) : `${outHeaders[key]}, ${v}`;
    }
    if (!outHeaders['user-agent']) outHeaders['user-agent'] = 'functions-ui-runtime';
    if (body) outHeaders['content-length'] = String(body.length);
    const mod = u.protocol === 'https:' ? https : http;
    let request;
    try {
      const agent = AGENTS[u.protocol][allowed ? 'allowed' : 'policy'];
      request = mod.request(u, { method, headers: outHeaders, agent, lookup: allowed ? undefined : policyLookup });
    } catch (e) {
      return done(e.message);
    }
    run.inflight.add(request);
    request.on('error', (e) => {
      run.inflight.delete(request);
      done(e.message || String(e));
    });
    request.on('response', (res) => {
      const status = res.statusCode;
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location && req.redirect !== 'manual') {
        res.resume();
        run.inflight.delete(request);
        if (req.redirect === 'error') return done('redirect mode is set to error');
        if (++hops > MAX_REDIRECTS) return done('too many redirects');
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = method === 'HEAD' ? 'HEAD' : 'GET';
          body = null;
          headers = headers.filter(([k]) => !/^content-/i.test(k));
        }
        let next;
        try {
          next = new URL(location, u).toString();
        } catch {
          return done(`invalid redirect location ${location}`);
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
          request.destroy(new Error(`response body larger than ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      stream.on('error', (e) => {
        run.inflight.delete(request);
        done(e.message);
      });
      stream.on('end', () => {
        run.inflight.delete(request);
        record.status = status;
        const pairs = [];
        const raw = res.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) {
          const k = raw[i].toLowerCase();
          if (enc && (k === 'content-encoding' || k === 'content-length')) continue;
          pairs.push([raw[i], raw[i + 1]]);
        }
        const nullBody = [101, 204, 205, 304].includes(status);
        const received = Buffer.concat(chunks);
        record.response_headers = traceHeaders(pairs);
        if (received.length) record.response_body = traceBody(received.toString('base64'));
        done(null, {
          status: status >= 200 && status <= 599 ? status : 502,
          statusText: res.statusMessage || '',
          headers: pairs,
          body: received.toString('base64'),
          nullBody,
          url: u.toString(),
          redirected: hops > 0,
        });
      });
    });
    if (body) request.end(body);
    else request.end();
  };
  hop(req.url);
}

// ---- runs --------------------------------------------------------------------------------------
let nextRunId = 1;

function round(x) {
  return Math.round(x * 1000) / 1000;
}

function remaining(run) {
  return Math.max(1, Math.ceil(run.deadline - performance.now()));
}

function write(obj) {
  process.stdout.write(typeof obj === 'string' ? `${obj}\n` : `${JSON.stringify(obj)}\n`);
}

function outcome(status, name, message) {
  return JSON.stringify({ status, error: { name, message, stack: `${name}: ${message}` }, result: null });
}

// Calls into the isolate, then collects what the call produced. Any failure of the call itself
// (time limit, memory limit) ends the run and retires the isolate, so nothing it left running
// can reach a later run.
function callInto(run, env, fn, args) {
  try {
    fn.applySync(undefined, args, { timeout: remaining(run) });
    return null;
  } catch (e) {
    if (env.isolate.isDisposed || /timed out|memory limit/i.test(String((e && e.message) || e))) return e;
    // isolated-vm throws a promise rejection that no handler took by the end of the call, after
    // the call completed. It is the user's bug, reported in this run's log as Node reports it.
    run.rejection = `Unhandled promise rejection: ${describeRejection(e)}`;
    return null;
  }
}

function describeRejection(e) {
  try {
    if (e && typeof e === 'object') return `${String(e.name || 'Error')}: ${String(e.message ?? '')}`.slice(0, 1000);
    return String(e).slice(0, 1000);
  } catch {
    return 'unknown reason';
  }
}

function enter(run, env, fn, args) {
  if (run.finished) return;
  let out;
  let failure = callInto(run, env, fn, args);
  if (!failure) {
    try {
      out = JSON.parse(env.flush.applySync(undefined, [], { timeout: remaining(run) }));
    } catch (e) {
      failure = e;
    }
  }
  if (failure) {
    // Stopped mid-call: the runtime's own state may be half changed, so the isolate goes.
    endRealm();
    const message = String((failure && failure.message) || failure);
    if (/timed out/i.test(message)) return finish(run, outcome('timeout', 'TimeoutError', `Function timed out after ${run.timeoutMs} ms`));
    if (/memory limit/i.test(message)) {
      return finish(run, outcome('bad_request', 'MemoryLimitExceeded', `The function ran out of memory (limit ${MEMORY_MB} MB)`));
    }
    return finish(run, outcome('bad_request', 'Error', 'The function could not be run'));
  }
  for (const entry of out.logs) run.logs.push(entry);
  if (run.rejection) {
    run.logs.push({ level: 'error', message: run.rejection });
    run.rejection = null;
  }
  for (const e of out.events) run.events.push(JSON.stringify(e));
  for (const o of out.objects) run.objects.push(JSON.stringify(o));
  if (out.done) return finish(run, JSON.stringify(out.done));
  for (const req of out.fetches) {
    hostFetch(run, req, (reply) => enter(run, env, env.deliver, [run.id, req.id, JSON.stringify(reply)]));
  }
  if (run.tickTimer) clearTimeout(run.tickTimer);
  run.tickTimer = null;
  if (out.timer !== null && out.timer !== undefined) {
    run.tickTimer = setTimeout(() => {
      run.tickTimer = null;
      enter(run, env, env.tick, [run.id]);
    }, Math.min(out.timer, 2147483647));
  }
}

function cleanStack(stack) {
  if (typeof stack !== 'string') return '';
  const out = [];
  for (const line of stack.split('\n')) {
    if (/^\s+at /.test(line)) {
      if (line.includes(USER_FILE)) out.push(line);
    } else if (out.length === 0 || !/^\s+at /.test(out[out.length - 1])) {
      out.push(line);
    }
  }
  return out.join('\n').slice(0, 8192);
}

function locate(error) {
  const m = /function\.js:(\d+):(\d+)/.exec(error.stack || '');
  error.line = m ? Number(m[1]) : null;
  error.column = m ? Number(m[2]) : null;
  return error;
}

function finish(run, outcomeJson) {
  if (run.finished) return;
  run.finished = true;
  clearTimeout(run.deadlineTimer);
  if (run.tickTimer) clearTimeout(run.tickTimer);
  for (const req of run.inflight) req.destroy();
  run.inflight.clear();
  let result;
  try {
    result = JSON.parse(outcomeJson);
  } catch {
    result = { status: 'bad_request', error: { name: 'Error', message: 'invalid outcome', stack: '' }, result: null };
  }
  if (result.error) {
    result.error.stack = cleanStack(result.error.stack);
    locate(result.error);
  }
  let resultJson = outcomeJson.length > MAX_RESULT_BYTES ? null : JSON.stringify(result.result ?? null);
  if (resultJson === null) {
    result.status = 'bad_request';
    result.error = {
      name: 'Error',
      message: `the handler's return value is larger than ${MAX_RESULT_BYTES / 1024} KB`,
      stack: '',
      line: null,
      column: null,
    };
    resultJson = 'null';
  }
  run.reply(
    `"status":${JSON.stringify(result.status)},` +
      `"error":${JSON.stringify(result.error || null)},"result":${resultJson},` +
      `"events":[${run.events.join(',')}],"objects":[${run.objects.join(',')}],` +
      `"logs":${JSON.stringify(run.logs)},"fetches":${JSON.stringify(run.fetches)},` +
      `"duration_ms":${round(performance.now() - run.started)}`,
  );
}

function handleRun(msg) {
  startRun(msg, String(msg.data), (fields) => write(`{"id":${JSON.stringify(msg.id)},${fields}}`));
}

// Many runs in one round trip: the runs go one after the other, each with its own time limit,
// and one line answers them all. Each run is of one of the batch's functions (`calls`, what a
// function's runs share; `callOf`, which one each payload runs): all of this workspace's. A
// batch stops starting runs once it has taken budgetMs; the caller sends the rest again. Saves a
// pipe round trip (two process wake-ups and a JSON line each way) per event, which cost as much
// as a short function's run.
function handleRunMany(msg) {
  const payloads = Array.isArray(msg.data) ? msg.data : [];
  const calls = Array.isArray(msg.calls) ? msg.calls : [msg];
  const callOf = Array.isArray(msg.callOf) ? msg.callOf : [];
  const budget = Math.max(1, Number(msg.budgetMs) || 5000);
  const started = performance.now();
  const results = [];
  const next = () => {
    if (results.length >= payloads.length || (results.length && performance.now() - started > budget)) {
      write(`{"id":${JSON.stringify(msg.id)},"results":[${results.join(',')}]}`);
      return;
    }
    const call = calls[Number(callOf[results.length]) || 0] || calls[0];
    startRun(call, String(payloads[results.length]), (fields) => {
      results.push(`{${fields}}`);
      setImmediate(next);
    });
  };
  next();
}

function startRun(msg, data, reply) {
  const started = performance.now();
  const timeoutMs = Math.max(1, Number(msg.timeoutMs) || 5000);
  const run = {
    id: nextRunId++,
    started,
    timeoutMs,
    deadline: started + timeoutMs,
    finished: false,
    logs: [],
    events: [],
    objects: [],
    fetches: [],
    inflight: new Set(),
    tickTimer: null,
    deadlineTimer: null,
    mock: msg.mock || null,
    reply,
    allowedHosts: new Set((msg.allowedHosts || []).map((h) => String(h).toLowerCase())),
  };
  const code = String(msg.code || '');
  const key = `${String(msg.fnKey || '')}:${nodeCrypto.createHash('sha256').update(code).digest('hex')}`;
  let env;
  try {
    env = getEnv(key, code);
  } catch (e) {
    if (e instanceof CodeError) return finish(run, JSON.stringify({ status: 'invalid_code', error: e.info, result: null }));
    const message = String((e && e.message) || e);
    if (/memory limit/i.test(message)) {
      return finish(run, outcome('bad_request', 'MemoryLimitExceeded', `The function ran out of memory (limit ${MEMORY_MB} MB)`));
    }
    if (/timed out/i.test(message)) return finish(run, outcome('timeout', 'TimeoutError', `Function timed out after ${timeoutMs} ms`));
    return finish(run, outcome('bad_request', 'Error', 'The function could not be loaded'));
  }
  run.deadlineTimer = setTimeout(() => {
    // Pending timers or fetches kept the run open past its limit (a busy loop is stopped by the
    // per-call timeout instead). Nothing of it runs now, and nothing can run again: finish()
    // clears its timers and aborts its fetches, and the runtime ignores a late tick or reply
    // that names a run other than the current one.
    finish(run, outcome('timeout', 'TimeoutError', `Function timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const namespace = typeof msg.cacheNamespace === 'string' ? msg.cacheNamespace : '';
  enter(run, env, env.start, [run.id, data, namespace, env.factory.derefInto()]);
}

let checkIsolate = null;
function handleCheck(msg) {
  if (!checkIsolate || checkIsolate.isDisposed) checkIsolate = new ivm.Isolate({ memoryLimit: 64 });
  try {
    compileUser(checkIsolate, String(msg.code || ''));
    write({ id: msg.id, ok: true, error: null });
  } catch (e) {
    write({ id: msg.id, ok: false, error: e instanceof CodeError ? e.info : syntaxErrorInfo(e) });
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  if (msg.op === 'run') handleRun(msg);
  else if (msg.op === 'runMany') handleRunMany(msg);
  else if (msg.op === 'check') handleCheck(msg);
  else if (msg.op === 'ping') {
    const heap = realm && !realm.isolate.isDisposed ? heapUsed(realm.isolate) : 0;
    write({ id: msg.id, pong: true, rss: process.memoryUsage.rss(), heap, functions: envs.size, warmBytes });
  }
});
rl.on('close', () => process.exit(0));
// Ready only with the runtime made and one empty run through it (which compiles the paths every
// run takes): a process is handed to a workspace warm, having run no one's code.
function warmUp() {
  const msg = { code: 'async function onTrack() {}', fnKey: '', timeoutMs: SETUP_TIMEOUT_MS };
  startRun(msg, JSON.stringify({ kind: 'destination', payload: { type: 'track' }, settings: {} }), () => {});
  for (const env of [...envs.values()]) forget(env);
}
currentRealm();
warmUp();
write({ ready: true, node: process.version });
