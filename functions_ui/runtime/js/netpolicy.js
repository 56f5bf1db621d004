'use strict';
// Which addresses user code may fetch. Based on the IANA IPv4 and IPv6 special-purpose address
// registries: every block that is not globally reachable is refused, and so is every block that
// embeds or tunnels to an IPv4 address (mapped, NAT64, 6to4, Teredo), because a blocked IPv4
// address could otherwise be reached through it.

const dns = require('node:dns');
const net = require('node:net');

const V4_RANGES = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (CGNAT)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, including the 169.254.169.254 cloud metadata service
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, including 255.255.255.255 broadcast
];

const V6_RANGES = [
  ['::', 96], // IPv4-compatible (deprecated), including :: and ::1
  ['::ffff:0:0', 96], // IPv4-mapped
  ['64:ff9b::', 96], // NAT64 well-known prefix
  ['64:ff9b:1::', 48], // NAT64 local-use
  ['100::', 64], // discard-only
  ['100:0:0:1::', 64], // dummy prefix
  ['2001::', 23], // IETF protocol assignments, including Teredo 2001::/32
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['3fff::', 20], // documentation
  ['5f00::', 16], // SRv6 SIDs
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

// One list per family: an IPv6 rule covering ::ffff:0:0/96 makes BlockList match every IPv4
// address checked as 'ipv4', so a shared list would block the whole IPv4 internet.
function blockList(ranges, family) {
  const list = new net.BlockList();
  for (const [base, prefix] of ranges) list.addSubnet(base, prefix, family);
  return list;
}
const V4_BLOCKED = blockList(V4_RANGES, 'ipv4');
const V6_BLOCKED = blockList(V6_RANGES, 'ipv6');

function stripBrackets(host) {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function isBlockedAddress(ip) {
  if (typeof ip !== 'string') return true;
  const bare = stripBrackets(ip);
  // BlockList.check() returns false for input it cannot parse, so validity is decided here.
  const family = net.isIP(bare);
  if (family === 4) return V4_BLOCKED.check(bare, 'ipv4');
  if (family === 6) {
    // The zone only picks an interface; the address alone decides where the packet goes.
    return V6_BLOCKED.check(bare.split('%')[0], 'ipv6');
  }
  return true;
}

// net.connect() skips the lookup function for anything net.isIP() accepts, so such hosts must
// be checked before connecting; every other host is resolved, and checked, by policyLookup.
function literalHostBlocked(hostname) {
  const bare = stripBrackets(String(hostname));
  return net.isIP(bare) !== 0 && isBlockedAddress(bare);
}

function policyLookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  } else if (typeof options === 'number') {
    options = { family: options };
  }
  const opts = options || {};
  dns.lookup(hostname, { ...opts, all: true }, (err, addresses) => {
    if (err) return callback(err);
    const allowed = addresses.filter((a) => !isBlockedAddress(a.address));
    if (allowed.length === 0) {
      // dns.lookup('') succeeds with no addresses at all.
      const first = addresses.length ? addresses[0].address : 'no address';
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

module.exports = { isBlockedAddress, literalHostBlocked, policyLookup };
