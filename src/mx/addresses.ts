/**
 * Is an MX host's address reachable from the Internet? Addresses in loopback, private, link-local,
 * CGNAT, documentation-only or otherwise reserved space are not: a domain whose every MX host
 * resolves only there cannot receive mail from us (rspamd calls these MX_BOGON). The ranges are the
 * IANA special-purpose registries for IPv4 and IPv6, minus the ones that are globally reachable.
 */
import { BlockList, isIP } from 'node:net';

const V4_BOGONS: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
];

const V6_BOGONS: ReadonlyArray<readonly [string, number]> = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
];

const bogons = new BlockList();
for (const [net, prefix] of V4_BOGONS) bogons.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of V6_BOGONS) bogons.addSubnet(net, prefix, 'ipv6');

/**
 * True for an address a sender on the Internet could connect to. The documentation ranges
 * (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) count as bogons: nothing real
 * listens there, so an MX pointing at them is as dead as one pointing at 10.x.
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !bogons.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return isPublicAddress(mapped[1]!);
    return !bogons.check(address, 'ipv6');
  }
  return false;
}

/** An MX exchange written as an IP address (invalid per RFC 5321, but some senders accept it). */
export function isIpLiteral(host: string): boolean {
  return isIP(host.replace(/^\[|\]$/g, '')) !== 0;
}
