'use strict';
// node --test tests/runtime/netpolicy.test.js — offline: the only name resolved is localhost.

const assert = require('node:assert/strict');
const dns = require('node:dns');
const path = require('node:path');
const { describe, test } = require('node:test');

const { isBlockedAddress, literalHostBlocked, policyLookup } = require(
  path.join(__dirname, '..', '..', 'functions_ui', 'runtime', 'js', 'netpolicy.js'),
);

const BLOCKED = [
  // IPv4 special-purpose blocks, at their edges
  '0.0.0.0',
  '0.255.255.255',
  '10.0.0.0',
  '10.255.255.255',
  '100.64.0.1',
  '100.127.255.255',
  '127.0.0.1',
  '127.255.255.254',
  '169.254.0.1',
  '169.254.169.254',
  '172.16.0.1',
  '172.31.255.255',
  '192.0.0.1',
  '192.0.0.170',
  '192.0.2.1',
  '192.88.99.1',
  '192.168.0.1',
  '192.168.255.255',
  '198.18.0.1',
  '198.19.255.255',
  '198.51.100.7',
  '203.0.113.9',
  '224.0.0.1',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
  // IPv6 special-purpose blocks
  '::',
  '::1',
  '0:0:0:0:0:0:0:1',
  '0000:0000:0000:0000:0000:0000:0000:0001',
  '::0.0.0.1',
  '::8.8.8.8',
  '::ffff:0:0',
  '64:ff9b::808:808',
  '64:ff9b::7f00:1',
  '64:ff9b::8.8.8.8',
  '64:ff9b:1::1',
  '100::1',
  '100::ffff:ffff:ffff:ffff',
  '100:0:0:1::1',
  '2001::1',
  '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  '2001:1::1',
  '2001:2::1',
  '2001:10::1',
  '2001:1ff:ffff::1',
  '2001:db8::1',
  '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff',
  '2002::1',
  '2002:808:808::1',
  '2002:7f00:1::1',
  '3fff::1',
  '3fff:fff::1',
  '5f00::1',
  'fc00::1',
  'fd12:3456:789a::1',
  'fe80::1',
  'febf:ffff::1',
  'fec0::1',
  'feff::1',
  'ff02::1',
  'ff05::1:3',
  // IPv4-mapped, in every spelling; refused even when the embedded address is public
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '0:0:0:0:0:ffff:7f00:0001',
  '0:0:0:0:0:FFFF:7F00:1',
  '::FFFF:169.254.169.254',
  '::ffff:a9fe:a9fe',
  '::ffff:8.8.8.8',
  '::ffff:808:808',
  // uppercase, leading zeros, brackets and zone ids
  'FE80::1',
  'FC00::ABCD',
  'fe80:0000:0000:0000:0000:0000:0000:0001',
  'fe80::1%eth0',
  'fe80::1%25eth0',
  'ff02::1%lo',
  '[::1]',
  '[fe80::1]',
  '[::ffff:127.0.0.1]',
  // not an IP literal: fail closed
  '',
  'localhost',
  'example.com',
  'garbage',
  '127.1',
  '0x7f.0.0.1',
  '2130706433',
  '127.000.000.001',
  '1.2.3.4 ',
  ' 8.8.8.8',
  '256.1.1.1',
  '::ffff:1.2.3.04',
  '1::2::3',
  'fe80::1%',
  '[::1',
  '[[::1]]',
  'http://8.8.8.8/',
  '8.8.8.8/32',
];

const ALLOWED = [
  '8.8.8.8',
  '1.1.1.1',
  '9.9.9.9',
  '1.0.0.1',
  '11.0.0.1',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.1',
  '169.253.255.255',
  '169.255.0.1',
  '172.15.255.255',
  '172.32.0.1',
  '192.0.1.1',
  '192.0.3.1',
  '192.31.196.1',
  '192.52.193.1',
  '192.167.255.255',
  '192.169.0.1',
  '192.175.48.1',
  '198.17.255.255',
  '198.20.0.1',
  '198.51.101.1',
  '203.0.112.1',
  '223.255.255.255',
  '2606:4700:4700::1111',
  '2606:4700:4700::1001',
  '2001:4860:4860::8888',
  '2001:4860:4860::8844',
  '2001:200::1',
  '2001:db9::1',
  '2003::1',
  '2620:fe::fe',
  '2620:4f:8000::1',
  '2a00:1450:4001::1',
  '3ffe::1',
  '3fff:1000::1',
  '5eff::1',
  '64:ff9b:2::1',
  '2606:4700:4700:0000:0000:0000:0000:1111',
  '2606:4700:4700::1111%eth0',
  '[2606:4700:4700::1111]',
  '2001:4860:4860:0:0:0:0:8888',
  '2001:4860:4860::8888'.toUpperCase(),
];

describe('isBlockedAddress', () => {
  test('the table is big enough to mean something', () => {
    assert.ok(BLOCKED.length + ALLOWED.length >= 80);
  });

  for (const ip of BLOCKED) {
    test(`blocks ${JSON.stringify(ip)}`, () => assert.equal(isBlockedAddress(ip), true));
  }
  for (const ip of ALLOWED) {
    test(`allows ${JSON.stringify(ip)}`, () => assert.equal(isBlockedAddress(ip), false));
  }

  test('fails closed on non-strings', () => {
    for (const value of [undefined, null, 0, 2130706433, {}, ['8.8.8.8']]) {
      assert.equal(isBlockedAddress(value), true, String(value));
    }
  });
});

describe('literalHostBlocked', () => {
  test('checks IP literals as URL hostnames spell them', () => {
    assert.equal(literalHostBlocked('127.0.0.1'), true);
    assert.equal(literalHostBlocked('[::1]'), true);
    assert.equal(literalHostBlocked(new URL('http://[::ffff:127.0.0.1]/').hostname), true);
    assert.equal(literalHostBlocked(new URL('http://0x7f.1/').hostname), true);
    assert.equal(literalHostBlocked(new URL('http://[FE80::1]/').hostname), true);
    assert.equal(literalHostBlocked('fe80::1%eth0'), true);
    assert.equal(literalHostBlocked('8.8.8.8'), false);
    assert.equal(literalHostBlocked('[2606:4700:4700::1111]'), false);
  });

  test('leaves names, and spellings net.connect would resolve, to the lookup', () => {
    for (const host of ['localhost', 'example.com', '127.1', '2130706433', '[not-an-ip]', '']) {
      assert.equal(literalHostBlocked(host), false, host);
    }
  });
});

function lookup(hostname, options) {
  return new Promise((resolve, reject) => {
    policyLookup(hostname, options, (err, address, family) =>
      err ? reject(err) : resolve({ address, family }),
    );
  });
}

describe('policyLookup', () => {
  const refused = (hostname, address) => (err) => {
    assert.equal(err.code, 'EADDRBLOCKED');
    assert.equal(
      err.message,
      `refused to connect to ${hostname} (${address}): loopback, private and link-local addresses are blocked`,
    );
    return true;
  };

  test('refuses a name that resolves to loopback', async () => {
    await assert.rejects(lookup('localhost', { family: 4 }), refused('localhost', '127.0.0.1'));
  });

  test('refuses with all: true too', async () => {
    await assert.rejects(
      lookup('localhost', { all: true, family: 4 }),
      refused('localhost', '127.0.0.1'),
    );
  });

  test('refuses inet_aton spellings, which the resolver turns into addresses', async () => {
    for (const host of ['127.1', '2130706433', '0x7f.0.0.1']) {
      await assert.rejects(lookup(host, {}), refused(host, '127.0.0.1'));
    }
  });

  test('accepts the dns.lookup(hostname, callback) and (hostname, family, callback) forms', async () => {
    const bare = await new Promise((resolve) => policyLookup('localhost', resolve));
    assert.equal(bare.code, 'EADDRBLOCKED');
    await assert.rejects(lookup('localhost', 4), refused('localhost', '127.0.0.1'));
  });

  test('passes resolver errors through', async (t) => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND nope.test'), { code: 'ENOTFOUND' });
    t.mock.method(dns, 'lookup', (hostname, options, callback) => callback(notFound));
    await assert.rejects(lookup('nope.test', {}), notFound);
  });

  test('refuses an empty answer', async (t) => {
    t.mock.method(dns, 'lookup', (hostname, options, callback) => callback(null, []));
    await assert.rejects(lookup('', {}), refused('', 'no address'));
  });

  test('drops blocked addresses from a mixed answer and forwards the options', async (t) => {
    const answer = [
      { address: '127.0.0.1', family: 4 },
      { address: '::ffff:10.0.0.1', family: 6 },
      { address: '93.184.215.14', family: 4 },
      { address: 'fd00::1', family: 6 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ];
    const calls = [];
    t.mock.method(dns, 'lookup', (hostname, options, callback) => {
      calls.push(options);
      callback(null, answer);
    });
    assert.deepEqual(await lookup('mixed.test', { family: 0, hints: dns.ADDRCONFIG }), {
      address: '93.184.215.14',
      family: 4,
    });
    assert.deepEqual(await lookup('mixed.test', { all: true }), {
      address: [answer[2], answer[4]],
      family: undefined,
    });
    assert.deepEqual(calls, [
      { family: 0, hints: dns.ADDRCONFIG, all: true },
      { all: true },
    ]);
  });

  test('returns public addresses: one by default, an array with all: true', async () => {
    assert.deepEqual(await lookup('8.8.8.8', {}), { address: '8.8.8.8', family: 4 });
    assert.deepEqual(await lookup('2001:4860:4860::8888', { family: 6 }), {
      address: '2001:4860:4860::8888',
      family: 6,
    });
    assert.deepEqual(await lookup('1.1.1.1', { all: true }), {
      address: [{ address: '1.1.1.1', family: 4 }],
      family: undefined,
    });
  });
});
