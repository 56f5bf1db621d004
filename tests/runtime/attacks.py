# ruff: noqa: E501  (JavaScript snippets read better unwrapped)
"""JavaScript of the cross-tenant attack suite (issue 10), shared by the runtime, editor and
pipeline tests: a victim that works hard with its secret, an attacker that scans fresh memory
for it, and attackers that leave timers, callbacks and promises behind."""

from __future__ import annotations

import base64
import secrets


def new_secret() -> str:
    """A long random secret, as a customer's API key would be."""
    return "sk_live_" + secrets.token_urlsafe(32)


def secret_forms(secret: str) -> list[str]:
    """The secret as text and in the encodings a leak would show it in."""
    raw = secret.encode()
    return [
        secret,
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        raw.hex().upper(),
    ]


def scan_needles(secret: str) -> list[str]:
    """What the scanner looks for, as latin1 byte strings, each reversed.

    Reversed so that the attacker's own request (which carries them as a setting) never holds the
    bytes being searched for: a hit can only come from someone else's memory.
    """
    raw = secret.encode()
    forms = [
        raw,
        base64.b64encode(raw),
        raw.hex().encode(),
        secret.encode("utf-16-le"),
    ]
    return [form.decode("latin1")[::-1] for form in forms]


# The victim: a function that handles its secret in every way that leaves copies in memory.
USE_SECRET_JS = r"""
async function useSecret(s, withFetch = true) {
  const keep = [];
  for (let i = 0; i < 64; i++) {
    keep.push(Buffer.from(s + i), Buffer.from(s).toString('base64'), Buffer.from(s).toString('hex'));
    keep.push(new TextEncoder().encode(s.repeat(8)), Buffer.from(s, 'utf8').toString('latin1'));
  }
  keep.push(Buffer.alloc(1 << 20, s), Buffer.from(s.repeat(4096)));
  const ab = new ArrayBuffer(65536);
  new Uint8Array(ab).set(Buffer.from(s.repeat(2048)).subarray(0, 65536));
  crypto.createHmac('sha256', s).update(s).digest('hex');
  crypto.createHash('sha256').update(Buffer.from(s)).digest('base64');
  btoa(s);
  if (withFetch) {
    await fetch('https://api.example.com/v1?key=' + encodeURIComponent(s), {
      method: 'POST', headers: { Authorization: 'Bearer ' + s }, body: JSON.stringify({ key: s }),
    });
  }
  console.log('victim used', s);
  return keep.length;
}
"""

VICTIM_CODE = (
    USE_SECRET_JS
    + """
async function onTrack(event, settings) {
  await useSecret(settings.apiKey);
  return 'victim-ok';
}
"""
)

# The attacker: allocates fresh memory in every way user code can, from 1 byte to 1 MiB, and
# reports every byte that is not what a fresh allocation must hold (zero, or the bytes it was
# created from) and every place where one of the needles (reversed, see scan_needles) shows.
SCAN_JS = r"""
function scanMemory(reversedNeedles) {
  const needles = (reversedNeedles || []).map((n) => n.split('').reverse().join(''));
  const SIZES = [1, 2, 7, 16, 64, 100, 255, 1000, 4096, 8191, 8192, 10000, 65536, 100000, 262144, 1048576];
  const ALLOCATORS = {
    allocUnsafe: (n) => [Buffer.allocUnsafe(n), 0, 0, 0],
    allocUnsafeSlow: (n) => [Buffer.allocUnsafeSlow(n), 0, 0, 0],
    Uint8Array: (n) => [new Uint8Array(n), 0, 0, 0],
    ArrayBuffer: (n) => [new Uint8Array(new ArrayBuffer(n)), 0, 0, 0],
    alloc: (n) => [Buffer.alloc(n), 0, 0, 0],
    // The whole backing store of a small Buffer (in Node, the shared 8 KiB pool).
    fromBacking: (n) => {
      const b = Buffer.from('x'.repeat(Math.min(n, 64)));
      return [new Uint8Array(b.buffer), b.byteOffset, b.byteOffset + b.length, 0x78];
    },
  };
  const report = { checked: 0, bytes: 0, nonzero: [], hits: [], sample: '' };
  const latin1 = (u8) => {
    let out = '';
    for (let i = 0; i < u8.length; i += 8192) out += String.fromCharCode.apply(null, u8.subarray(i, i + 8192));
    return out;
  };
  for (let round = 0; round < 3; round++) {
    for (const [name, alloc] of Object.entries(ALLOCATORS)) {
      for (const size of SIZES) {
        const [u8, lo, hi, fill] = alloc(size);
        report.checked++;
        report.bytes += u8.length;
        let bad = 0;
        let first = -1;
        for (let i = 0; i < u8.length; i++) {
          const expected = i >= lo && i < hi ? fill : 0;
          if (u8[i] !== expected) {
            bad++;
            if (first < 0) first = i;
          }
        }
        if (bad === 0) continue;
        if (report.nonzero.length < 50) report.nonzero.push([name, size, round, bad]);
        const text = latin1(u8);
        if (report.sample.length < 4000) report.sample += text.slice(first, first + 400);
        needles.forEach((needle, index) => {
          if (text.includes(needle)) report.hits.push([name, size, index]);
        });
      }
    }
  }
  return report;
}
"""

SCANNER_CODE = (
    SCAN_JS
    + """
async function onTrack(event, settings) {
  return scanMemory(settings.needles);
}
"""
)

# Both roles in one function, chosen by a setting: for two runs of the SAME function.
SCAN_OR_USE_CODE = (
    SCAN_JS
    + USE_SECRET_JS
    + """
async function onTrack(event, settings) {
  if (settings.mode === 'scan') return scanMemory(settings.needles);
  await useSecret(settings.apiKey);
  return 'victim-ok';
}
"""
)

# Work an attacker leaves behind when its run ends: each one, if it survived the run, would throw
# or log into whatever run is current when it fires.
LEFTOVERS = {
    "request_signal_timeout": """
      const S = new Request('https://x.example/').signal.constructor;
      const arm = () => S.timeout(50).addEventListener('abort', () => {
        arm(); console.log('sabotage: signal'); throw new DropEvent('sabotaged by signal');
      });
      arm();
    """,
    "abort_signal_timeout": """
      for (const ms of [1, 20, 60, 150]) {
        AbortSignal.timeout(ms).onabort = () => { console.log('sabotage: abort'); throw new InvalidEventPayload('sabotaged by abort'); };
      }
      const c = new AbortController();
      c.signal.addEventListener('abort', () => { throw new DropEvent('sabotaged by controller'); });
      setTimeout(() => c.abort(), 40);
    """,
    "timeouts_that_throw": """
      for (const ms of [1, 10, 30, 80, 200]) setTimeout(() => { console.log('sabotage: timeout'); throw new DropEvent('sabotaged by timeout'); }, ms);
    """,
    "interval_that_throws": """
      setInterval(() => { console.log('sabotage: interval'); throw new RetryError('sabotaged by interval'); }, 5);
      setImmediate(() => { throw new DropEvent('sabotaged by immediate'); });
    """,
    "crypto_subtle_chain": """
      const loop = (n) => crypto.subtle.digest('SHA-256', new Uint8Array(32))
        .then(() => new Promise((r) => setTimeout(r, 5)))
        .then(() => { console.log('sabotage: subtle ' + n); if (n > 3) throw new DropEvent('sabotaged by subtle'); return loop(n + 1); });
      loop(0);
      crypto.subtle.importKey('raw', new TextEncoder().encode('pw'), 'PBKDF2', false, ['deriveBits'])
        .then((k) => new Promise((r) => setTimeout(() => r(k), 20)))
        .then((k) => crypto.subtle.deriveBits({ name: 'PBKDF2', salt: new Uint8Array(8), iterations: 1000, hash: 'SHA-256' }, k, 256))
        .then(() => { console.log('sabotage: deriveBits'); throw new DropEvent('sabotaged by deriveBits'); });
    """,
    "unawaited_rejections": """
      Promise.reject(new DropEvent('sabotaged by rejection'));
      (async () => { await new Promise((r) => setTimeout(r, 15)); throw new DropEvent('sabotaged by async rejection'); })();
      new Promise((_, reject) => setTimeout(() => reject(new RetryError('sabotaged later')), 30));
    """,
    "background_async_loop": """
      (async () => { for (let i = 0; ; i++) { await new Promise((r) => setTimeout(r, 3)); console.log('sabotage: loop ' + i); } })();
    """,
    "queue_microtask_chain": """
      let n = 0;
      const next = () => { if (++n < 2000) queueMicrotask(next); else setTimeout(() => { console.log('sabotage: microtask'); throw new DropEvent('sabotaged by microtask'); }, 10); };
      queueMicrotask(next);
    """,
    "pending_fetch_callbacks": """
      fetch('https://api.example.com/slow').then(() => { console.log('sabotage: fetch'); throw new DropEvent('sabotaged by fetch'); });
      fetch('http://127.0.0.1:9/').catch(() => { console.log('sabotage: fetch error'); throw new DropEvent('sabotaged by fetch error'); });
    """,
    "all_at_once": None,  # filled below
}
LEFTOVERS["all_at_once"] = "\n".join(
    f"{{ {snippet} }}" for name, snippet in LEFTOVERS.items() if snippet is not None
)


def leftover_attacker(snippet: str) -> str:
    """A destination function that starts `snippet`'s work and returns at once."""
    return f"async function onTrack(event, settings) {{\n{snippet}\n  return 'attacker-done';\n}}\n"


# The victim of the leftover attacks: a run that lasts a few timer ticks and logs one line.
QUIET_VICTIM_BODY = """
  console.log('victim says hi');
  await new Promise((r) => setTimeout(r, 5));
  await crypto.subtle.digest('SHA-256', new Uint8Array(4));
  await null;
  return 'victim-' + event.event;
"""
QUIET_VICTIM_CODE = f"async function onTrack(event, settings) {{{QUIET_VICTIM_BODY}}}\n"
