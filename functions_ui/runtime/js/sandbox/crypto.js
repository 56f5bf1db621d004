// Node's `crypto` and Web Crypto, as far as functions use them, computed by the host.
//
// The isolate has no crypto of its own. Every operation is one synchronous host call that takes
// and returns strings (bytes as base64), so no host object or host memory ever reaches user code,
// and nothing is left running on a host thread pool after the call returns. Streaming objects
// (hashes, ciphers) collect their input here and compute on digest()/final(), which gives the
// same concatenated output as Node.

import { internal } from './harden.js';

export function createCrypto(call, Buffer) {
  const toBytes = (data, encoding) => {
    if (typeof data === 'string') return Buffer.from(data, encoding || 'utf8');
    if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data));
    if (ArrayBuffer.isView(data)) return Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.');
  };
  const b64 = (bytes) => Buffer.from(bytes).toString('base64');
  const out = (base64, encoding) => {
    const buf = Buffer.from(base64, 'base64');
    return encoding && encoding !== 'buffer' ? buf.toString(encoding) : buf;
  };
  const keyText = (key) => {
    if (typeof key === 'string') return { text: key };
    if (key && typeof key === 'object' && !ArrayBuffer.isView(key) && 'key' in key) {
      return { text: typeof key.key === 'string' ? key.key : toBytes(key.key).toString('utf8'), passphrase: key.passphrase, dsaEncoding: key.dsaEncoding, padding: key.padding };
    }
    return { text: toBytes(key).toString('utf8') };
  };

  class Hash {
    #alg;
    #chunks = [];
    #key;
    #done = false;
    constructor(alg, key) {
      this.#alg = String(alg);
      this.#key = key;
      call('hash', this.#alg, '', this.#key === undefined ? '' : this.#key); // fails early for an unknown algorithm
    }
    update(data, encoding) {
      if (this.#done) throw new Error('Digest already called');
      this.#chunks.push(toBytes(data, encoding));
      return this;
    }
    digest(encoding) {
      if (this.#done) throw new Error('Digest already called');
      this.#done = true;
      return out(call('hash', this.#alg, b64(Buffer.concat(this.#chunks)), this.#key === undefined ? '' : this.#key), encoding);
    }
    copy() {
      const h = new Hash(this.#alg, this.#key);
      for (const c of this.#chunks) h.update(c);
      return h;
    }
  }

  class Signer {
    #alg;
    #chunks = [];
    constructor(alg) {
      this.#alg = String(alg);
    }
    update(data, encoding) {
      this.#chunks.push(toBytes(data, encoding));
      return this;
    }
    sign(key, encoding) {
      const k = keyText(key);
      return out(call('sign', this.#alg, JSON.stringify(k), b64(Buffer.concat(this.#chunks))), encoding);
    }
    verify(key, signature, encoding) {
      const k = keyText(key);
      return call('verify', this.#alg, JSON.stringify(k), b64(Buffer.concat(this.#chunks)), b64(toBytes(signature, encoding))) === 'true';
    }
  }

  class Cipher {
    #mode;
    #alg;
    #key;
    #iv;
    #chunks = [];
    #aad = '';
    #tag = '';
    #padding = true;
    #outTag = null;
    #done = false;
    constructor(mode, alg, key, iv) {
      if (call('cipherknown', String(alg)) !== 'true') throw new Error('Invalid cipher type');
      this.#mode = mode;
      this.#alg = String(alg);
      this.#key = b64(toBytes(key));
      this.#iv = iv === null || iv === undefined ? '' : b64(toBytes(iv));
    }
    update(data, inputEncoding, outputEncoding) {
      if (this.#done) throw new Error('Unsupported state');
      this.#chunks.push(toBytes(data, inputEncoding));
      const empty = Buffer.alloc(0);
      return outputEncoding && outputEncoding !== 'buffer' ? '' : empty;
    }
    final(outputEncoding) {
      if (this.#done) throw new Error('Unsupported state');
      this.#done = true;
      const reply = JSON.parse(
        call('cipher', this.#mode, this.#alg, this.#key, this.#iv, b64(Buffer.concat(this.#chunks)), JSON.stringify({ aad: this.#aad, tag: this.#tag, padding: this.#padding })),
      );
      this.#outTag = reply.tag || null;
      return out(reply.data, outputEncoding);
    }
    setAutoPadding(on = true) {
      this.#padding = Boolean(on);
      return this;
    }
    setAAD(data) {
      this.#aad = b64(toBytes(data));
      return this;
    }
    setAuthTag(tag) {
      this.#tag = b64(toBytes(tag));
      return this;
    }
    getAuthTag() {
      if (this.#outTag === null) throw new Error('Invalid state for operation getAuthTag');
      return Buffer.from(this.#outTag, 'base64');
    }
  }

  const randomBytes = (size) => {
    const n = Number(size);
    if (!Number.isInteger(n) || n < 0 || n > 65536) throw new RangeError('The value of "size" is out of range. It must be >= 0 && <= 65536.');
    return Buffer.from(call('random', String(n)), 'base64');
  };
  const getRandomValues = (array) => {
    if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView) {
      throw new TypeError('The data argument must be an integer-type TypedArray');
    }
    if (array.byteLength > 65536) throw new RangeError('The ArrayBufferView\'s byte length exceeds the number of bytes of entropy available via this API (65536)');
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(randomBytes(array.byteLength));
    return array;
  };
  const randomUUID = () => call('uuid');
  const randomInt = (min, max) => {
    if (max === undefined) {
      max = min;
      min = 0;
    }
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) throw new RangeError('The value of "max" is out of range.');
    const range = max - min;
    const bytes = randomBytes(6);
    const n = bytes.readUIntBE(0, 6);
    return min + (n % range);
  };

  // ---- Web Crypto --------------------------------------------------------------------------
  const keyState = new WeakMap();
  class CryptoKey {
    constructor() {
      throw new TypeError('Illegal constructor');
    }
    get type() {
      return keyState.get(this).type;
    }
    get extractable() {
      return keyState.get(this).extractable;
    }
    get algorithm() {
      return { ...keyState.get(this).algorithm };
    }
    get usages() {
      return [...keyState.get(this).usages];
    }
  }
  const makeKey = (state) => {
    const key = Object.create(CryptoKey.prototype);
    keyState.set(key, state);
    return key;
  };
  const algName = (a) => String(typeof a === 'string' ? a : a && a.name).toUpperCase();
  const hashName = (h) => {
    const name = algName(h);
    return { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }[name];
  };
  const bytesOf = (data) => toBytes(data);
  const asArrayBuffer = (buf) => {
    const ab = new ArrayBuffer(buf.length);
    new Uint8Array(ab).set(buf);
    return ab;
  };
  const settle = (fn) => {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  };
  const unsupported = (what) => {
    const e = new Error(`Unrecognized algorithm name or unsupported operation: ${what}`);
    e.name = 'NotSupportedError';
    return e;
  };

  const subtle = {
    digest(algorithm, data) {
      return settle(() => {
        const h = hashName(algorithm);
        if (!h) throw unsupported(algName(algorithm));
        return asArrayBuffer(Buffer.from(call('hash', h, b64(bytesOf(data)), ''), 'base64'));
      });
    },
    importKey(format, keyData, algorithm, extractable, usages) {
      return settle(() => {
        const name = algName(algorithm);
        const algo = { name };
        if (algorithm && algorithm.hash) {
          if (!hashName(algorithm.hash)) throw unsupported(algName(algorithm.hash));
          algo.hash = { name: algName(algorithm.hash) };
        } else if (name === 'HMAC') {
          throw new TypeError('HMAC keys need a hash algorithm');
        }
        if (name === 'HMAC' || name.startsWith('AES') || name === 'PBKDF2') {
          let raw;
          if (format === 'raw') raw = bytesOf(keyData);
          else if (format === 'jwk') {
            if (!keyData || keyData.kty !== 'oct' || typeof keyData.k !== 'string') throw new TypeError('Invalid keyData: a secret JWK needs kty "oct" and k');
            raw = Buffer.from(keyData.k, 'base64url');
          }
          else throw unsupported(`${format} for ${name}`);
          if (name.startsWith('AES')) algo.length = raw.length * 8;
          return makeKey({ type: 'secret', extractable: Boolean(extractable), algorithm: algo, usages: [...(usages || [])], raw });
        }
        if (name === 'RSASSA-PKCS1-V1_5' || name === 'ECDSA' || name === 'RSA-PSS') {
          const spec = format === 'jwk' ? JSON.stringify(keyData) : b64(bytesOf(keyData));
          const reply = JSON.parse(call('keyimport', String(format), spec));
          if (algorithm && algorithm.namedCurve) algo.namedCurve = algorithm.namedCurve;
          return makeKey({ type: reply.type, extractable: Boolean(extractable), algorithm: algo, usages: [...(usages || [])], pem: reply.pem });
        }
        throw unsupported(name);
      });
    },
    exportKey(format, key) {
      return settle(() => {
        const s = keyState.get(key);
        if (!s) throw new TypeError('key is not a CryptoKey');
        if (!s.extractable) throw new Error('key is not extractable');
        if (s.raw && format === 'raw') return asArrayBuffer(s.raw);
        if (s.raw && format === 'jwk') return { kty: 'oct', k: s.raw.toString('base64url'), ext: true, key_ops: [...s.usages] };
        throw unsupported(`export ${format}`);
      });
    },
    generateKey(algorithm, extractable, usages) {
      return settle(() => {
        const name = algName(algorithm);
        let length = Number(algorithm && algorithm.length);
        if (name === 'HMAC' && !length) length = { sha1: 512, sha256: 512, sha384: 1024, sha512: 1024 }[hashName(algorithm.hash)] || 512;
        if (!(name === 'HMAC' || name.startsWith('AES')) || !(length > 0 && length <= 4096)) throw unsupported(name);
        const algo = { name, length };
        if (algorithm.hash) algo.hash = { name: algName(algorithm.hash) };
        return makeKey({ type: 'secret', extractable: Boolean(extractable), algorithm: algo, usages: [...(usages || [])], raw: randomBytes(length / 8) });
      });
    },
    sign(algorithm, key, data) {
      return settle(() => {
        const s = keyState.get(key);
        if (!s) throw new TypeError('key is not a CryptoKey');
        const name = algName(algorithm);
        if (name === 'HMAC') {
          return asArrayBuffer(Buffer.from(call('hash', hashName(s.algorithm.hash), b64(bytesOf(data)), b64(s.raw)), 'base64'));
        }
        const hash = hashName((algorithm && algorithm.hash) || s.algorithm.hash);
        const opts = name === 'ECDSA' ? { text: s.pem, dsaEncoding: 'ieee-p1363' } : { text: s.pem };
        return asArrayBuffer(Buffer.from(call('sign', hash, JSON.stringify(opts), b64(bytesOf(data))), 'base64'));
      });
    },
    verify(algorithm, key, signature, data) {
      return settle(() => {
        const s = keyState.get(key);
        if (!s) throw new TypeError('key is not a CryptoKey');
        const name = algName(algorithm);
        if (name === 'HMAC') {
          const mac = Buffer.from(call('hash', hashName(s.algorithm.hash), b64(bytesOf(data)), b64(s.raw)), 'base64');
          return call('equal', b64(mac), b64(bytesOf(signature))) === 'true';
        }
        const hash = hashName((algorithm && algorithm.hash) || s.algorithm.hash);
        const opts = name === 'ECDSA' ? { text: s.pem, dsaEncoding: 'ieee-p1363' } : { text: s.pem };
        return call('verify', hash, JSON.stringify(opts), b64(bytesOf(data)), b64(bytesOf(signature))) === 'true';
      });
    },
    encrypt(algorithm, key, data) {
      return subtleCipher('encrypt', algorithm, key, data);
    },
    decrypt(algorithm, key, data) {
      return subtleCipher('decrypt', algorithm, key, data);
    },
    deriveBits(algorithm, key, length) {
      return settle(() => {
        const s = keyState.get(key);
        if (!s || algName(algorithm) !== 'PBKDF2') throw unsupported(algName(algorithm));
        const bytes = call('pbkdf2', b64(s.raw), b64(bytesOf(algorithm.salt)), String(algorithm.iterations), String(Number(length) / 8), hashName(algorithm.hash));
        return asArrayBuffer(Buffer.from(bytes, 'base64'));
      });
    },
  };
  function subtleCipher(mode, algorithm, key, data) {
    return settle(() => {
      const s = keyState.get(key);
      if (!s || !s.raw) throw new TypeError('key is not a secret CryptoKey');
      const name = algName(algorithm);
      const bits = s.raw.length * 8;
      let alg;
      let input = bytesOf(data);
      let tag = '';
      if (name === 'AES-GCM') {
        alg = `aes-${bits}-gcm`;
        const tagLength = (algorithm.tagLength || 128) / 8;
        if (mode === 'decrypt') {
          tag = b64(input.subarray(input.length - tagLength));
          input = input.subarray(0, input.length - tagLength);
        }
      } else if (name === 'AES-CBC') {
        alg = `aes-${bits}-cbc`;
      } else {
        throw unsupported(name);
      }
      const aad = algorithm.additionalData ? b64(bytesOf(algorithm.additionalData)) : '';
      const reply = JSON.parse(call('cipher', mode === 'encrypt' ? 'cipher' : 'decipher', alg, b64(s.raw), b64(bytesOf(algorithm.iv)), b64(input), JSON.stringify({ aad, tag, padding: true })));
      const result = Buffer.from(reply.data, 'base64');
      return asArrayBuffer(reply.tag ? Buffer.concat([result, Buffer.from(reply.tag, 'base64')]) : result);
    });
  }

  const crypto = {
    createHash: (alg) => new Hash(alg),
    createHmac: (alg, key) => new Hash(alg, b64(typeof key === 'string' ? Buffer.from(key) : toBytes(key && key.export ? key.export() : key))),
    createSign: (alg) => new Signer(alg),
    createVerify: (alg) => new Signer(alg),
    createCipheriv: (alg, key, iv) => new Cipher('cipher', alg, key, iv),
    createDecipheriv: (alg, key, iv) => new Cipher('decipher', alg, key, iv),
    randomBytes,
    randomUUID,
    randomInt,
    getRandomValues,
    timingSafeEqual: (a, b) => {
      const x = toBytes(a);
      const y = toBytes(b);
      if (x.length !== y.length) throw new RangeError('Input buffers must have the same byte length');
      return call('equal', b64(x), b64(y)) === 'true';
    },
    pbkdf2Sync: (password, salt, iterations, keylen, digest) =>
      Buffer.from(call('pbkdf2', b64(toBytes(password)), b64(toBytes(salt)), String(iterations), String(keylen), String(digest)), 'base64'),
    getHashes: () => JSON.parse(call('hashes')),
    subtle,
    CryptoKey,
  };
  crypto.webcrypto = { subtle, getRandomValues, randomUUID, CryptoKey };
  for (const hidden of [Hash, Signer, Cipher, CryptoKey]) internal(hidden);
  return crypto;
}
