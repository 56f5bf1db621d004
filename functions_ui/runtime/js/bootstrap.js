// Runs INSIDE each fresh vm context, before the user's code. Everything defined here belongs to
// the context's own realm; the host capabilities arrive as `host` (functions that take and return
// primitives only) and `H` (deep-frozen host classes such as URL and Headers). Neither object is
// stored anywhere user code can reach. The script's completion value is the setup function.
(function setup(host, H, dataJson) {
  'use strict';
  const G = globalThis;
  const ObjectCreate = Object.create;
  const defineProperty = Object.defineProperty;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const ownKeys = Reflect.ownKeys;
  const ReflectApply = Reflect.apply;
  const getPrototypeOf = Object.getPrototypeOf;
  const hasOwn = Object.hasOwn;
  const ArrayIsArray = Array.isArray;
  const JSONparse = JSON.parse;
  const JSONstringify = JSON.stringify;
  const PromiseCtor = Promise;
  const promiseThen = Promise.prototype.then;
  const promiseResolve = Promise.resolve;
  const DateNow = Date.now;
  const StringCtor = String;
  const MapCtor = Map;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const mapDelete = Map.prototype.delete;
  const mapValues = Map.prototype.values;
  const mapKeys = Map.prototype.keys;
  const mapSize = getOwnPropertyDescriptor(Map.prototype, 'size').get;
  const ErrorCtor = Error;
  const TypeErrorCtor = TypeError;
  const arrayPush = Array.prototype.push;
  const arrayJoin = Array.prototype.join;
  const arraySort = Array.prototype.sort;
  const stringToLowerCase = String.prototype.toLowerCase;
  const stringReplace = String.prototype.replace;
  const stringStartsWith = String.prototype.startsWith;
  const stringSlice = String.prototype.slice;
  const regexpTest = RegExp.prototype.test;
  const FunctionToString = Function.prototype.toString;
  const push = (arr, v) => ReflectApply(arrayPush, arr, [v]);
  const then = (p, ok, fail) => ReflectApply(promiseThen, p, [ok, fail]);
  const toPromise = (v) => ReflectApply(promiseResolve, PromiseCtor, [v]);

  const data = JSONparse(dataJson);
  const kind = data.kind;
  const payload = data.payload;
  const settings = data.settings;

  // Stack traces show only the user's frames (no host paths), and user code cannot install its own
  // prepareStackTrace (whose CallSite objects would describe host frames).
  const errorToString = Error.prototype.toString;
  function prepareStackTrace(error, frames) {
    let header;
    try {
      header = ReflectApply(errorToString, error, []);
    } catch {
      header = 'Error';
    }
    const lines = [header];
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      const file = f.getFileName();
      if (file === 'function.js' || file === 'lodash.js') push(lines, '    at ' + f.toString());
    }
    return ReflectApply(arrayJoin, lines, ['\n']);
  }
  defineProperty(ErrorCtor, 'prepareStackTrace', {
    value: prepareStackTrace,
    writable: false,
    configurable: false,
  });

  const defineGlobal = (name, value) =>
    defineProperty(G, name, { value, writable: true, configurable: true, enumerable: false });

  // ---- error classes ---------------------------------------------------------------------
  class EventNotSupported extends ErrorCtor {
    name = 'EventNotSupported';
  }
  class InvalidEventPayload extends ErrorCtor {
    name = 'InvalidEventPayload';
  }
  class ValidationError extends ErrorCtor {
    name = 'ValidationError';
  }
  class RetryError extends ErrorCtor {
    name = 'RetryError';
  }
  class DropEvent extends ErrorCtor {
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
    if (typeof name === 'string' && CATEGORY_BY_NAME[name]) return CATEGORY_BY_NAME[name];
    return 'bad_request';
  }

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

  // ---- console -------------------------------------------------------------------------
  const IDENT = /^[A-Za-z_$][\w$]*$/;
  function inspect(value, depth, seen) {
    const t = typeof value;
    if (value === null) return 'null';
    if (t === 'undefined') return 'undefined';
    if (t === 'string') return depth === 0 ? value : "'" + value + "'";
    if (t === 'number' || t === 'boolean') return StringCtor(value);
    if (t === 'bigint') return StringCtor(value) + 'n';
    if (t === 'symbol') return value.toString();
    if (t === 'function') {
      let n = '';
      try {
        n = value.name;
      } catch {}
      return n ? '[Function: ' + n + ']' : '[Function (anonymous)]';
    }
    if (value instanceof ErrorCtor) {
      const d = describe(value);
      return d.stack || d.name + ': ' + d.message;
    }
    if (seen.length > 0 && seen.indexOf(value) !== -1) return '[Circular]';
    if (depth > 2) return ArrayIsArray(value) ? '[Array]' : '[Object]';
    push(seen, value);
    const parts = [];
    let out;
    try {
      if (ArrayIsArray(value)) {
        const n = value.length;
        for (let i = 0; i < n && i < 100; i++) push(parts, inspect(value[i], depth + 1, seen));
        if (n > 100) push(parts, '... ' + (n - 100) + ' more items');
        out = parts.length ? '[ ' + ReflectApply(arrayJoin, parts, [', ']) + ' ]' : '[]';
      } else if (value instanceof MapCtor) {
        for (const [k, v] of value)
          push(parts, inspect(k, depth + 1, seen) + ' => ' + inspect(v, depth + 1, seen));
        out = 'Map(' + parts.length + ') {' + (parts.length ? ' ' + parts.join(', ') + ' ' : '') + '}';
      } else if (value instanceof Date) {
        out = value.toISOString();
      } else {
        const keys = ownKeys(value);
        for (let i = 0; i < keys.length && i < 100; i++) {
          const k = keys[i];
          if (typeof k === 'symbol') continue;
          const desc = getOwnPropertyDescriptor(value, k);
          if (!desc || !desc.enumerable) continue;
          const label = ReflectApply(regexpTest, IDENT, [k]) ? k : "'" + k + "'";
          const shown =
            'value' in desc ? inspect(desc.value, depth + 1, seen) : '[Getter/Setter]';
          push(parts, label + ': ' + shown);
        }
        out = parts.length ? '{ ' + ReflectApply(arrayJoin, parts, [', ']) + ' }' : '{}';
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
    if (typeof args[0] === 'string' && args.length > 1 && args[0].indexOf('%') !== -1) {
      i = 1;
      const first = ReflectApply(stringReplace, args[0], [
        /%[sdifjoOc%]/g,
        (m) => {
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
        },
      ]);
      push(parts, first);
    }
    for (; i < args.length; i++) push(parts, inspect(args[i], 0, []));
    return ReflectApply(arrayJoin, parts, [' ']);
  }

  const consoleObj = {};
  const levels = [
    ['log', 'log'],
    ['info', 'info'],
    ['warn', 'warn'],
    ['error', 'error'],
    ['debug', 'debug'],
    ['trace', 'debug'],
    ['dir', 'log'],
    ['table', 'log'],
  ];
  for (const [method, level] of levels) {
    consoleObj[method] = function (...args) {
      if (host.logFull()) return;
      host.log(level, format(args));
    };
  }
  defineGlobal('console', consoleObj);

  // ---- timers --------------------------------------------------------------------------
  const timers = new MapCtor();
  let timerSeq = 0;
  const MAX_TIMERS = 1000;

  function rescheduleTimers() {
    let next = Infinity;
    const it = ReflectApply(mapValues, timers, []);
    for (let r = it.next(); !r.done; r = it.next()) if (r.value.at < next) next = r.value.at;
    if (next !== Infinity) host.schedule(next - DateNow());
  }

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
      const t = ReflectApply(mapGet, timers, [this.#id]);
      if (t) {
        t.at = DateNow() + t.ms;
        rescheduleTimers();
      }
      return this;
    }
    [Symbol.toPrimitive]() {
      return this.#id;
    }
  }

  function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== 'function') throw new TypeErrorCtor('The "callback" argument must be of type function');
    if (ReflectApply(mapSize, timers, []) >= MAX_TIMERS) throw new ErrorCtor('Too many active timers');
    let delay = Number(ms);
    if (!(delay >= 1 && delay <= 2147483647)) delay = 1;
    const id = ++timerSeq;
    ReflectApply(mapSet, timers, [id, { fn, args, ms: delay, at: DateNow() + delay, repeat }]);
    rescheduleTimers();
    return new Timeout(id);
  }

  function clearTimer(handle) {
    if (handle === null || handle === undefined) return;
    const id = typeof handle === 'object' ? Number(handle[Symbol.toPrimitive]?.()) : Number(handle);
    ReflectApply(mapDelete, timers, [id]);
  }

  defineGlobal('setTimeout', (fn, ms, ...args) => addTimer(fn, ms, args, false));
  defineGlobal('setInterval', (fn, ms, ...args) => addTimer(fn, ms, args, true));
  defineGlobal('setImmediate', (fn, ...args) => addTimer(fn, 0, args, false));
  defineGlobal('clearTimeout', clearTimer);
  defineGlobal('clearInterval', clearTimer);
  defineGlobal('clearImmediate', clearTimer);
  defineGlobal('queueMicrotask', (fn) => {
    if (typeof fn !== 'function') throw new TypeErrorCtor('callback must be a function');
    then(toPromise(undefined), () => fn());
  });

  function tick() {
    const now = DateNow();
    const due = [];
    const it = ReflectApply(mapKeys, timers, []);
    for (let r = it.next(); !r.done; r = it.next()) {
      const t = ReflectApply(mapGet, timers, [r.value]);
      if (t.at <= now) push(due, [r.value, t]);
    }
    ReflectApply(arraySort, due, [(a, b) => a[1].at - b[1].at || a[0] - b[0]]);
    for (const [id, t] of due) {
      if (ReflectApply(mapGet, timers, [id]) !== t) continue; // cleared by an earlier callback
      if (t.repeat) t.at = DateNow() + t.ms;
      else ReflectApply(mapDelete, timers, [id]);
      try {
        ReflectApply(t.fn, undefined, t.args);
      } catch (e) {
        fail(e); // an exception escaping a timer callback crashes the invocation, as in Node
        return;
      }
    }
    rescheduleTimers();
  }

  // ---- crypto ---------------------------------------------------------------------------
  const C = host.crypto;
  function rethrow(e) {
    const d = describe(e);
    const err = new (d.name === 'TypeError' ? TypeErrorCtor : ErrorCtor)(d.message);
    throw err;
  }
  function wrapStateful(obj, methods) {
    const out = {};
    for (const m of methods) {
      out[m] = function (...args) {
        let r;
        try {
          r = ReflectApply(obj[m], obj, args);
        } catch (e) {
          rethrow(e);
        }
        return r === obj ? out : r;
      };
    }
    return out;
  }
  const call = (fn, args) => {
    try {
      return ReflectApply(fn, undefined, args);
    } catch (e) {
      return rethrow(e);
    }
  };
  const cryptoObj = {
    createHash: (...a) => wrapStateful(call(C.createHash, a), ['update', 'digest', 'copy']),
    createHmac: (...a) => wrapStateful(call(C.createHmac, a), ['update', 'digest']),
    createSign: (...a) => wrapStateful(call(C.createSign, a), ['update', 'sign']),
    createVerify: (...a) => wrapStateful(call(C.createVerify, a), ['update', 'verify']),
    createCipheriv: (...a) =>
      wrapStateful(call(C.createCipheriv, a), [
        'update',
        'final',
        'setAutoPadding',
        'getAuthTag',
        'setAAD',
      ]),
    createDecipheriv: (...a) =>
      wrapStateful(call(C.createDecipheriv, a), [
        'update',
        'final',
        'setAutoPadding',
        'setAuthTag',
        'setAAD',
      ]),
    randomBytes: (n) => call(C.randomBytes, [n]),
    randomUUID: () => call(C.randomUUID, []),
    randomInt: (...a) => call(C.randomInt, a),
    timingSafeEqual: (a, b) => call(C.timingSafeEqual, [a, b]),
    pbkdf2Sync: (...a) => call(C.pbkdf2Sync, a),
    getHashes: () => call(C.getHashes, []),
    getRandomValues: (arr) => call(C.getRandomValues, [arr]),
    subtle: C.subtle,
  };
  cryptoObj.webcrypto = {
    subtle: C.subtle,
    getRandomValues: cryptoObj.getRandomValues,
    randomUUID: cryptoObj.randomUUID,
  };
  defineGlobal('crypto', cryptoObj);

  // ---- web / node classes (deep-frozen host classes) ------------------------------------
  // worker.js decides which host classes a context gets; all of them become globals here.
  for (const name of Object.keys(H)) {
    if (H[name] !== undefined) defineGlobal(name, H[name]);
  }

  // ---- fetch -----------------------------------------------------------------------------
  const BufferFrom = H.Buffer.from;
  function fetch(input, init) {
    return new PromiseCtor((resolve, reject) => {
      let req;
      try {
        req = new H.Request(input, init);
      } catch (e) {
        reject(new TypeErrorCtor(describe(e).message));
        return;
      }
      const method = req.method;
      const url = req.url;
      const redirect = req.redirect;
      const headers = [];
      for (const pair of req.headers) push(headers, [pair[0], pair[1]]);
      const send = (bodyB64) => {
        host.fetch(
          method,
          url,
          JSONstringify(headers),
          bodyB64,
          redirect,
          (err, status, statusText, headersJson, respB64, finalUrl, redirected) => {
            if (err) {
              const e = new TypeErrorCtor('fetch failed: ' + err);
              reject(e);
              return;
            }
            try {
              const nullBody = status === 101 || status === 204 || status === 205 || status === 304;
              const res = new H.Response(
                nullBody ? null : ReflectApply(BufferFrom, H.Buffer, [respB64, 'base64']),
                { status, statusText, headers: JSONparse(headersJson) },
              );
              defineProperty(res, 'url', { value: finalUrl, enumerable: true });
              defineProperty(res, 'redirected', { value: redirected, enumerable: true });
              resolve(res);
            } catch (e) {
              reject(new TypeErrorCtor('fetch failed: ' + describe(e).message));
            }
          },
        );
      };
      if (req.body === null) {
        send('');
      } else {
        then(
          req.arrayBuffer(),
          (ab) => send(ReflectApply(BufferFrom, H.Buffer, [ab]).toString('base64')),
          (e) => reject(new TypeErrorCtor(describe(e).message)),
        );
      }
    });
  }
  defineGlobal('fetch', fetch);

  // ---- lodash (loaded on first use) ------------------------------------------------------
  defineProperty(G, '_', {
    configurable: true,
    enumerable: false,
    get() {
      // lodash reads root._ (for noConflict) while loading, so unhook the getter first.
      defineProperty(G, '_', { value: undefined, writable: true, configurable: true });
      const lodash = host.lodash();
      defineProperty(G, '_', { value: lodash, writable: true, configurable: true });
      return lodash;
    },
    set(v) {
      defineProperty(G, '_', { value: v, writable: true, configurable: true });
    },
  });

  // ---- cache -----------------------------------------------------------------------------
  let store = host.cacheStore();
  if (store === undefined) {
    store = new MapCtor();
    host.cacheStore(store);
  }
  const MAX_CACHE_ENTRIES = 1000;
  const cache = {
    load(key, ttl, fn) {
      if (typeof ttl === 'function' && fn === undefined) {
        fn = ttl;
        ttl = undefined;
      }
      if (typeof fn !== 'function') throw new TypeErrorCtor('cache.load(key, ttl, fn): fn must be a function');
      const k = StringCtor(key);
      const now = DateNow();
      const hit = ReflectApply(mapGet, store, [k]);
      if (hit && (hit.exp === null || hit.exp > now)) return hit.p;
      const p = new PromiseCtor((res) => res(fn()));
      const t = Number(ttl);
      const entry = { p, exp: ttl === undefined || ttl === null || !(t >= 0) ? null : now + t };
      ReflectApply(mapDelete, store, [k]);
      ReflectApply(mapSet, store, [k, entry]);
      if (ReflectApply(mapSize, store, []) > MAX_CACHE_ENTRIES) {
        ReflectApply(mapDelete, store, [ReflectApply(mapKeys, store, []).next().value]);
      }
      then(p, undefined, () => {
        if (ReflectApply(mapGet, store, [k]) === entry) ReflectApply(mapDelete, store, [k]);
      });
      return p;
    },
    delete(key) {
      ReflectApply(mapDelete, store, [StringCtor(key)]);
    },
  };
  defineGlobal('cache', cache);

  // ---- Segment ---------------------------------------------------------------------------
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
    if (missing(msg[attr])) throw new ValidationError(attr + ' is required but not defined');
  }
  function requireId(msg) {
    if (missing(msg.userId) && missing(msg.anonymousId)) {
      throw new ValidationError('userId or anonymousId is required but not defined');
    }
  }
  function checkMessage(msg) {
    if (msg === null || typeof msg !== 'object' || ArrayIsArray(msg)) {
      throw new ValidationError('message must be an object');
    }
  }
  function emit(type, msg) {
    checkMessage(msg);
    if (type === 'track') requireAttr(msg, 'event');
    if (type === 'group') requireAttr(msg, 'groupId');
    if (type === 'alias') requireAttr(msg, 'previousId');
    if (type !== 'group' && type !== 'alias') requireId(msg);
    const out = { type };
    for (const f of COMMON) if (msg[f] !== undefined) out[f] = msg[f];
    for (const f of FIELDS[type]) if (msg[f] !== undefined) out[f] = msg[f];
    const problem = host.emit('event', JSONstringify(out));
    if (problem) throw new ValidationError(problem);
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
      if (collection !== ReflectApply(stringToLowerCase, collection, [])) {
        throw new ValidationError('collection must be lowercase');
      }
      const out = { collection, id: m.id, properties: m.properties === undefined ? {} : m.properties };
      const problem = host.emit('object', JSONstringify(out));
      if (problem) throw new ValidationError(problem);
    },
  };
  defineGlobal('Segment', Segment);
  defineGlobal('EventNotSupported', EventNotSupported);
  defineGlobal('InvalidEventPayload', InvalidEventPayload);
  defineGlobal('ValidationError', ValidationError);
  defineGlobal('RetryError', RetryError);
  defineGlobal('DropEvent', DropEvent);

  // ---- the source request ----------------------------------------------------------------
  function makeRequest() {
    const p = payload !== null && typeof payload === 'object' ? payload : {};
    const headers = new H.Headers();
    const hs = p.headers !== null && typeof p.headers === 'object' ? p.headers : {};
    for (const k of ownKeys(hs)) {
      if (typeof k !== 'string') continue;
      const v = hs[k];
      if (ArrayIsArray(v)) for (const item of v) headers.append(k, StringCtor(item));
      else if (v !== undefined && v !== null) headers.append(k, StringCtor(v));
    }
    let url;
    try {
      url = new H.URL(typeof p.url === 'string' && p.url ? p.url : 'https://fn.segmentapis.com/');
    } catch {
      url = new H.URL('https://fn.segmentapis.com/');
    }
    const qp = p.queryParameters;
    if (qp !== null && typeof qp === 'object') {
      for (const k of ownKeys(qp)) {
        if (typeof k !== 'string') continue;
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
          if (contentType.indexOf('application/x-www-form-urlencoded') !== -1) {
            const out = {};
            for (const [k, v] of new H.URLSearchParams(raw)) out[k] = v;
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

  // ---- invocation ------------------------------------------------------------------------
  const HANDLERS = {
    __proto__: null,
    identify: 'onIdentify',
    track: 'onTrack',
    page: 'onPage',
    screen: 'onScreen',
    group: 'onGroup',
    alias: 'onAlias',
    delete: 'onDelete',
  };
  let settled = false;
  function ok(value) {
    if (settled) return;
    let json;
    try {
      json = JSONstringify(value === undefined ? null : value);
      if (json === undefined) json = 'null';
    } catch (e) {
      fail(new TypeErrorCtor('The handler returned a value that is not JSON-serializable: ' + describe(e).message));
      return;
    }
    settled = true;
    host.done('{"status":"success","error":null,"result":' + json + '}');
  }
  function fail(e) {
    if (settled) return;
    settled = true;
    const status = categoryOf(e);
    host.done(JSONstringify({ status, error: describe(e), result: null }));
  }
  let invoked = false;
  function invoke(handlers) {
    if (invoked) return;
    invoked = true;
    let ret;
    try {
      let fn;
      let arg;
      if (kind === 'source') {
        fn = handlers.onRequest;
        if (typeof fn !== 'function') throw new EventNotSupported('onRequest is not defined');
        arg = makeRequest();
      } else if (ArrayIsArray(payload)) {
        fn = handlers.onBatch;
        if (typeof fn !== 'function') throw new EventNotSupported('batch is not supported');
        arg = payload;
      } else {
        const type = payload !== null && typeof payload === 'object' ? payload.type : undefined;
        const name = typeof type === 'string' ? HANDLERS[type] : undefined;
        fn = name ? handlers[name] : undefined;
        if (typeof fn !== 'function') throw new EventNotSupported(StringCtor(type) + ' is not supported');
        arg = payload;
      }
      ret = fn(arg, settings);
    } catch (e) {
      fail(e);
      return;
    }
    then(toPromise(ret), ok, fail);
  }

  const internal = { value: undefined, writable: false, configurable: false, enumerable: false };
  internal.value = invoke;
  defineProperty(G, '__fnrt_invoke', internal);
  defineProperty(G, '__fnrt_tick', { ...internal, value: tick });
  return (e) => JSONstringify({ status: categoryOf(e), error: describe(e), result: null });
});
