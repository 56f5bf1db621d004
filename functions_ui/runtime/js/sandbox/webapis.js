// Web and Node globals for user functions, written in plain ECMAScript because a V8 isolate has
// neither Node nor the web platform. Behaviour follows Node 20 (undici for fetch classes); where
// Node deviates from the specs only by accident, the specs win (see the notes next to the code).
// Classes are defined once per isolate when the bundle is evaluated; createWebApis only binds the
// host bridge, so creating a context stays cheap.
import { Buffer } from 'buffer';
import { internal } from './harden.js';

// Set by createWebApis: URL parsing and timers are host capabilities.
let hostBridge = null;

const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
const AsyncIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}).prototype);
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag).get;
const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;
const objectToString = Object.prototype.toString;
const moduleStart = Date.now();

function setToStringTag(Class, name) {
  Object.defineProperty(Class.prototype, Symbol.toStringTag, { value: name, configurable: true });
}

// The " Received ..." tail of Node's ERR_INVALID_ARG_TYPE messages.
function describeReceived(value) {
  if (value === null || value === undefined) return ` Received ${value}`;
  if (typeof value === 'function') return ` Received function ${value.name}`;
  if (typeof value === 'object') {
    const name = value.constructor?.name;
    return name ? ` Received an instance of ${name}` : ' Received [object Object]';
  }
  let shown = typeof value === 'string' ? `'${value.length > 25 ? value.slice(0, 25) + '...' : value}'` : String(value);
  if (typeof value === 'bigint') shown += 'n';
  return ` Received type ${typeof value} (${shown})`;
}

function invalidArgType(what, expected, value) {
  return codedError(TypeError, `The ${what} must be ${expected}.${describeReceived(value)}`, 'ERR_INVALID_ARG_TYPE');
}

function codedError(Ctor, message, code) {
  const error = new Ctor(message);
  error.code = code;
  return error;
}

function requireArgs(given, needed, names) {
  if (given < needed) {
    const list = names.map((n) => `"${n}"`);
    const text = list.length === 1 ? list[0] : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
    throw codedError(TypeError, `The ${text} argument${list.length > 1 ? 's' : ''} must be specified`, 'ERR_MISSING_ARGS');
  }
}

// undici's classes report missing arguments the WebIDL way, without a Node error code.
function requireWebidlArgs(given, needed, context) {
  if (given < needed) {
    throw new TypeError(`${context}: ${needed} argument${needed > 1 ? 's' : ''} required, but${given ? ' only' : ''} ${given} found.`);
  }
}

// WebIDL USVString: lone surrogates become U+FFFD.
const toUSV = (value) => String(value).toWellFormed();

// WebIDL records convert every enumerable own key, and a symbol cannot become a string.
function recordKey(key) {
  if (typeof key === 'symbol') throw new TypeError('Cannot convert a Symbol value to a string');
  return toUSV(key);
}

function isArrayBuffer(value) {
  try {
    arrayBufferByteLength.call(value);
    return true;
  } catch {
    return false;
  }
}

function isBufferSource(value) {
  return ArrayBuffer.isView(value) || isArrayBuffer(value);
}

// A view over the caller's memory; callers copy when they keep it.
function bytesOf(source) {
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return new Uint8Array(source);
}

function concatBytes(chunks) {
  let length = 0;
  for (const chunk of chunks) length += chunk.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

// ---- text codecs -------------------------------------------------------------------------------

function utf8Encode(input) {
  const str = String(input);
  const out = new Uint8Array(str.length * 3);
  let p = 0;
  for (let i = 0; i < str.length; i++) {
    let c = str.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
      continue;
    }
    if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = str.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out[p++] = 0xf0 | (c >> 18);
        out[p++] = 0x80 | ((c >> 12) & 0x3f);
        out[p++] = 0x80 | ((c >> 6) & 0x3f);
        out[p++] = 0x80 | (c & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    out[p++] = 0xe0 | (c >> 12);
    out[p++] = 0x80 | ((c >> 6) & 0x3f);
    out[p++] = 0x80 | (c & 0x3f);
  }
  return out.slice(0, p);
}

// Collects UTF-16 code units and turns them into a string in bounded chunks, because
// String.fromCharCode.apply has an argument-count limit.
class StringBuilder {
  #units = [];
  #text = '';
  push(unit) {
    this.#units.push(unit);
    if (this.#units.length === 0x2000) this.#drain();
  }
  pushCodePoint(cp) {
    if (cp > 0xffff) {
      cp -= 0x10000;
      this.push(0xd800 + (cp >> 10));
      this.push(0xdc00 + (cp & 0x3ff));
    } else {
      this.push(cp);
    }
  }
  #drain() {
    this.#text += String.fromCharCode.apply(null, this.#units);
    this.#units = [];
  }
  toString() {
    this.#drain();
    return this.#text;
  }
}

function decodingError(encoding) {
  return codedError(TypeError, `The encoded data was not valid for encoding ${encoding}`, 'ERR_ENCODING_INVALID_ENCODED_DATA');
}

// The WHATWG UTF-8 decoder: one U+FFFD per maximal invalid subpart, like V8 and browsers.
// Its state survives between calls so TextDecoder can stream.
class Utf8Decoder {
  #needed = 0;
  #seen = 0;
  #codePoint = 0;
  #lower = 0x80;
  #upper = 0xbf;

  decode(bytes, fatal, flush) {
    const out = new StringBuilder();
    const fail = () => {
      if (fatal) throw decodingError('utf-8');
      out.push(0xfffd);
    };
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i];
      if (this.#needed === 0) {
        if (byte < 0x80) out.push(byte);
        else if (byte >= 0xc2 && byte <= 0xdf) this.#start(1, byte & 0x1f);
        else if (byte >= 0xe0 && byte <= 0xef) {
          if (byte === 0xe0) this.#lower = 0xa0;
          if (byte === 0xed) this.#upper = 0x9f;
          this.#start(2, byte & 0x0f);
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          if (byte === 0xf0) this.#lower = 0x90;
          if (byte === 0xf4) this.#upper = 0x8f;
          this.#start(3, byte & 0x07);
        } else fail();
        continue;
      }
      if (byte < this.#lower || byte > this.#upper) {
        this.#reset();
        fail();
        i--; // the offending byte may start the next sequence
        continue;
      }
      this.#lower = 0x80;
      this.#upper = 0xbf;
      this.#codePoint = (this.#codePoint << 6) | (byte & 0x3f);
      if (++this.#seen === this.#needed) {
        out.pushCodePoint(this.#codePoint);
        this.#reset();
      }
    }
    if (flush && this.#needed !== 0) {
      this.#reset();
      fail();
    }
    return out.toString();
  }

  #start(needed, bits) {
    this.#needed = needed;
    this.#codePoint = bits;
  }

  #reset() {
    this.#needed = this.#seen = this.#codePoint = 0;
    this.#lower = 0x80;
    this.#upper = 0xbf;
  }
}

class Utf16leDecoder {
  #leadByte = -1;
  #leadSurrogate = -1;

  decode(bytes, fatal, flush) {
    const out = new StringBuilder();
    const fail = () => {
      if (fatal) throw decodingError('utf-16le');
      out.push(0xfffd);
    };
    for (let i = 0; i < bytes.length; i++) {
      if (this.#leadByte === -1) {
        this.#leadByte = bytes[i];
        continue;
      }
      const unit = this.#leadByte | (bytes[i] << 8);
      this.#leadByte = -1;
      if (this.#leadSurrogate !== -1) {
        const lead = this.#leadSurrogate;
        this.#leadSurrogate = -1;
        if (unit >= 0xdc00 && unit <= 0xdfff) {
          out.push(lead);
          out.push(unit);
          continue;
        }
        fail();
      }
      if (unit >= 0xd800 && unit <= 0xdbff) this.#leadSurrogate = unit;
      else if (unit >= 0xdc00 && unit <= 0xdfff) fail();
      else out.push(unit);
    }
    if (flush && (this.#leadByte !== -1 || this.#leadSurrogate !== -1)) {
      this.#leadByte = this.#leadSurrogate = -1;
      fail();
    }
    return out.toString();
  }
}

// windows-1252 differs from ISO-8859-1 only in 0x80..0x9F. (Node 20 decodes that range as
// ISO-8859-1, a bug fixed in later Node releases; the spec mapping is used here.)
const WINDOWS_1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

class Windows1252Decoder {
  decode(bytes) {
    const out = new StringBuilder();
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i];
      out.push(byte >= 0x80 && byte <= 0x9f ? WINDOWS_1252_HIGH[byte - 0x80] : byte);
    }
    return out.toString();
  }
}

const ENCODING_LABELS = new Map();
for (const [encoding, labels] of [
  ['utf-8', ['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8']],
  ['utf-16le', ['csunicode', 'iso-10646-ucs-2', 'ucs-2', 'unicode', 'unicodefeff', 'utf-16', 'utf-16le']],
  [
    'windows-1252',
    ['ansi_x3.4-1968', 'ascii', 'cp1252', 'cp819', 'csisolatin1', 'ibm819', 'iso-8859-1', 'iso-ir-100', 'iso8859-1',
      'iso88591', 'iso_8859-1', 'iso_8859-1:1987', 'l1', 'latin1', 'us-ascii', 'windows-1252', 'x-cp1252'],
  ],
]) {
  for (const label of labels) ENCODING_LABELS.set(label, encoding);
}

const utf8Decode = (bytes) => new Utf8Decoder().decode(bytes, false, true);

// "UTF-8 decode" of the Encoding spec, used by Body.text(): drops one leading BOM.
function utf8DecodeWithBom(bytes) {
  const text = utf8Decode(bytes);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

class TextEncoder {
  get encoding() {
    return 'utf-8';
  }

  encode(input = '') {
    return utf8Encode(input);
  }

  encodeInto(source, destination) {
    if (!(destination instanceof Uint8Array)) {
      throw invalidArgType('"dest" argument', 'an instance of Uint8Array', destination);
    }
    const str = String(source);
    let read = 0;
    let written = 0;
    while (read < str.length) {
      const cp = str.codePointAt(read);
      const units = cp > 0xffff ? 2 : 1;
      const bytes = utf8Encode(str.slice(read, read + units));
      if (written + bytes.length > destination.length) break;
      destination.set(bytes, written);
      written += bytes.length;
      read += units;
    }
    return { read, written };
  }
}
setToStringTag(TextEncoder, 'TextEncoder');

class TextDecoder {
  #encoding;
  #fatal;
  #ignoreBOM;
  #decoder = null;
  #bomChecked = false;

  constructor(label = 'utf-8', options = {}) {
    const encoding = ENCODING_LABELS.get(String(label).trim().toLowerCase());
    if (encoding === undefined) {
      throw codedError(RangeError, `The "${label}" encoding is not supported`, 'ERR_ENCODING_NOT_SUPPORTED');
    }
    if (options !== undefined && options !== null && !isObjectLike(options)) {
      throw invalidArgType('"options" argument', 'of type object', options);
    }
    this.#encoding = encoding;
    this.#fatal = Boolean(options?.fatal);
    this.#ignoreBOM = Boolean(options?.ignoreBOM);
  }

  get encoding() {
    return this.#encoding;
  }

  get fatal() {
    return this.#fatal;
  }

  get ignoreBOM() {
    return this.#ignoreBOM;
  }

  decode(input = new Uint8Array(0), options = {}) {
    if (!isBufferSource(input)) {
      throw invalidArgType('"list" argument', 'an instance of SharedArrayBuffer, ArrayBuffer or ArrayBufferView', input);
    }
    const stream = Boolean(options?.stream);
    if (this.#decoder === null) {
      this.#decoder =
        this.#encoding === 'utf-8' ? new Utf8Decoder()
        : this.#encoding === 'utf-16le' ? new Utf16leDecoder()
        : new Windows1252Decoder();
      this.#bomChecked = false;
    }
    let text;
    try {
      text = this.#decoder.decode(bytesOf(input), this.#fatal, !stream);
    } catch (error) {
      this.#decoder = null;
      throw error;
    }
    // The BOM check applies to the first character of the whole stream, not of each chunk.
    if (!this.#bomChecked && text.length > 0) {
      this.#bomChecked = true;
      if (!this.#ignoreBOM && this.#encoding !== 'windows-1252' && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (!stream) this.#decoder = null;
    return text;
  }
}
setToStringTag(TextDecoder, 'TextDecoder');

// ---- Buffer ------------------------------------------------------------------------------------
// The `buffer` package is Node's Buffer API in plain JS. Its gaps are closed here, on this
// isolate's own copy of it: the 'base64url' encoding; hex strings, which Node decodes up to the
// first pair that is not two hex digits (the package's parseInt accepts pairs like 'aG');
// Buffer.byteLength for base64, which Node estimates from the length; UTF-8 decoding, where the
// package emits one U+FFFD per bad byte while Node follows the WHATWG decoder; and Node's error
// codes on thrown errors.

const isEncodingNamed = (value, name) => typeof value === 'string' && value.toLowerCase() === name;

// For methods taking (string, ...rest) where the encoding is any later string argument.
function acceptNodeStringEncodings(original) {
  return function (...args) {
    for (let i = 1; i < args.length; i++) {
      if (isEncodingNamed(args[i], 'base64url')) args[i] = 'base64';
      else if (isEncodingNamed(args[i], 'hex') && typeof args[0] === 'string') args[0] = /^(?:[0-9a-fA-F]{2})*/.exec(args[0])[0];
    }
    return original.apply(this, args);
  };
}

function withNodeErrorCodes(original) {
  return function (...args) {
    try {
      return original.apply(this, args);
    } catch (error) {
      if (error instanceof Error && error.code === undefined) {
        if (error.message.startsWith('Unknown encoding')) error.code = 'ERR_UNKNOWN_ENCODING';
        else if (error.message.startsWith('Attempt to access memory outside buffer bounds')) error.code = 'ERR_BUFFER_OUT_OF_BOUNDS';
        else if (error instanceof RangeError) error.code = 'ERR_OUT_OF_RANGE';
        else if (error instanceof TypeError) error.code = 'ERR_INVALID_ARG_TYPE';
      }
      throw error;
    }
  };
}

{
  const proto = Buffer.prototype;
  const originalToString = proto.toString;
  const originalByteLength = Buffer.byteLength;
  const originalIsEncoding = Buffer.isEncoding;
  Buffer.from = acceptNodeStringEncodings(Buffer.from);
  Buffer.byteLength = function byteLength(string, encoding) {
    if (typeof string !== 'string' || !(isEncodingNamed(encoding, 'base64') || isEncodingNamed(encoding, 'base64url'))) {
      return originalByteLength(string, encoding);
    }
    let length = string.length;
    if (string.charCodeAt(length - 1) === 0x3d) length--;
    if (length > 1 && string.charCodeAt(length - 1) === 0x3d) length--;
    return (length * 3) >>> 2;
  };
  Buffer.isEncoding = (encoding) => isEncodingNamed(encoding, 'base64url') || originalIsEncoding(encoding);
  proto.write = acceptNodeStringEncodings(proto.write);
  proto.fill = acceptNodeStringEncodings(proto.fill);
  proto.toString = function toString(encoding, start, end) {
    const normalized = encoding === undefined ? 'utf8' : String(encoding).toLowerCase();
    if (normalized !== 'utf8' && normalized !== 'utf-8' && normalized !== 'base64url') {
      return originalToString.call(this, encoding, start, end);
    }
    start = start === undefined || start < 0 ? 0 : Math.trunc(start) || 0;
    end = end === undefined || end > this.length ? this.length : Math.trunc(end) || 0;
    if (end <= start) return '';
    const view = new Uint8Array(this.buffer, this.byteOffset + start, end - start);
    if (normalized === 'base64url') {
      return originalToString.call(view, 'base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    }
    return utf8Decode(view);
  };
  proto.toLocaleString = proto.toString;
  for (const target of [Buffer, proto]) {
    for (const key of Object.getOwnPropertyNames(target)) {
      const descriptor = Object.getOwnPropertyDescriptor(target, key);
      if (typeof descriptor.value === 'function' && key !== 'constructor') {
        const wrapped = withNodeErrorCodes(descriptor.value);
        Object.defineProperty(wrapped, 'name', { value: key });
        Object.defineProperty(target, key, { ...descriptor, value: wrapped });
      }
    }
  }
}

// ---- atob / btoa -------------------------------------------------------------------------------

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ASCII_WHITESPACE = '\t\n\f\r ';

function btoa(data) {
  requireArgs(arguments.length, 1, ['input']);
  const input = String(data);
  for (let i = 0; i < input.length; i++) {
    if (input.charCodeAt(i) > 0xff) throw new DOMException('Invalid character', 'InvalidCharacterError');
  }
  return Buffer.from(input, 'latin1').toString('base64');
}

// Mirrors Node 20's forgiving-base64 checks, so the same inputs fail with the same messages.
function atob(data) {
  requireArgs(arguments.length, 1, ['input']);
  const input = String(data);
  let significant = 0;
  let equals = 0;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ASCII_WHITESPACE.includes(ch)) continue;
    significant++;
    if (ch === '=') {
      equals++;
      if (equals > 2) throw new DOMException('Invalid character', 'InvalidCharacterError');
    } else if (!BASE64_ALPHABET.includes(ch) || equals) {
      throw new DOMException('Invalid character', 'InvalidCharacterError');
    }
  }
  let remainder = significant % 4;
  if (remainder === 0) remainder = (significant - equals) % 4;
  else if (equals) throw new DOMException('Invalid character', 'InvalidCharacterError');
  if (remainder === 1) {
    throw new DOMException('The string to be decoded is not correctly encoded.', 'InvalidCharacterError');
  }
  return Buffer.from(input, 'base64').toString('latin1');
}

// ---- DOMException ------------------------------------------------------------------------------

const DOM_EXCEPTION_CODES = [
  ['IndexSizeError', 'INDEX_SIZE_ERR'],
  ['DOMStringSizeError', 'DOMSTRING_SIZE_ERR'],
  ['HierarchyRequestError', 'HIERARCHY_REQUEST_ERR'],
  ['WrongDocumentError', 'WRONG_DOCUMENT_ERR'],
  ['InvalidCharacterError', 'INVALID_CHARACTER_ERR'],
  ['NoDataAllowedError', 'NO_DATA_ALLOWED_ERR'],
  ['NoModificationAllowedError', 'NO_MODIFICATION_ALLOWED_ERR'],
  ['NotFoundError', 'NOT_FOUND_ERR'],
  ['NotSupportedError', 'NOT_SUPPORTED_ERR'],
  ['InUseAttributeError', 'INUSE_ATTRIBUTE_ERR'],
  ['InvalidStateError', 'INVALID_STATE_ERR'],
  ['SyntaxError', 'SYNTAX_ERR'],
  ['InvalidModificationError', 'INVALID_MODIFICATION_ERR'],
  ['NamespaceError', 'NAMESPACE_ERR'],
  ['InvalidAccessError', 'INVALID_ACCESS_ERR'],
  ['ValidationError', 'VALIDATION_ERR'],
  ['TypeMismatchError', 'TYPE_MISMATCH_ERR'],
  ['SecurityError', 'SECURITY_ERR'],
  ['NetworkError', 'NETWORK_ERR'],
  ['AbortError', 'ABORT_ERR'],
  ['URLMismatchError', 'URL_MISMATCH_ERR'],
  ['QuotaExceededError', 'QUOTA_EXCEEDED_ERR'],
  ['TimeoutError', 'TIMEOUT_ERR'],
  ['InvalidNodeTypeError', 'INVALID_NODE_TYPE_ERR'],
  ['DataCloneError', 'DATA_CLONE_ERR'],
];
const DOM_EXCEPTION_CODE_BY_NAME = new Map(DOM_EXCEPTION_CODES.map(([name], i) => [name, i + 1]));

// Extends Error so stack traces and `instanceof Error` work as in Node; name/message/code are
// prototype getters there too, so the instance carries no own data besides `stack`.
class DOMException extends Error {
  #name;
  #message;

  constructor(message = '', options = 'Error') {
    super();
    this.#message = String(message);
    if (options !== null && typeof options === 'object') {
      this.#name = 'name' in options ? String(options.name) : 'Error';
      if ('cause' in options) {
        Object.defineProperty(this, 'cause', { value: options.cause, writable: true, configurable: true });
      }
    } else {
      this.#name = String(options);
    }
  }

  get name() {
    return this.#name;
  }

  get message() {
    return this.#message;
  }

  get code() {
    return DOM_EXCEPTION_CODE_BY_NAME.get(this.#name) ?? 0;
  }
}
setToStringTag(DOMException, 'DOMException');
DOM_EXCEPTION_CODES.forEach(([, constant], i) => {
  const descriptor = { value: i + 1, enumerable: true };
  Object.defineProperty(DOMException, constant, descriptor);
  Object.defineProperty(DOMException.prototype, constant, descriptor);
});

// ---- Event / EventTarget -----------------------------------------------------------------------

let eventInternals;

class Event {
  #type;
  #bubbles;
  #cancelable;
  #composed;
  #defaultPrevented = false;
  #target = null;
  #currentTarget = null;
  #stopImmediate = false;
  #propagationStopped = false;
  #dispatching = false;
  #timeStamp = Date.now() - moduleStart;

  static NONE = 0;
  static CAPTURING_PHASE = 1;
  static AT_TARGET = 2;
  static BUBBLING_PHASE = 3;

  static {
    eventInternals = {
      isEvent: (value) => value !== null && typeof value === 'object' && #type in value,
      begin(event, target) {
        if (event.#dispatching) throw new DOMException('The event is already being dispatched', 'InvalidStateError');
        event.#dispatching = true;
        event.#target = event.#currentTarget = target;
      },
      end(event) {
        event.#dispatching = false;
        event.#currentTarget = null;
      },
      stoppedImmediately: (event) => event.#stopImmediate,
    };
  }

  constructor(type, options = {}) {
    requireArgs(arguments.length, 1, ['type']);
    this.#type = String(type);
    this.#bubbles = Boolean(options?.bubbles);
    this.#cancelable = Boolean(options?.cancelable);
    this.#composed = Boolean(options?.composed);
  }

  get type() {
    return this.#type;
  }

  get bubbles() {
    return this.#bubbles;
  }

  get cancelable() {
    return this.#cancelable;
  }

  get composed() {
    return this.#composed;
  }

  get defaultPrevented() {
    return this.#cancelable && this.#defaultPrevented;
  }

  get returnValue() {
    return !this.defaultPrevented;
  }

  get target() {
    return this.#target;
  }

  get currentTarget() {
    return this.#currentTarget;
  }

  get srcElement() {
    return this.#target;
  }

  get eventPhase() {
    return this.#dispatching ? Event.AT_TARGET : Event.NONE;
  }

  get isTrusted() {
    return false;
  }

  get timeStamp() {
    return this.#timeStamp;
  }

  get cancelBubble() {
    return this.#propagationStopped;
  }

  set cancelBubble(value) {
    if (value) this.#propagationStopped = true;
  }

  composedPath() {
    return this.#dispatching ? [this.#currentTarget] : [];
  }

  // Node 20 ignores `passive` here, so preventDefault always takes effect.
  preventDefault() {
    this.#defaultPrevented = true;
  }

  stopPropagation() {
    this.#propagationStopped = true;
  }

  stopImmediatePropagation() {
    this.#propagationStopped = true;
    this.#stopImmediate = true;
  }
}
setToStringTag(Event, 'Event');

// A throwing listener must not break dispatch; like in Node, the error surfaces as an uncaught
// error of its own (here: an unhandled rejection the runtime reports).
function reportListenerError(error) {
  Promise.reject(error);
}

function flattenListenerOptions(options) {
  if (typeof options === 'boolean') return { capture: options, once: false, signal: undefined };
  if (options === null || typeof options !== 'object') return { capture: false, once: false, signal: undefined };
  return { capture: Boolean(options.capture), once: Boolean(options.once), signal: options.signal };
}

class EventTarget {
  #listeners = new Map();

  addEventListener(type, callback, options) {
    requireArgs(arguments.length, 2, ['type', 'listener']);
    if (callback === null || callback === undefined) return;
    const { capture, once, signal } = flattenListenerOptions(options);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw invalidArgType('"options.signal" property', 'an instance of AbortSignal', signal);
    }
    if (signal?.aborted) return;
    type = String(type);
    let list = this.#listeners.get(type);
    if (list === undefined) this.#listeners.set(type, (list = []));
    if (list.some((l) => l.callback === callback && l.capture === capture)) return;
    list.push({ callback, capture, once, removed: false });
    signal?.addEventListener('abort', () => this.removeEventListener(type, callback, { capture }), { once: true });
  }

  removeEventListener(type, callback, options) {
    requireArgs(arguments.length, 2, ['type', 'listener']);
    const list = this.#listeners.get(String(type));
    if (list === undefined) return;
    const { capture } = flattenListenerOptions(options);
    const index = list.findIndex((l) => l.callback === callback && l.capture === capture);
    if (index === -1) return;
    list[index].removed = true;
    list.splice(index, 1);
  }

  dispatchEvent(event) {
    requireArgs(arguments.length, 1, ['event']);
    if (!eventInternals.isEvent(event)) {
      throw invalidArgType('"event" argument', 'an instance of Event', event);
    }
    eventInternals.begin(event, this);
    try {
      for (const listener of [...(this.#listeners.get(event.type) ?? [])]) {
        if (listener.removed) continue;
        if (listener.once) this.removeEventListener(event.type, listener.callback, { capture: listener.capture });
        try {
          const { callback } = listener;
          if (typeof callback === 'function') callback.call(this, event);
          else if (typeof callback?.handleEvent === 'function') callback.handleEvent(event);
        } catch (error) {
          reportListenerError(error);
        }
        if (eventInternals.stoppedImmediately(event)) break;
      }
    } finally {
      eventInternals.end(event);
    }
    return !event.defaultPrevented;
  }
}
setToStringTag(EventTarget, 'EventTarget');

// ---- AbortSignal / AbortController -------------------------------------------------------------

const CONSTRUCT_INTERNALLY = Symbol('internal');
let signalAbort;

class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  #onabort = null;
  #onabortRegistered = false;
  #dependents = [];

  static {
    signalAbort = (signal, reason) => signal.#abort(reason);
  }

  constructor(key) {
    if (key !== CONSTRUCT_INTERNALLY) throw codedError(TypeError, 'Illegal constructor', 'ERR_ILLEGAL_CONSTRUCTOR');
    super();
  }

  static abort(reason) {
    const signal = new AbortSignal(CONSTRUCT_INTERNALLY);
    signal.#aborted = true;
    signal.#reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    return signal;
  }

  static timeout(delay) {
    if (typeof delay !== 'number') throw invalidArgType('"delay" argument', 'of type number', delay);
    if (!(delay >= 0 && delay <= 4294967295)) {
      throw codedError(RangeError, `The value of "delay" is out of range. It must be >= 0 && <= 4294967295. Received ${delay}`, 'ERR_OUT_OF_RANGE');
    }
    const signal = new AbortSignal(CONSTRUCT_INTERNALLY);
    hostBridge.setTimeout(() => {
      signal.#abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, Math.trunc(delay));
    return signal;
  }

  static any(signals) {
    requireArgs(arguments.length, 1, ['signals']);
    const sources = [...signals];
    sources.forEach((source, i) => {
      if (!(source instanceof AbortSignal)) throw invalidArgType(`"signals[${i}]" argument`, 'an instance of AbortSignal', source);
    });
    const aborted = sources.find((s) => s.#aborted);
    if (aborted) return AbortSignal.abort(aborted.#reason);
    const signal = new AbortSignal(CONSTRUCT_INTERNALLY);
    for (const source of sources) source.#dependents.push(signal);
    return signal;
  }

  get aborted() {
    return this.#aborted;
  }

  get reason() {
    return this.#reason;
  }

  get onabort() {
    return this.#onabort ?? null;
  }

  // As in Node: the first assignment registers one listener for good, so the handler keeps its
  // place in the listener order however often it is replaced, and any value is kept as given.
  set onabort(handler) {
    if (!this.#onabortRegistered) {
      this.#onabortRegistered = true;
      this.addEventListener('abort', this.#runOnabort);
    }
    this.#onabort = handler;
  }

  #runOnabort = (event) => {
    const handler = this.#onabort;
    if (typeof handler === 'function') handler.call(this, event);
  };

  throwIfAborted() {
    if (this.#aborted) throw this.#reason;
  }

  #abort(reason) {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const dependents = this.#dependents;
    this.#dependents = [];
    this.dispatchEvent(new Event('abort'));
    for (const dependent of dependents) dependent.#abort(this.#reason);
  }
}
setToStringTag(AbortSignal, 'AbortSignal');

class AbortController {
  #signal = new AbortSignal(CONSTRUCT_INTERNALLY);

  get signal() {
    return this.#signal;
  }

  abort(reason) {
    signalAbort(this.#signal, reason);
  }
}
setToStringTag(AbortController, 'AbortController');

// ---- ReadableStream (default streams only) -----------------------------------------------------

let streamInternals;

class ReadableStreamDefaultController {
  #stream;

  constructor(key, stream) {
    if (key !== CONSTRUCT_INTERNALLY) throw new TypeError('Illegal constructor');
    this.#stream = stream;
  }

  get desiredSize() {
    return streamInternals.desiredSize(this.#stream);
  }

  enqueue(chunk) {
    streamInternals.enqueue(this.#stream, chunk);
  }

  close() {
    streamInternals.close(this.#stream);
  }

  error(reason) {
    streamInternals.error(this.#stream, reason);
  }
}
setToStringTag(ReadableStreamDefaultController, 'ReadableStreamDefaultController');

class ReadableStreamDefaultReader {
  #stream;
  #closed;

  constructor(stream) {
    if (!streamInternals.isStream(stream)) {
      throw invalidArgType('"stream" argument', 'an instance of ReadableStream', stream);
    }
    streamInternals.lock(stream, this);
    this.#stream = stream;
    this.#closed = streamInternals.closedPromise(stream);
  }

  get closed() {
    return this.#closed;
  }

  read() {
    if (this.#stream === null) return Promise.reject(codedError(TypeError, 'Invalid state: The reader is not attached to a stream', 'ERR_INVALID_STATE'));
    return streamInternals.read(this.#stream);
  }

  cancel(reason) {
    if (this.#stream === null) return Promise.reject(codedError(TypeError, 'Invalid state: The reader is not attached to a stream', 'ERR_INVALID_STATE'));
    return streamInternals.cancel(this.#stream, reason);
  }

  releaseLock() {
    if (this.#stream === null) return;
    streamInternals.release(this.#stream);
    this.#stream = null;
  }
}
setToStringTag(ReadableStreamDefaultReader, 'ReadableStreamDefaultReader');

function settleLater() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// A reader's `closed` promise may reject with nobody listening; that is not an unhandled error.
function closedPromise() {
  const settle = settleLater();
  settle.promise.catch(() => {});
  return settle;
}

class ReadableStream {
  #state = 'readable';
  #storedError;
  #queue = [];
  #readRequests = [];
  #reader = null;
  #disturbed = false;
  #closeRequested = false;
  #started = false;
  #pulling = false;
  #pullAgain = false;
  #highWaterMark;
  #source;
  #controller;
  #closed = closedPromise();

  static {
    streamInternals = {
      isStream: (value) => value !== null && typeof value === 'object' && #state in value,
      isDisturbed: (stream) => stream.#disturbed,
      desiredSize(stream) {
        if (stream.#state === 'errored') return null;
        if (stream.#state === 'closed') return 0;
        return stream.#highWaterMark - stream.#queue.length;
      },
      enqueue(stream, chunk) {
        if (stream.#closeRequested || stream.#state !== 'readable') {
          throw codedError(TypeError, 'Invalid state: Controller is already closed', 'ERR_INVALID_STATE');
        }
        const request = stream.#readRequests.shift();
        if (request) request.resolve({ value: chunk, done: false });
        else stream.#queue.push(chunk);
        stream.#pullIfNeeded();
      },
      close(stream) {
        if (stream.#closeRequested || stream.#state !== 'readable') {
          throw codedError(TypeError, 'Invalid state: Controller is already closed', 'ERR_INVALID_STATE');
        }
        stream.#closeRequested = true;
        if (stream.#queue.length === 0) stream.#finishClose();
      },
      error: (stream, reason) => stream.#error(reason),
      lock(stream, reader) {
        if (stream.#reader !== null) {
          throw codedError(TypeError, 'Invalid state: ReadableStream is locked', 'ERR_INVALID_STATE');
        }
        stream.#reader = reader;
        stream.#closed = closedPromise();
        if (stream.#state === 'closed') stream.#closed.resolve();
        if (stream.#state === 'errored') stream.#closed.reject(stream.#storedError);
      },
      closedPromise: (stream) => stream.#closed.promise,
      release(stream) {
        const released = codedError(TypeError, 'Invalid state: Releasing reader', 'ERR_INVALID_STATE');
        for (const request of stream.#readRequests) request.reject(released);
        stream.#readRequests = [];
        if (stream.#state === 'readable') stream.#closed.reject(released);
        stream.#reader = null;
      },
      read: (stream) => stream.#read(),
      cancel: (stream, reason) => stream.#cancel(reason),
    };
  }

  constructor(underlyingSource = {}, strategy = {}) {
    if (underlyingSource === null) underlyingSource = {};
    if (underlyingSource.type !== undefined) {
      throw codedError(RangeError, `The argument 'source.type' is invalid. Received '${underlyingSource.type}'`, 'ERR_INVALID_ARG_VALUE');
    }
    const highWaterMark = strategy?.highWaterMark === undefined ? 1 : Number(strategy.highWaterMark);
    if (Number.isNaN(highWaterMark) || highWaterMark < 0) {
      throw codedError(RangeError, 'The value of "strategy.highWaterMark" is invalid', 'ERR_INVALID_ARG_VALUE');
    }
    this.#highWaterMark = highWaterMark;
    this.#source = underlyingSource;
    this.#controller = new ReadableStreamDefaultController(CONSTRUCT_INTERNALLY, this);
    const started = typeof underlyingSource.start === 'function' ? underlyingSource.start.call(underlyingSource, this.#controller) : undefined;
    Promise.resolve(started).then(
      () => {
        this.#started = true;
        this.#pullIfNeeded();
      },
      (error) => this.#error(error),
    );
  }

  get locked() {
    return this.#reader !== null;
  }

  getReader(options = {}) {
    if (options?.mode !== undefined) {
      if (String(options.mode) !== 'byob') {
        throw codedError(TypeError, `The argument 'options.mode' is invalid. Received '${options.mode}'`, 'ERR_INVALID_ARG_VALUE');
      }
      throw codedError(TypeError, 'The ReadableStream does not support BYOB readers', 'ERR_INVALID_ARG_VALUE');
    }
    return new ReadableStreamDefaultReader(this);
  }

  cancel(reason) {
    if (this.#reader !== null) {
      return Promise.reject(codedError(TypeError, 'Invalid state: ReadableStream is locked', 'ERR_INVALID_STATE'));
    }
    return this.#cancel(reason);
  }

  tee() {
    const reader = this.getReader();
    let reading = false;
    let canceled = 0;
    const branches = [];
    const pull = () => {
      if (reading) return;
      reading = true;
      reader.read().then(
        ({ value, done }) => {
          reading = false;
          for (const branch of branches) {
            if (branch.canceled) continue;
            if (done) branch.controller.close();
            else branch.controller.enqueue(value);
          }
        },
        (error) => branches.forEach((branch) => branch.controller.error(error)),
      );
    };
    const makeBranch = () => {
      const branch = { canceled: false, controller: null };
      branches.push(branch);
      return new ReadableStream({
        start(controller) {
          branch.controller = controller;
        },
        pull,
        cancel(reason) {
          branch.canceled = true;
          if (++canceled === 2) return reader.cancel(reason);
        },
      });
    };
    return [makeBranch(), makeBranch()];
  }

  values(options = {}) {
    const reader = this.getReader();
    const preventCancel = Boolean(options?.preventCancel);
    let finished = false;
    return Object.setPrototypeOf(
      {
        async next() {
          if (finished) return { value: undefined, done: true };
          try {
            const result = await reader.read();
            if (result.done) {
              finished = true;
              reader.releaseLock();
            }
            return result;
          } catch (error) {
            finished = true;
            reader.releaseLock();
            throw error;
          }
        },
        async return(value) {
          if (!finished) {
            finished = true;
            if (!preventCancel) await reader.cancel(value);
            reader.releaseLock();
          }
          return { value, done: true };
        },
      },
      AsyncIteratorPrototype,
    );
  }

  [Symbol.asyncIterator](options) {
    return this.values(options);
  }

  #read() {
    this.#disturbed = true;
    if (this.#state === 'errored') return Promise.reject(this.#storedError);
    if (this.#queue.length > 0) {
      const value = this.#queue.shift();
      if (this.#closeRequested && this.#queue.length === 0) this.#finishClose();
      else this.#pullIfNeeded();
      return Promise.resolve({ value, done: false });
    }
    if (this.#state === 'closed') return Promise.resolve({ value: undefined, done: true });
    const request = settleLater();
    this.#readRequests.push(request);
    this.#pullIfNeeded();
    return request.promise;
  }

  #cancel(reason) {
    this.#disturbed = true;
    if (this.#state === 'closed') return Promise.resolve();
    if (this.#state === 'errored') return Promise.reject(this.#storedError);
    this.#queue = [];
    this.#finishClose();
    const cancel = this.#source.cancel;
    return Promise.resolve(typeof cancel === 'function' ? cancel.call(this.#source, reason) : undefined).then(() => undefined);
  }

  #pullIfNeeded() {
    if (!this.#started || this.#state !== 'readable' || this.#closeRequested) return;
    if (this.#readRequests.length === 0 && this.#queue.length >= this.#highWaterMark) return;
    if (typeof this.#source.pull !== 'function') return;
    if (this.#pulling) {
      this.#pullAgain = true;
      return;
    }
    this.#pulling = true;
    Promise.resolve()
      .then(() => this.#source.pull.call(this.#source, this.#controller))
      .then(
        () => {
          this.#pulling = false;
          if (this.#pullAgain) {
            this.#pullAgain = false;
            this.#pullIfNeeded();
          }
        },
        (error) => this.#error(error),
      );
  }

  #finishClose() {
    this.#state = 'closed';
    for (const request of this.#readRequests) request.resolve({ value: undefined, done: true });
    this.#readRequests = [];
    this.#closed.resolve();
  }

  #error(reason) {
    if (this.#state !== 'readable') return;
    this.#state = 'errored';
    this.#storedError = reason;
    this.#queue = [];
    for (const request of this.#readRequests) request.reject(reason);
    this.#readRequests = [];
    this.#closed.reject(reason);
  }
}
setToStringTag(ReadableStream, 'ReadableStream');

// Like undici: a byte body is one chunk, and an empty one is no chunk at all.
function streamFromBytes(bytes) {
  return new ReadableStream({
    pull(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes.slice());
      controller.close();
    },
  });
}

async function readAllBytes(stream) {
  const reader = stream.getReader();
  const chunks = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (!(value instanceof Uint8Array)) {
      reader.releaseLock();
      throw new TypeError('Received non-Uint8Array chunk');
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}

// ---- live pair iterators (URLSearchParams, Headers, FormData) ----------------------------------

function definePairIterator(tag) {
  class PairIterator {
    #pairs;
    #kind;
    #index = 0;

    constructor(pairs, kind) {
      this.#pairs = pairs;
      this.#kind = kind;
    }

    next() {
      const pairs = this.#pairs();
      if (this.#index >= pairs.length) return { value: undefined, done: true };
      const [key, value] = pairs[this.#index++];
      return { value: this.#kind === 'keys' ? key : this.#kind === 'values' ? value : [key, value], done: false };
    }
  }
  Object.setPrototypeOf(PairIterator.prototype, IteratorPrototype);
  setToStringTag(PairIterator, tag);
  return internal(PairIterator);
}

// `pairsOf(instance)` is read on every step, so iteration sees later changes as in Node.
function addPairIteration(Class, Iterator, pairsOf) {
  const methods = {
    keys() {
      pairsOf(this);
      return new Iterator(() => pairsOf(this), 'keys');
    },
    values() {
      pairsOf(this);
      return new Iterator(() => pairsOf(this), 'values');
    },
    entries() {
      pairsOf(this);
      return new Iterator(() => pairsOf(this), 'entries');
    },
    forEach(callback, thisArg = undefined) {
      if (typeof callback !== 'function') {
        throw invalidArgType('"callback" argument', 'of type function', callback);
      }
      for (let i = 0, pairs = pairsOf(this); i < pairs.length; i++, pairs = pairsOf(this)) {
        callback.call(thisArg, pairs[i][1], pairs[i][0], this);
      }
    },
  };
  for (const name of ['keys', 'values', 'entries', 'forEach']) {
    Object.defineProperty(Class.prototype, name, { value: methods[name], writable: true, configurable: true, enumerable: true });
  }
  Object.defineProperty(Class.prototype, Symbol.iterator, { value: methods.entries, writable: true, configurable: true });
}

// ---- URLSearchParams ---------------------------------------------------------------------------

function percentDecodeBytes(bytes) {
  const out = new Uint8Array(bytes.length);
  let p = 0;
  const hex = (b) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < bytes.length && hex(bytes[i + 1]) && hex(bytes[i + 2])) {
      out[p++] = parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16);
      i += 2;
    } else {
      out[p++] = b;
    }
  }
  return out.subarray(0, p);
}

function parseUrlencoded(input) {
  const pairs = [];
  for (const sequence of input.split('&')) {
    if (sequence === '') continue;
    const eq = sequence.indexOf('=');
    const name = eq === -1 ? sequence : sequence.slice(0, eq);
    const value = eq === -1 ? '' : sequence.slice(eq + 1);
    const decode = (s) => utf8Decode(percentDecodeBytes(utf8Encode(s.replace(/\+/g, ' '))));
    pairs.push([decode(name), decode(value)]);
  }
  return pairs;
}

// encodeURIComponent leaves !'()~ alone, which application/x-www-form-urlencoded escapes, and
// escapes space, which it writes as '+'. Input is already well formed, so it cannot throw.
const encodeFormComponent = (s) =>
  encodeURIComponent(s).replace(/[!'()~]|%20/g, (c) => (c === '%20' ? '+' : '%' + c.charCodeAt(0).toString(16).toUpperCase()));

const serializeUrlencoded = (pairs) => pairs.map(([k, v]) => `${encodeFormComponent(k)}=${encodeFormComponent(v)}`).join('&');

function isObjectLike(value) {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

function invalidTuple(what, shape) {
  return codedError(TypeError, `${what} must be an iterable ${shape} tuple`, 'ERR_INVALID_TUPLE');
}

let paramsInternals;
let urlInternals;

class URLSearchParams {
  #list = [];
  #url = null;

  static {
    paramsInternals = {
      pairs: (params) => params.#list,
      createLinked(url, query) {
        const params = new URLSearchParams();
        params.#url = url;
        params.#list = parseUrlencoded(query);
        return params;
      },
      reset(params, query) {
        params.#list = parseUrlencoded(query);
      },
    };
  }

  constructor(init = undefined) {
    if (init === undefined || init === null) return;
    if (isObjectLike(init)) {
      const iteratorMethod = init[Symbol.iterator];
      if (iteratorMethod !== undefined && iteratorMethod !== null) {
        if (typeof iteratorMethod !== 'function') {
          throw codedError(TypeError, 'Query pairs must be iterable', 'ERR_ARG_NOT_ITERABLE');
        }
        for (const pair of init) {
          if (!isObjectLike(pair) || typeof pair[Symbol.iterator] !== 'function') {
            throw invalidTuple('Each query pair', '[name, value]');
          }
          const converted = [...pair].map(toUSV);
          if (converted.length !== 2) throw invalidTuple('Each query pair', '[name, value]');
          this.#list.push(converted);
        }
        return;
      }
      // A record: later duplicate keys (equal once made well formed) replace earlier ones.
      const record = new Map();
      for (const key of Reflect.ownKeys(init)) {
        if (Reflect.getOwnPropertyDescriptor(init, key)?.enumerable) record.set(recordKey(key), toUSV(init[key]));
      }
      this.#list = [...record];
      return;
    }
    const query = toUSV(init);
    this.#list = parseUrlencoded(query[0] === '?' ? query.slice(1) : query);
  }

  get size() {
    return this.#list.length;
  }

  append(name, value) {
    requireArgs(arguments.length, 2, ['name', 'value']);
    this.#list.push([toUSV(name), toUSV(value)]);
    this.#update();
  }

  delete(name, value = undefined) {
    requireArgs(arguments.length, 1, ['name']);
    name = toUSV(name);
    if (value === undefined) this.#list = this.#list.filter(([k]) => k !== name);
    else {
      value = toUSV(value);
      this.#list = this.#list.filter(([k, v]) => k !== name || v !== value);
    }
    this.#update();
  }

  get(name) {
    requireArgs(arguments.length, 1, ['name']);
    name = toUSV(name);
    const pair = this.#list.find(([k]) => k === name);
    return pair === undefined ? null : pair[1];
  }

  getAll(name) {
    requireArgs(arguments.length, 1, ['name']);
    name = toUSV(name);
    return this.#list.filter(([k]) => k === name).map(([, v]) => v);
  }

  has(name, value = undefined) {
    requireArgs(arguments.length, 1, ['name']);
    name = toUSV(name);
    if (value === undefined) return this.#list.some(([k]) => k === name);
    value = toUSV(value);
    return this.#list.some(([k, v]) => k === name && v === value);
  }

  set(name, value) {
    requireArgs(arguments.length, 2, ['name', 'value']);
    name = toUSV(name);
    value = toUSV(value);
    const index = this.#list.findIndex(([k]) => k === name);
    if (index === -1) this.#list.push([name, value]);
    else {
      this.#list[index][1] = value;
      this.#list = this.#list.filter(([k], i) => k !== name || i <= index);
    }
    this.#update();
  }

  // Array.prototype.sort is stable and `<` compares UTF-16 code units, as the spec requires.
  sort() {
    this.#list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.#update();
  }

  toString() {
    return serializeUrlencoded(this.#list);
  }

  #update() {
    if (this.#url !== null) urlInternals.setQuery(this.#url, serializeUrlencoded(this.#list));
  }
}
setToStringTag(URLSearchParams, 'URLSearchParams');
addPairIteration(URLSearchParams, definePairIterator('URLSearchParams Iterator'), (params) => paramsInternals.pairs(params));

// ---- URL ---------------------------------------------------------------------------------------

const SPECIAL_SCHEMES = new Set(['ftp:', 'file:', 'http:', 'https:', 'ws:', 'wss:']);

// The C0-control percent-encode set plus what the userinfo set adds; '%' itself stays.
const USERINFO_ESCAPED = new Set(' "#<>?`{}/:;=@[\\]^|');

function percentEncodeUserinfo(value) {
  let out = '';
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (c > 0x1f && c < 0x7f && !USERINFO_ESCAPED.has(ch)) out += ch;
    else for (const b of utf8Encode(ch)) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const stripTabNewline = (value) => value.replace(/[\t\n\r]/g, '');

function invalidUrl(input, base) {
  const error = codedError(TypeError, 'Invalid URL', 'ERR_INVALID_URL');
  error.input = input;
  if (base !== undefined) error.base = base;
  return error;
}

// The host parses; components also carry what its JSON cannot tell: whether the URL has an
// authority (a null host and an empty host both read as ''), and the raw query and fragment
// (an empty '?' or '#' reads as '' through search/hash but stays in href).
function parseComponents(input, base) {
  const json = hostBridge.urlParse(input, base);
  if (json === '') return null;
  const c = JSON.parse(json);
  const hashAt = c.href.indexOf('#');
  const beforeHash = hashAt === -1 ? c.href : c.href.slice(0, hashAt);
  const queryAt = beforeHash.indexOf('?');
  c.authority = c.href.startsWith(c.protocol + '//');
  c.rawHash = hashAt === -1 ? '' : c.href.slice(hashAt);
  c.rawSearch = queryAt === -1 ? '' : beforeHash.slice(queryAt);
  return c;
}

function serializeComponents(c) {
  let out = c.protocol;
  if (c.authority) {
    const userinfo = c.username || c.password ? `${c.username}${c.password ? ':' + c.password : ''}@` : '';
    out += '//' + userinfo + c.host;
  } else if (c.pathname.startsWith('//')) {
    out += '/.'; // keeps a path starting with '//' from reading as an authority
  }
  return out + c.pathname + c.rawSearch + c.rawHash;
}

const hasOpaquePath = (c) => !c.authority && !c.pathname.startsWith('/');
const cannotHaveCredentialsOrPort = (c) => !c.authority || c.hostname === '' || c.protocol === 'file:';

// Index of the first ':' outside an IPv6 literal's brackets, or -1.
function portSeparatorIndex(host) {
  let inBrackets = false;
  for (let i = 0; i < host.length; i++) {
    if (host[i] === '[') inBrackets = true;
    else if (host[i] === ']') inBrackets = false;
    else if (host[i] === ':' && !inBrackets) return i;
  }
  return -1;
}

class URL {
  #c;
  #params = null;

  static {
    urlInternals = {
      setQuery(url, query) {
        url.#replace({ rawSearch: query === '' ? '' : '?' + query }, false);
      },
    };
  }

  constructor(input, base = undefined) {
    requireArgs(arguments.length, 1, ['url']);
    input = toUSV(input);
    if (base !== undefined) base = toUSV(base);
    const c = parseComponents(input, base);
    if (c === null) throw invalidUrl(input, base);
    this.#c = c;
  }

  static canParse(input, base = undefined) {
    requireArgs(arguments.length, 1, ['url']);
    return parseComponents(toUSV(input), base === undefined ? undefined : toUSV(base)) !== null;
  }

  toString() {
    return this.#c.href;
  }

  // Setters rebuild the href from components and let the host parser normalise and encode it,
  // which matches the spec's state-override parsing for everything the setters allow through.
  #replace(changes, resetParams = true) {
    const next = parseComponents(serializeComponents({ ...this.#c, ...changes }), undefined);
    if (next === null) return;
    this.#c = next;
    if (resetParams && this.#params !== null) paramsInternals.reset(this.#params, next.search.slice(1));
  }

  get href() {
    return this.#c.href;
  }

  set href(value) {
    value = toUSV(value);
    const c = parseComponents(value, undefined);
    if (c === null) throw invalidUrl(value);
    this.#c = c;
    if (this.#params !== null) paramsInternals.reset(this.#params, c.search.slice(1));
  }

  get origin() {
    return this.#c.origin;
  }

  get protocol() {
    return this.#c.protocol;
  }

  set protocol(value) {
    const match = /^([A-Za-z][A-Za-z0-9+\-.]*)(?::|$)/.exec(stripTabNewline(toUSV(value)));
    if (match === null) return;
    const scheme = match[1].toLowerCase() + ':';
    const c = this.#c;
    if (SPECIAL_SCHEMES.has(c.protocol) !== SPECIAL_SCHEMES.has(scheme)) return;
    if (scheme === 'file:' && (c.username || c.password || c.port)) return;
    if (c.protocol === 'file:' && c.hostname === '') return;
    this.#replace({ protocol: scheme });
  }

  get username() {
    return this.#c.username;
  }

  set username(value) {
    if (cannotHaveCredentialsOrPort(this.#c)) return;
    this.#replace({ username: percentEncodeUserinfo(toUSV(value)) });
  }

  get password() {
    return this.#c.password;
  }

  set password(value) {
    if (cannotHaveCredentialsOrPort(this.#c)) return;
    this.#replace({ password: percentEncodeUserinfo(toUSV(value)) });
  }

  get host() {
    return this.#c.host;
  }

  set host(value) {
    const c = this.#c;
    if (hasOpaquePath(c)) return;
    const input = this.#hostInput(value);
    const colon = portSeparatorIndex(input);
    const hostname = colon === -1 ? input : input.slice(0, colon);
    if (hostname === '' && (colon !== -1 || SPECIAL_SCHEMES.has(c.protocol))) return;
    // Without digits after ':' the spec keeps the current port, and stops at the first non-digit.
    // The host is set before the port is parsed, so an out-of-range port still changes the host.
    const digits = colon === -1 ? '' : /^\d*/.exec(input.slice(colon + 1))[0];
    const port = digits !== '' && Number(digits) <= 65535 ? digits : c.port;
    this.#replace({ authority: true, host: hostname + (port ? ':' + port : '') });
  }

  get hostname() {
    return this.#c.hostname;
  }

  set hostname(value) {
    const c = this.#c;
    if (hasOpaquePath(c)) return;
    const input = this.#hostInput(value);
    if (portSeparatorIndex(input) !== -1) return;
    if (input === '' && SPECIAL_SCHEMES.has(c.protocol)) return;
    this.#replace({ authority: true, host: input + (c.port ? ':' + c.port : '') });
  }

  #hostInput(value) {
    const special = SPECIAL_SCHEMES.has(this.#c.protocol);
    const input = stripTabNewline(toUSV(value));
    const end = input.search(special ? /[/?#\\]/ : /[/?#]/);
    return end === -1 ? input : input.slice(0, end);
  }

  get port() {
    return this.#c.port;
  }

  set port(value) {
    const c = this.#c;
    if (cannotHaveCredentialsOrPort(c)) return;
    const input = stripTabNewline(toUSV(value));
    if (input === '') {
      this.#replace({ host: c.hostname });
      return;
    }
    const digits = /^\d*/.exec(input)[0];
    if (digits === '' || Number(digits) > 65535) return;
    this.#replace({ host: c.hostname + ':' + digits });
  }

  get pathname() {
    return this.#c.pathname;
  }

  set pathname(value) {
    const c = this.#c;
    if (hasOpaquePath(c)) return;
    // With a state override, '?' and '#' belong to the path rather than ending it.
    let path = toUSV(value).replace(/\?/g, '%3F').replace(/#/g, '%23');
    if (SPECIAL_SCHEMES.has(c.protocol)) {
      if (path[0] !== '/' && path[0] !== '\\') path = '/' + path;
    } else if (path === '') {
      path = c.authority ? '' : '/';
    } else if (path[0] !== '/') {
      path = '/' + path;
    }
    this.#replace({ pathname: path });
  }

  get search() {
    return this.#c.search;
  }

  set search(value) {
    const input = toUSV(value);
    if (input === '') {
      this.#replace({ rawSearch: '' });
      return;
    }
    // With a state override, '#' belongs to the query rather than starting the fragment.
    const query = input[0] === '?' ? input.slice(1) : input;
    this.#replace({ rawSearch: '?' + query.replace(/#/g, '%23') });
  }

  get searchParams() {
    this.#params ??= paramsInternals.createLinked(this, this.#c.search.slice(1));
    return this.#params;
  }

  get hash() {
    return this.#c.hash;
  }

  set hash(value) {
    let fragment = toUSV(value);
    if (fragment === '') {
      this.#replace({ rawHash: '' });
      return;
    }
    if (fragment[0] === '#') fragment = fragment.slice(1);
    this.#replace({ rawHash: '#' + fragment });
  }

  toJSON() {
    return this.#c.href;
  }
}
setToStringTag(URL, 'URL');
// WebIDL members are enumerable, so for-in over a URL lists them as in Node.
for (const name of ['toString', 'href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'searchParams', 'hash', 'toJSON']) {
  Object.defineProperty(URL.prototype, name, { enumerable: true });
}

// ---- Headers -----------------------------------------------------------------------------------

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HTTP_WHITESPACE_EDGES = /^[\t\n\r ]+|[\t\n\r ]+$/g;

function toByteString(value) {
  const str = String(value);
  for (let i = 0; i < str.length; i++) {
    const code = str.charCodeAt(i);
    if (code > 255) {
      throw new TypeError(
        `Cannot convert argument to a ByteString because the character at index ${i} has a value of ${code} which is greater than 255.`,
      );
    }
  }
  return str;
}

let headersInternals;

class Headers {
  // Lower-cased name -> combined value; set-cookie values are kept apart because they cannot be
  // combined, as in undici.
  #values = new Map();
  #cookies = [];
  #immutable = false;
  #sorted = null;

  static {
    headersInternals = {
      freeze(headers) {
        headers.#immutable = true;
      },
      isFrozen: (headers) => headers.#immutable,
      appendTrusted(headers, name, value) {
        headers.#appendValue(name.toLowerCase(), value);
      },
      sorted: (headers) => headers.#sortedPairs(),
    };
  }

  constructor(init = undefined) {
    if (init === undefined) return;
    if (!isObjectLike(init)) {
      throw new TypeError(
        'Headers constructor: Argument 1 could not be converted to one of: sequence<sequence<ByteString>>, record<ByteString, ByteString>.',
      );
    }
    fillHeaders(this, init, 'Headers constructor');
  }

  append(name, value) {
    requireWebidlArgs(arguments.length, 2, 'Headers.append');
    const [lower, normalized] = validateHeader(name, value, 'Headers.append');
    this.#checkMutable();
    this.#appendValue(lower, normalized);
  }

  delete(name) {
    requireWebidlArgs(arguments.length, 1, 'Headers.delete');
    const lower = validateHeaderName(name, 'Headers.delete');
    this.#checkMutable();
    if (lower === 'set-cookie') this.#cookies = [];
    this.#values.delete(lower);
    this.#sorted = null;
  }

  get(name) {
    requireWebidlArgs(arguments.length, 1, 'Headers.get');
    const lower = validateHeaderName(name, 'Headers.get');
    return this.#values.get(lower) ?? null;
  }

  has(name) {
    requireWebidlArgs(arguments.length, 1, 'Headers.has');
    return this.#values.has(validateHeaderName(name, 'Headers.has'));
  }

  set(name, value) {
    requireWebidlArgs(arguments.length, 2, 'Headers.set');
    const [lower, normalized] = validateHeader(name, value, 'Headers.set');
    this.#checkMutable();
    if (lower === 'set-cookie') this.#cookies = [normalized];
    this.#values.set(lower, normalized);
    this.#sorted = null;
  }

  getSetCookie() {
    return [...this.#cookies];
  }

  #checkMutable() {
    if (this.#immutable) throw new TypeError('immutable');
  }

  #appendValue(lower, value) {
    const existing = this.#values.get(lower);
    this.#values.set(lower, existing === undefined ? value : `${existing}, ${value}`);
    if (lower === 'set-cookie') this.#cookies.push(value);
    this.#sorted = null;
  }

  #sortedPairs() {
    if (this.#sorted === null) {
      const names = [...this.#values.keys()].sort();
      const pairs = [];
      for (const name of names) {
        if (name === 'set-cookie') for (const cookie of this.#cookies) pairs.push([name, cookie]);
        else pairs.push([name, this.#values.get(name)]);
      }
      this.#sorted = pairs;
    }
    return this.#sorted;
  }
}
setToStringTag(Headers, 'Headers');
addPairIteration(Headers, definePairIterator('Headers Iterator'), (headers) => headersInternals.sorted(headers));

function validateHeaderName(name, context) {
  const str = toByteString(name);
  if (!TOKEN.test(str)) throw new TypeError(`${context}: "${str}" is an invalid header name.`);
  return str.toLowerCase();
}

function validateHeader(name, value, context) {
  const lower = validateHeaderName(name, context);
  const normalized = toByteString(value).replace(HTTP_WHITESPACE_EDGES, '');
  if (/[\0\r\n]/.test(normalized)) throw new TypeError(`${context}: "${normalized}" is an invalid header value.`);
  return [lower, normalized];
}

function fillHeaders(headers, init, context) {
  const iteratorMethod = init[Symbol.iterator];
  if (iteratorMethod !== undefined && iteratorMethod !== null) {
    if (typeof iteratorMethod !== 'function') throw new TypeError(`${context}: Argument 1 is not iterable.`);
    for (const pair of init) {
      if (!isObjectLike(pair) || typeof pair[Symbol.iterator] !== 'function') {
        throw new TypeError(`${context}: Sequence<sequence<ByteString>> expected an iterable.`);
      }
      const entry = [...pair];
      if (entry.length !== 2) throw new TypeError('Headers constructor: expected name/value pair to be length 2, found ' + entry.length + '.');
      headers.append(entry[0], entry[1]);
    }
    return;
  }
  for (const key of Reflect.ownKeys(init)) {
    if (Reflect.getOwnPropertyDescriptor(init, key)?.enumerable) headers.append(recordKey(key), init[key]);
  }
}

function immutableHeaders(pairs) {
  const headers = new Headers();
  for (const [name, value] of pairs) headersInternals.appendTrusted(headers, String(name), String(value));
  headersInternals.freeze(headers);
  return headers;
}

// ---- Blob / File -------------------------------------------------------------------------------

let blobBytes;

function normalizeBlobType(type) {
  const str = String(type);
  return /^[\x20-\x7e]*$/.test(str) ? str.toLowerCase() : '';
}

class Blob {
  #bytes;
  #type;

  static {
    blobBytes = (blob) => blob.#bytes;
  }

  constructor(blobParts = [], options = {}) {
    if (!isObjectLike(blobParts) || typeof blobParts[Symbol.iterator] !== 'function') {
      throw invalidArgType('"sources" argument', 'a sequence', blobParts);
    }
    if (options !== undefined && options !== null && !isObjectLike(options)) {
      throw invalidArgType('"options" argument', 'of type object', options);
    }
    const endings = options?.endings === undefined ? 'transparent' : String(options.endings);
    if (endings !== 'transparent' && endings !== 'native') {
      throw codedError(TypeError, `The property 'options.endings' is invalid. Received '${endings}'`, 'ERR_INVALID_ARG_VALUE');
    }
    const chunks = [];
    for (const part of blobParts) {
      if (isBufferSource(part)) chunks.push(bytesOf(part).slice());
      else if (part instanceof Blob) chunks.push(part.#bytes);
      else chunks.push(utf8Encode(endings === 'native' ? String(part).replace(/\r\n/g, '\n') : String(part)));
    }
    this.#bytes = concatBytes(chunks);
    this.#type = options?.type === undefined ? '' : normalizeBlobType(options.type);
  }

  get size() {
    return this.#bytes.byteLength;
  }

  get type() {
    return this.#type;
  }

  slice(start = 0, end = this.size, contentType = '') {
    const size = this.size;
    const clamp = (n) => {
      n = Math.trunc(Number(n)) || 0;
      return n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
    };
    const from = clamp(start);
    const to = clamp(end);
    const blob = new Blob([], { type: contentType === undefined ? '' : contentType });
    blob.#bytes = this.#bytes.slice(from, Math.max(from, to));
    return blob;
  }

  async text() {
    return utf8DecodeWithBom(this.#bytes);
  }

  async arrayBuffer() {
    return this.#bytes.slice().buffer;
  }

  stream() {
    return streamFromBytes(this.#bytes);
  }
}
setToStringTag(Blob, 'Blob');

class File extends Blob {
  #name;
  #lastModified;

  constructor(fileBits, fileName, options = {}) {
    requireArgs(arguments.length, 2, ['fileBits', 'fileName']);
    super(fileBits, options);
    this.#name = toUSV(fileName);
    this.#lastModified = options?.lastModified === undefined ? Date.now() : Number(options.lastModified) || 0;
  }

  get name() {
    return this.#name;
  }

  get lastModified() {
    return this.#lastModified;
  }
}
setToStringTag(File, 'File');

// ---- FormData ----------------------------------------------------------------------------------

let formDataPairs;

function toFormEntry(name, value, filename, argumentCount, context) {
  name = toUSV(name);
  if (value instanceof Blob) {
    if (!(value instanceof File)) {
      return [name, new File([value], filename === undefined ? 'blob' : toUSV(filename), { type: value.type })];
    }
    if (filename !== undefined) {
      return [name, new File([value], toUSV(filename), { type: value.type, lastModified: value.lastModified })];
    }
    return [name, value];
  }
  if (argumentCount > 2) {
    throw new TypeError(`Failed to execute '${context}' on 'FormData': parameter 2 is not of type 'Blob'`);
  }
  return [name, toUSV(value)];
}

class FormData {
  #entries = [];

  static {
    formDataPairs = (formData) => formData.#entries;
  }

  constructor(form = undefined) {
    if (form !== undefined) {
      throw new TypeError('FormData constructor: Argument 1 could not be converted to: undefined.');
    }
  }

  append(name, value, filename = undefined) {
    requireWebidlArgs(arguments.length, 2, 'FormData.append');
    this.#entries.push(toFormEntry(name, value, filename, arguments.length, 'append'));
  }

  delete(name) {
    requireWebidlArgs(arguments.length, 1, 'FormData.delete');
    name = toUSV(name);
    this.#entries = this.#entries.filter(([k]) => k !== name);
  }

  get(name) {
    requireWebidlArgs(arguments.length, 1, 'FormData.get');
    name = toUSV(name);
    return this.#entries.find(([k]) => k === name)?.[1] ?? null;
  }

  getAll(name) {
    requireWebidlArgs(arguments.length, 1, 'FormData.getAll');
    name = toUSV(name);
    return this.#entries.filter(([k]) => k === name).map(([, v]) => v);
  }

  has(name) {
    requireWebidlArgs(arguments.length, 1, 'FormData.has');
    name = toUSV(name);
    return this.#entries.some(([k]) => k === name);
  }

  set(name, value, filename = undefined) {
    requireWebidlArgs(arguments.length, 2, 'FormData.set');
    const entry = toFormEntry(name, value, filename, arguments.length, 'set');
    const index = this.#entries.findIndex(([k]) => k === entry[0]);
    if (index === -1) this.#entries.push(entry);
    else {
      this.#entries[index] = entry;
      this.#entries = this.#entries.filter(([k], i) => k !== entry[0] || i <= index);
    }
  }
}
setToStringTag(FormData, 'FormData');
addPairIteration(FormData, definePairIterator('FormData Iterator'), (formData) => formDataPairs(formData));

// multipart/form-data as undici writes it.
function encodeMultipart(formData) {
  const boundary = `----formdata-undici-0${String(Math.floor(Math.random() * 1e11)).padStart(11, '0')}`;
  const escape = (s) => s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
  const normalizeLinefeeds = (s) => s.replace(/\r?\n|\r/g, '\r\n');
  const chunks = [];
  for (const [name, value] of formDataPairs(formData)) {
    if (typeof value === 'string') {
      chunks.push(
        utf8Encode(
          `--${boundary}\r\nContent-Disposition: form-data; name="${escape(normalizeLinefeeds(name))}"` +
            `\r\n\r\n${normalizeLinefeeds(value)}\r\n`,
        ),
      );
    } else {
      chunks.push(
        utf8Encode(
          `--${boundary}\r\nContent-Disposition: form-data; name="${escape(normalizeLinefeeds(name))}"` +
            `; filename="${escape(value.name)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`,
        ),
        blobBytes(value),
        utf8Encode('\r\n'),
      );
    }
  }
  chunks.push(utf8Encode(`--${boundary}--\r\n`));
  return { bytes: concatBytes(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

const latin1Decode = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

function parseMultipart(bytes, boundary) {
  // Latin-1 maps bytes 1:1 onto code units, so string offsets are byte offsets.
  const text = latin1Decode(bytes);
  const delimiter = '--' + boundary;
  const formData = new FormData();
  const fromLatin1 = (s) => utf8Decode(Buffer.from(s, 'latin1'));
  let position = text.indexOf(delimiter);
  if (position === -1) throw new TypeError('Failed to parse body as FormData.');
  for (;;) {
    position += delimiter.length;
    if (text.startsWith('--', position)) return formData;
    if (!text.startsWith('\r\n', position)) throw new TypeError('Failed to parse body as FormData.');
    const headersEnd = text.indexOf('\r\n\r\n', position);
    const next = text.indexOf('\r\n' + delimiter, headersEnd);
    if (headersEnd === -1 || next === -1) throw new TypeError('Failed to parse body as FormData.');
    let name = null;
    let filename = null;
    let type = '';
    for (const line of text.slice(position + 2, headersEnd).split('\r\n')) {
      const colon = line.indexOf(':');
      const headerName = line.slice(0, colon).trim().toLowerCase();
      const headerValue = line.slice(colon + 1).trim();
      if (headerName === 'content-disposition') {
        name = /(?:^|;)\s*name="([^"]*)"/i.exec(headerValue)?.[1] ?? null;
        filename = /(?:^|;)\s*filename="([^"]*)"/i.exec(headerValue)?.[1] ?? null;
      } else if (headerName === 'content-type') {
        type = headerValue;
      }
    }
    if (name === null) throw new TypeError('Failed to parse body as FormData.');
    const unescape = (value) => value.replace(/%0A/gi, '\n').replace(/%0D/gi, '\r').replace(/%22/g, '"');
    name = unescape(name);
    if (filename !== null) filename = unescape(filename);
    const content = bytes.subarray(headersEnd + 4, next);
    if (filename === null) formData.append(fromLatin1(name), utf8Decode(content));
    else formData.append(fromLatin1(name), new File([content], fromLatin1(filename), { type }));
    position = next + 2;
  }
}

// ---- Body mixin (Request, Response) ------------------------------------------------------------

// A body holds bytes until someone asks for `.body`; only then is a stream made, and from then on
// the stream is the source of truth.
class BodyState {
  constructor(bytes, stream) {
    this.bytes = bytes;
    this.stream = stream;
    this.used = false;
  }

  get disturbed() {
    return this.used || (this.stream !== null && streamInternals.isDisturbed(this.stream));
  }

  get unusable() {
    return this.disturbed || (this.stream !== null && this.stream.locked);
  }

  get readable() {
    if (this.stream === null) {
      this.stream = streamFromBytes(this.used ? new Uint8Array(0) : this.bytes);
      // A body consumed without its stream must look like undici's: read through, left locked.
      if (this.used) this.stream.getReader().read();
    }
    return this.stream;
  }

  clone() {
    if (this.stream === null) return new BodyState(this.bytes, null);
    const [mine, theirs] = this.stream.tee();
    this.stream = mine;
    return new BodyState(null, theirs);
  }
}

// Returns { bytes, stream, type } for a non-null body init, as the Fetch spec's "extract a body".
function extractBody(init) {
  if (typeof init === 'string') return { bytes: utf8Encode(init), stream: null, type: 'text/plain;charset=UTF-8' };
  if (init instanceof URLSearchParams) {
    return { bytes: utf8Encode(init.toString()), stream: null, type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  if (init instanceof FormData) return { ...encodeMultipart(init), stream: null };
  if (init instanceof Blob) return { bytes: blobBytes(init), stream: null, type: init.type || null };
  if (isBufferSource(init)) return { bytes: bytesOf(init).slice(), stream: null, type: null };
  if (streamInternals.isStream(init)) {
    if (streamInternals.isDisturbed(init) || init.locked) {
      throw new TypeError('Response body object should not be disturbed or locked');
    }
    return { bytes: null, stream: init, type: null };
  }
  return { bytes: utf8Encode(toUSV(init)), stream: null, type: 'text/plain;charset=UTF-8' };
}

const bodies = new WeakMap();

function bodyStateOf(owner) {
  if (!bodies.has(owner)) throw codedError(TypeError, 'Illegal invocation', 'ERR_INVALID_THIS');
  return bodies.get(owner);
}

async function consumeBody(owner) {
  const state = bodyStateOf(owner);
  if (state === null) return new Uint8Array(0);
  if (state.unusable) throw new TypeError('Body is unusable: Body has already been read');
  if (state.stream === null) {
    state.used = true;
    return state.bytes;
  }
  return readAllBytes(state.stream);
}

// Parses and re-serialises a MIME type as the Fetch spec does for Body.blob(); '' when invalid.
function serializeMimeType(input) {
  const [essence, ...rest] = input.split(';');
  const type = essence.replace(HTTP_WHITESPACE_EDGES, '').toLowerCase();
  if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+\/[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(type)) return '';
  const parameters = new Map();
  for (let i = 0; i < rest.length; i++) {
    const segment = rest[i].replace(/^[\t\n\r ]+/, '');
    const eq = segment.indexOf('=');
    if (eq === -1) continue;
    const name = segment.slice(0, eq).toLowerCase();
    let value = segment.slice(eq + 1);
    if (value[0] === '"') {
      // A quoted value may contain ';', which split() cut apart.
      let raw = value;
      while (!/^"(?:[^"\\]|\\.)*"/.test(raw) && i + 1 < rest.length) raw += ';' + rest[++i];
      value = /^"((?:[^"\\]|\\.)*)"?/.exec(raw)[1].replace(/\\(.)/g, '$1');
    } else {
      value = value.replace(/[\t\n\r ]+$/, '');
      if (value === '') continue;
    }
    if (TOKEN.test(name) && /^[\t\x20-\x7e\x80-\xff]*$/.test(value) && !parameters.has(name)) parameters.set(name, value);
  }
  let out = type;
  for (const [name, value] of parameters) {
    out += `;${name}=${value !== '' && TOKEN.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`}`;
  }
  return out;
}

function mimeEssence(headers) {
  const type = headers.get('content-type');
  return type === null ? '' : type.split(';')[0].trim().toLowerCase();
}

const bodyMethods = {
  get body() {
    const state = bodyStateOf(this);
    return state === null ? null : state.readable;
  },
  get bodyUsed() {
    const state = bodyStateOf(this);
    return state !== null && state.disturbed;
  },
  async arrayBuffer() {
    return (await consumeBody(this)).slice().buffer;
  },
  async blob() {
    const bytes = await consumeBody(this);
    return new Blob([bytes], { type: serializeMimeType(this.headers.get('content-type') ?? '') });
  },
  async formData() {
    const bytes = await consumeBody(this);
    const essence = mimeEssence(this.headers);
    if (essence === 'multipart/form-data') {
      const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(this.headers.get('content-type'));
      if (match === null) throw new TypeError('Failed to parse body as FormData.');
      return parseMultipart(bytes, match[1] ?? match[2]);
    }
    if (essence === 'application/x-www-form-urlencoded') {
      const formData = new FormData();
      for (const [name, value] of parseUrlencoded(utf8DecodeWithBom(bytes))) formData.append(name, value);
      return formData;
    }
    throw new TypeError('Content-Type was not one of "multipart/form-data" or "application/x-www-form-urlencoded".');
  },
  async json() {
    return JSON.parse(utf8DecodeWithBom(await consumeBody(this)));
  },
  async text() {
    return utf8DecodeWithBom(await consumeBody(this));
  },
};

function mixinBody(Class) {
  for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(bodyMethods))) {
    Object.defineProperty(Class.prototype, name, { ...descriptor, enumerable: true });
  }
}

// ---- Request -----------------------------------------------------------------------------------

const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

function enumOption(value, allowed, context) {
  const str = String(value);
  if (!allowed.includes(str)) throw new TypeError(`${context}: ${str} is not an accepted type. Expected one of ${allowed.join(', ')}.`);
  return str;
}

class Request {
  #method = 'GET';
  #url;
  #headers;
  #signal;
  #redirect = 'follow';
  #mode = 'cors';
  #credentials = 'same-origin';
  #cache = 'default';
  #referrer = 'about:client';
  #referrerPolicy = '';
  #integrity = '';
  #keepalive = false;

  // `new Request(CONSTRUCT_INTERNALLY, source)` copies everything but the body, for clone().
  constructor(input, init = {}) {
    if (input === CONSTRUCT_INTERNALLY) {
      this.#copyFrom(init);
      return;
    }
    requireWebidlArgs(arguments.length, 1, 'Request constructor');
    if (init === null || init === undefined) init = {};
    const context = 'Request constructor';
    let inputBody = null;
    let inputSignal = null;
    if (input instanceof Request) {
      inputBody = bodyStateOf(input);
      if (inputBody !== null && inputBody.unusable && (init.body ?? null) === null) {
        throw new TypeError('Cannot construct a Request with a Request object that has already been used.');
      }
      this.#copySettings(input);
      inputSignal = input.#signal;
    } else {
      let parsed;
      try {
        parsed = new URL(String(input));
      } catch (cause) {
        throw Object.assign(new TypeError(`Failed to parse URL from ${String(input)}`), { cause });
      }
      if (parsed.username || parsed.password) {
        throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${String(input)}`);
      }
      this.#url = parsed.href;
    }

    if (init.method !== undefined) {
      const method = toByteString(init.method);
      if (!TOKEN.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
      const upper = method.toUpperCase();
      if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`'${method}' HTTP method is unsupported.`);
      this.#method = NORMALIZED_METHODS.has(upper) ? upper : method;
    }
    if (init.redirect !== undefined) this.#redirect = enumOption(init.redirect, ['follow', 'manual', 'error'], context);
    if (init.mode !== undefined) {
      const mode = enumOption(init.mode, ['same-origin', 'no-cors', 'cors', 'navigate', 'websocket'], context);
      if (mode === 'navigate') throw new TypeError('Request constructor: invalid request mode navigate.');
      this.#mode = mode;
    }
    if (init.credentials !== undefined) this.#credentials = enumOption(init.credentials, ['omit', 'same-origin', 'include'], context);
    if (init.cache !== undefined) {
      this.#cache = enumOption(init.cache, ['default', 'no-store', 'reload', 'no-cache', 'force-cache', 'only-if-cached'], context);
    }
    if (init.referrerPolicy !== undefined) {
      this.#referrerPolicy = enumOption(
        init.referrerPolicy,
        ['', 'no-referrer', 'no-referrer-when-downgrade', 'same-origin', 'origin', 'strict-origin', 'origin-when-cross-origin', 'strict-origin-when-cross-origin', 'unsafe-url'],
        context,
      );
    }
    if (init.referrer !== undefined) {
      const referrer = String(init.referrer);
      if (referrer === '') this.#referrer = '';
      else {
        let parsed;
        try {
          parsed = new URL(referrer);
        } catch (cause) {
          throw Object.assign(new TypeError(`Referrer "${referrer}" is not a valid URL.`), { cause });
        }
        this.#referrer = parsed.protocol === 'about:' && parsed.pathname === 'client' ? 'about:client' : parsed.href;
      }
    }
    if (init.integrity !== undefined) this.#integrity = String(init.integrity);
    if (init.keepalive !== undefined) this.#keepalive = Boolean(init.keepalive);

    if (init.signal !== undefined && init.signal !== null) {
      if (!(init.signal instanceof AbortSignal)) {
        throw new TypeError("Failed to construct 'Request': member signal is not of type AbortSignal.");
      }
      inputSignal = init.signal;
    }
    // A request's signal follows the given one but is its own object, as in the spec.
    this.#signal = inputSignal === null ? new AbortController().signal : AbortSignal.any([inputSignal]);

    this.#headers = new Headers(init.headers !== undefined ? init.headers : input instanceof Request ? input.#headers : undefined);

    const initBody = init.body ?? null;
    if ((initBody !== null || inputBody !== null) && (this.#method === 'GET' || this.#method === 'HEAD')) {
      throw new TypeError('Request with GET/HEAD method cannot have body.');
    }
    let body = null;
    if (initBody !== null) {
      const extracted = extractBody(initBody);
      if (extracted.stream !== null && init.duplex !== 'half') {
        throw new TypeError('RequestInit: duplex option is required when sending a body.');
      }
      if (extracted.type !== null && !this.#headers.has('content-type')) this.#headers.append('content-type', extracted.type);
      body = new BodyState(extracted.bytes, extracted.stream);
    } else if (inputBody !== null) {
      // The new request takes over the input's body, which leaves the input disturbed.
      body = new BodyState(inputBody.bytes, inputBody.stream);
      inputBody.used = true;
    }
    bodies.set(this, body);
  }

  #copySettings(source) {
    this.#url = source.#url;
    this.#method = source.#method;
    this.#redirect = source.#redirect;
    this.#mode = source.#mode;
    this.#credentials = source.#credentials;
    this.#cache = source.#cache;
    this.#referrer = source.#referrer;
    this.#referrerPolicy = source.#referrerPolicy;
    this.#integrity = source.#integrity;
    this.#keepalive = source.#keepalive;
  }

  #copyFrom(source) {
    this.#copySettings(source);
    this.#signal = AbortSignal.any([source.#signal]);
    this.#headers = new Headers(source.#headers);
  }

  get method() {
    return this.#method;
  }

  get url() {
    return this.#url;
  }

  get headers() {
    return this.#headers;
  }

  get destination() {
    return '';
  }

  get referrer() {
    return this.#referrer;
  }

  get referrerPolicy() {
    return this.#referrerPolicy;
  }

  get mode() {
    return this.#mode;
  }

  get credentials() {
    return this.#credentials;
  }

  get cache() {
    return this.#cache;
  }

  get redirect() {
    return this.#redirect;
  }

  get integrity() {
    return this.#integrity;
  }

  get keepalive() {
    return this.#keepalive;
  }

  get isReloadNavigation() {
    return false;
  }

  get isHistoryNavigation() {
    return false;
  }

  get signal() {
    return this.#signal;
  }

  get duplex() {
    return 'half';
  }

  clone() {
    const state = bodyStateOf(this);
    if (state !== null && state.unusable) throw new TypeError('unusable');
    const copy = new Request(CONSTRUCT_INTERNALLY, this);
    bodies.set(copy, state === null ? null : state.clone());
    return copy;
  }
}
setToStringTag(Request, 'Request');
mixinBody(Request);

// ---- Response ----------------------------------------------------------------------------------

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;
let responseInternals;

class Response {
  #status = 200;
  #statusText = '';
  #headers;
  #type = 'default';
  #url = '';
  #redirected = false;

  static {
    responseInternals = { create: (fields) => new Response(CONSTRUCT_INTERNALLY, fields) };
  }

  // `new Response(CONSTRUCT_INTERNALLY, fields)` builds responses the constructor cannot express:
  // network errors, redirects, fetched responses and clones.
  constructor(body = null, init = {}) {
    if (body === CONSTRUCT_INTERNALLY) {
      const { status, statusText = '', headers, body: state, type, url = '', redirected = false } = init;
      this.#status = status;
      this.#statusText = statusText;
      this.#headers = headers;
      this.#type = type;
      this.#url = url;
      this.#redirected = redirected;
      bodies.set(this, state);
      return;
    }
    if (init === null || init === undefined) init = {};
    if (!isObjectLike(init)) throw new TypeError("Response constructor: Expected init to be a dictionary.");
    const status = init.status === undefined ? 200 : Number(init.status);
    if (!(status >= 200 && status <= 599)) {
      throw new RangeError('init["status"] must be in the range of 200 to 599, inclusive.');
    }
    const statusText = init.statusText === undefined ? '' : toByteString(init.statusText);
    if (!REASON_PHRASE.test(statusText)) throw new TypeError('Invalid statusText');
    this.#status = Math.trunc(status);
    this.#statusText = statusText;
    this.#headers = new Headers(init.headers);
    let state = null;
    if (body !== null && body !== undefined) {
      if (NULL_BODY_STATUSES.has(this.#status)) {
        throw new TypeError(`Response constructor: Invalid response status code ${this.#status}`);
      }
      const extracted = extractBody(body);
      if (extracted.type !== null && !this.#headers.has('content-type')) this.#headers.append('content-type', extracted.type);
      state = new BodyState(extracted.bytes, extracted.stream);
    }
    bodies.set(this, state);
  }

  static error() {
    return responseInternals.create({ status: 0, headers: immutableHeaders([]), body: null, type: 'error' });
  }

  static redirect(url, status = 302) {
    requireWebidlArgs(arguments.length, 1, 'Response.redirect');
    let parsed;
    try {
      parsed = new URL(String(url));
    } catch (cause) {
      throw Object.assign(new TypeError(`Failed to parse URL from ${String(url)}`), { cause });
    }
    status = Number(status);
    if (!REDIRECT_STATUSES.has(status)) throw new RangeError(`Invalid status code ${status}`);
    return responseInternals.create({ status, headers: immutableHeaders([['location', parsed.href]]), body: null, type: 'default' });
  }

  static json(data, init = {}) {
    requireWebidlArgs(arguments.length, 1, 'Response.json');
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('Value is not JSON serializable');
    const headers = new Headers(init?.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return new Response(text, { ...init, headers });
  }

  get type() {
    return this.#type;
  }

  get url() {
    return this.#url;
  }

  get redirected() {
    return this.#redirected;
  }

  get status() {
    return this.#status;
  }

  get ok() {
    return this.#status >= 200 && this.#status <= 299;
  }

  get statusText() {
    return this.#statusText;
  }

  get headers() {
    return this.#headers;
  }

  clone() {
    const state = bodyStateOf(this);
    if (state !== null && state.unusable) throw new TypeError('Response.clone: Body has already been consumed.');
    const headers = new Headers(this.#headers);
    if (headersInternals.isFrozen(this.#headers)) headersInternals.freeze(headers);
    return responseInternals.create({
      status: this.#status,
      statusText: this.#statusText,
      headers,
      body: state === null ? null : state.clone(),
      type: this.#type,
      url: this.#url,
      redirected: this.#redirected,
    });
  }
}
setToStringTag(Response, 'Response');
mixinBody(Response);

// ---- fetch plumbing ----------------------------------------------------------------------------

// Everything fetch() sends to the host. Rejects like fetch would: validation errors from the
// Request constructor, then the signal's reason if it is already aborted.
async function requestToWire(input, init = undefined) {
  const request = new Request(input, init);
  request.signal.throwIfAborted();
  const state = bodyStateOf(request);
  const body = state === null ? null : (await consumeBody(request)).slice();
  return {
    method: request.method,
    url: request.url,
    headers: headersInternals.sorted(request.headers).map(([name, value]) => [name, value]),
    body,
    redirect: request.redirect,
    signal: request.signal,
  };
}

function responseFromWire({ status, statusText = '', headers = [], body = null, url = '', redirected = false }) {
  const bytes = body === null || body === undefined ? new Uint8Array(0) : bytesOf(body);
  return responseInternals.create({
    status,
    statusText,
    headers: immutableHeaders(headers),
    body: NULL_BODY_STATUSES.has(status) ? null : new BodyState(bytes, null),
    type: 'basic',
    url,
    redirected: Boolean(redirected),
  });
}

// ---- structuredClone ---------------------------------------------------------------------------

const ERROR_CONSTRUCTORS = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
const UNCLONEABLE_TAGS = new Set(['Promise', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry', 'Generator', 'AsyncGenerator']);
const TYPED_ARRAYS = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};

function brand(method, value) {
  try {
    method.call(value);
    return true;
  } catch {
    return false;
  }
}

function dataCloneError(value) {
  let description;
  try {
    description = typeof value === 'function' ? Function.prototype.toString.call(value) : typeof value === 'symbol' ? value.toString() : `#<${objectToString.call(value).slice(8, -1)}>`;
  } catch {
    description = 'Value';
  }
  return new DOMException(`${description} could not be cloned.`, 'DataCloneError');
}

function structuredClone(value, options = undefined) {
  requireArgs(arguments.length, 1, ['value']);
  if (options !== undefined && options !== null && !isObjectLike(options)) {
    throw invalidArgType('"options" argument', 'of type object', options);
  }
  const memory = new Map();
  const clone = (input) => {
    if (typeof input === 'symbol' || typeof input === 'function') throw dataCloneError(input);
    if (input === null || typeof input !== 'object') return input;
    if (memory.has(input)) return memory.get(input);
    const remember = (output) => {
      memory.set(input, output);
      return output;
    };
    if (brand(Boolean.prototype.valueOf, input)) return remember(Object(Boolean.prototype.valueOf.call(input)));
    if (brand(Number.prototype.valueOf, input)) return remember(Object(Number.prototype.valueOf.call(input)));
    if (brand(String.prototype.valueOf, input)) return remember(Object(String.prototype.valueOf.call(input)));
    if (brand(BigInt.prototype.valueOf, input)) return remember(Object(BigInt.prototype.valueOf.call(input)));
    if (brand(Date.prototype.getTime, input)) return remember(new Date(Date.prototype.getTime.call(input)));
    if (brand(Object.getOwnPropertyDescriptor(RegExp.prototype, 'source').get, input) && input !== RegExp.prototype) {
      return remember(new RegExp(input.source, input.flags));
    }
    if (isArrayBuffer(input)) return remember(input.slice(0));
    if (ArrayBuffer.isView(input)) {
      const buffer = clone(input.buffer);
      const kind = typedArrayTag.call(input);
      if (kind === undefined) return remember(new DataView(buffer, input.byteOffset, input.byteLength));
      return remember(new TYPED_ARRAYS[kind](buffer, input.byteOffset, input.length));
    }
    if (brand(Object.getOwnPropertyDescriptor(Map.prototype, 'size').get, input)) {
      const output = remember(new Map());
      for (const [k, v] of [...input]) output.set(clone(k), clone(v));
      return output;
    }
    if (brand(Object.getOwnPropertyDescriptor(Set.prototype, 'size').get, input)) {
      const output = remember(new Set());
      for (const v of [...input]) output.add(clone(v));
      return output;
    }
    if (input instanceof Blob) {
      const options = { type: input.type };
      return remember(input instanceof File ? new File([input], input.name, { ...options, lastModified: input.lastModified }) : new Blob([input], options));
    }
    const tag = objectToString.call(input).slice(8, -1);
    if (UNCLONEABLE_TAGS.has(tag)) throw dataCloneError(input);
    if (tag === 'Error') {
      const name = input.name;
      const Ctor = Object.hasOwn(ERROR_CONSTRUCTORS, name) ? ERROR_CONSTRUCTORS[name] : Error;
      const output = remember(Object.hasOwn(input, 'message') ? new Ctor(String(input.message)) : new Ctor());
      const stack = Object.getOwnPropertyDescriptor(input, 'stack');
      if (stack !== undefined && 'value' in stack) {
        Object.defineProperty(output, 'stack', { value: String(stack.value), writable: true, configurable: true });
      }
      if (Object.hasOwn(input, 'cause')) {
        Object.defineProperty(output, 'cause', { value: clone(input.cause), writable: true, configurable: true });
      }
      return output;
    }
    const output = remember(Array.isArray(input) ? new Array(input.length) : {});
    for (const key of Object.keys(input)) output[key] = clone(input[key]);
    return output;
  };
  return clone(value);
}

// ---- entry point -------------------------------------------------------------------------------

export function createWebApis(bridge) {
  hostBridge = bridge;
  for (const hidden of [
    StringBuilder,
    Utf8Decoder,
    Utf16leDecoder,
    Windows1252Decoder,
    ReadableStreamDefaultController,
    ReadableStreamDefaultReader,
    BodyState,
  ]) {
    internal(hidden);
  }
  return {
    URL,
    URLSearchParams,
    Headers,
    Request,
    Response,
    FormData,
    Blob,
    File,
    TextEncoder,
    TextDecoder,
    atob,
    btoa,
    Buffer,
    AbortController,
    AbortSignal,
    Event,
    EventTarget,
    DOMException,
    ReadableStream,
    structuredClone,
    requestToWire,
    responseFromWire,
  };
}
