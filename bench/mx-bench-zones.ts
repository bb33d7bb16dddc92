/**
 * The benchmark's synthetic domain universe, deterministic from N: a realistic provider mix
 * (Google and Microsoft hosted, Yahoo-hosted, self-hosted MX), dead domains (NXDOMAIN, null MX) and
 * a share of domains whose resolver answers SERVFAIL (transient: they must come out unknown).
 */
import type { Zones } from '../test/helpers/dns-server.ts';

export type BenchKind = 'google' | 'microsoft365' | 'yahoo' | 'self' | 'nxdomain' | 'nullmx' | 'servfail';

/** Share per 100 domains. */
const MIX: ReadonlyArray<readonly [BenchKind, number]> = [
  ['google', 45],
  ['microsoft365', 20],
  ['yahoo', 5],
  ['self', 22],
  ['nxdomain', 4],
  ['nullmx', 3],
  ['servfail', 1],
];

export function benchDomains(n: number): { domain: string; kind: BenchKind }[] {
  const slots = MIX.flatMap(([k, share]) => Array<BenchKind>(share).fill(k));
  return Array.from({ length: n }, (_, i) => ({ domain: `carrier-${i}.bench.test`, kind: slots[(i * 37) % slots.length]! }));
}

export function benchZones(n: number): Zones {
  const zones: Zones = {
    'aspmx.l.google.com': { A: ['142.250.1.26'] },
    'alt1.aspmx.l.google.com': { A: ['142.250.1.27'] },
    'mta5.am0.yahoodns.net': { A: ['67.195.204.72'] },
    'mta6.am0.yahoodns.net': { A: ['67.195.204.73'] },
    // The check-mx stage's default canaries: the bench resolver is a working one.
    'gmail.com': { MX: [[5, 'aspmx.l.google.com']] },
    'outlook.com': { MX: [[5, 'outlook-com.olc.protection.outlook.com']] },
  };
  for (const { domain, kind } of benchDomains(n)) {
    const key = domain.replace(/\./g, '-');
    switch (kind) {
      case 'google':
        zones[domain] = { MX: [[1, 'aspmx.l.google.com'], [5, 'alt1.aspmx.l.google.com']] };
        break;
      case 'microsoft365':
        zones[domain] = { MX: [[0, `${key}.mail.protection.outlook.com`]] };
        zones[`${key}.mail.protection.outlook.com`] = { A: ['52.101.40.29'] };
        break;
      case 'yahoo':
        zones[domain] = { MX: [[1, 'mta5.am0.yahoodns.net'], [1, 'mta6.am0.yahoodns.net']] };
        break;
      case 'self':
        zones[domain] = { MX: [[10, `mx.${domain}`]] };
        zones[`mx.${domain}`] = { A: ['93.184.216.34'] };
        break;
      case 'nullmx':
        zones[domain] = { MX: [[0, '.']] };
        break;
      case 'servfail':
        zones[domain] = { rcode: 2 };
        break;
      case 'nxdomain':
        break;
    }
  }
  return zones;
}
