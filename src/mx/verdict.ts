/**
 * Can a domain receive mail? The decision table, over the resolver:
 * - deliverable: MX hosts of which at least one resolves to a public address, or no MX (NODATA) but
 *   the domain itself has a public A/AAAA (the implicit MX of RFC 5321 §5.1);
 * - dead (with a reason): NXDOMAIN, null MX (RFC 7505), no MX and no address, every MX host missing
 *   or resolving only to loopback/private/bogon space;
 * - unknown: SERVFAIL, REFUSED, timeout, network error — on the MX query, or on every host lookup
 *   that could have made the domain deliverable. Unknown is never dead.
 */
import { isIpLiteral, isPublicAddress } from './addresses.ts';
import { lowestPreferenceHosts, normalizeHost, providerOfMxHosts, type MxRecord, type Provider } from './providers.ts';
import { DnsTransientError, Packet, RCODE, type DnsRecord, type DnsReply, type Resolver } from './resolver.ts';

export type CheckVerdict = 'deliverable' | 'dead' | 'unknown';
export type CheckReason =
  | 'mx'
  | 'implicit_mx'
  | 'ip_literal_mx'
  | 'nxdomain'
  | 'null_mx'
  | 'no_mx_no_address'
  | 'mx_hosts_missing'
  | 'mx_hosts_bogon'
  | 'implicit_mx_bogon'
  | 'servfail'
  | 'refused'
  | 'timeout'
  | 'network'
  | 'bad_rcode'
  /** Not asked, or the answer not believed: the run's name server failed its canaries. */
  | 'resolver_untrusted';

export interface DomainCheck {
  domain: string;
  verdict: CheckVerdict;
  reason: CheckReason;
  /** From the lowest-preference MX hosts; null when there are none (NXDOMAIN, null MX, unknown). */
  provider: Provider | null;
  /** Every MX host, by preference then name (implicit MX: the domain itself at preference 0). */
  mxHosts: string[];
  mxPreferences: number[];
  /** Addresses of the MX hosts that were resolved (all of them for a dead verdict). */
  addresses: string[];
  /** Smallest TTL of the records the verdict rests on (null when none). */
  ttlSeconds: number | null;
  /** For unknown and dead verdicts: what exactly the DNS said, with the server. */
  error: string | null;
}

type HostStatus = 'public' | 'bogon' | 'missing' | 'transient';
interface HostResult {
  status: HostStatus;
  addresses: string[];
  ttl: number | null;
  /** Set when status is transient. */
  failure: Pick<DomainCheck, 'reason' | 'error'> | null;
}

/**
 * Host lookups shared by every domain of one run: most domains point at a handful of providers'
 * MX hosts, so each host is resolved once (in-flight lookups are shared too).
 */
export type HostCache = Map<string, Promise<HostResult>>;
export function createHostCache(): HostCache {
  return new Map();
}

const MX = Packet.TYPE.MX;
const A = Packet.TYPE.A;
const AAAA = Packet.TYPE.AAAA;

export async function checkDomain(resolver: Resolver, rawDomain: string, hosts: HostCache = createHostCache()): Promise<DomainCheck> {
  const domain = normalizeHost(rawDomain);
  const base = { domain, provider: null, mxHosts: [], mxPreferences: [], addresses: [], ttlSeconds: null, error: null };
  let reply: DnsReply;
  try {
    reply = await resolver.query(domain, 'MX');
  } catch (e) {
    return { ...base, ...transient(e) };
  }
  const rc = rcodeVerdict(reply, `MX ${domain}`);
  if (rc) return { ...base, ...rc };

  const records = reply.answers.filter((r) => r.type === MX);
  if (!records.length) return implicitMx(resolver, domain, reply);

  // RFC 7505: a null MX is a single record `0 .` (dns2 decodes the root as ''). Null records next to
  // real ones are a misconfiguration; the real ones still route mail.
  const real: MxRecord[] = records
    .map((r) => ({ exchange: normalizeHost(r.exchange ?? ''), priority: r.priority ?? 0 }))
    .filter((r) => r.exchange !== '');
  if (!real.length) return { ...base, verdict: 'dead', reason: 'null_mx', ttlSeconds: minTtl(records), error: `MX ${domain}: null MX (0 .): the domain accepts no mail` };

  const sorted = dedupeRecords(real);
  const provider = providerOfMxHosts(lowestPreferenceHosts(sorted));
  const withMx = { ...base, provider, mxHosts: sorted.map((r) => r.exchange), mxPreferences: sorted.map((r) => r.priority) };
  const glue = glueFrom(reply.additionals);

  // Lowest preference first: when one of those is public (the usual case) we are done.
  const byPreference = [...new Set(sorted.map((r) => r.priority))];
  const results: [string, HostResult][] = [];
  for (const pref of byPreference) {
    const group = sorted.filter((r) => r.priority === pref).map((r) => r.exchange);
    const resolved = await Promise.all(group.map(async (h) => [h, await lookupHost(resolver, h, glue, hosts)] as [string, HostResult]));
    results.push(...resolved);
    if (resolved.some(([, r]) => r.status === 'public')) break;
  }
  const addresses = [...new Set(results.flatMap(([, r]) => r.addresses))];
  const ttl = minOf([minTtl(records), ...results.map(([, r]) => r.ttl)]);
  const publicHosts = results.filter(([, r]) => r.status === 'public');
  if (publicHosts.length) {
    const literal = publicHosts.every(([h]) => isIpLiteral(h));
    return { ...withMx, verdict: 'deliverable', reason: literal ? 'ip_literal_mx' : 'mx', addresses, ttlSeconds: ttl };
  }
  const failed = results.filter(([, r]) => r.status === 'transient');
  if (failed.length) {
    const [host, r] = failed[0]!;
    return { ...withMx, verdict: 'unknown', reason: r.failure!.reason, addresses, ttlSeconds: null, error: `MX host ${host}: ${r.failure!.error}` };
  }
  const bogon = results.filter(([, r]) => r.status === 'bogon');
  if (bogon.length)
    return {
      ...withMx,
      verdict: 'dead',
      reason: 'mx_hosts_bogon',
      addresses,
      ttlSeconds: ttl,
      error: `no MX host is reachable from the Internet: ${results.map(([h, r]) => `${h} -> ${r.addresses.join(' ') || 'no address'}`).join('; ')}`,
    };
  return { ...withMx, verdict: 'dead', reason: 'mx_hosts_missing', addresses, ttlSeconds: ttl, error: `no MX host has an address: ${results.map(([h]) => h).join(', ')}` };
}

/** NODATA on MX: the domain itself is the mail host when it has an address (RFC 5321 §5.1). */
async function implicitMx(resolver: Resolver, domain: string, mxReply: DnsReply): Promise<DomainCheck> {
  const base = { domain, provider: null, mxHosts: [], mxPreferences: [], addresses: [], ttlSeconds: null, error: null };
  const [a, aaaa] = await Promise.all([settle(resolver.query(domain, 'A')), settle(resolver.query(domain, 'AAAA'))]);
  const addrs: string[] = [];
  let ttl: number | null = null;
  let failure: Pick<DomainCheck, 'verdict' | 'reason' | 'error'> | null = null;
  for (const [r, type] of [
    [a, A],
    [aaaa, AAAA],
  ] as const) {
    if (r instanceof Error) {
      failure ??= transient(r);
      continue;
    }
    const rc = rcodeVerdict(r, `${type === A ? 'A' : 'AAAA'} ${domain}`);
    if (rc && rc.verdict === 'unknown') {
      failure ??= rc;
      continue;
    }
    const found = r.answers.filter((x) => x.type === type && x.address);
    addrs.push(...found.map((x) => x.address!));
    ttl = minOf([ttl, minTtl(found)]);
  }
  const addresses = [...new Set(addrs)];
  if (addresses.some(isPublicAddress))
    return { ...base, verdict: 'deliverable', reason: 'implicit_mx', provider: providerOfMxHosts([domain]), mxHosts: [domain], mxPreferences: [0], addresses, ttlSeconds: ttl };
  if (failure) return { ...base, addresses, ...failure };
  if (addresses.length)
    return { ...base, verdict: 'dead', reason: 'implicit_mx_bogon', addresses, ttlSeconds: ttl, error: `no MX, and ${domain} resolves only to non-public addresses: ${addresses.join(' ')}` };
  return { ...base, verdict: 'dead', reason: 'no_mx_no_address', ttlSeconds: minOf([negativeTtl(mxReply)]), error: `${domain} has no MX and no A/AAAA record` };
}

async function lookupHost(resolver: Resolver, host: string, glue: Map<string, DnsRecord[]>, cache: HostCache): Promise<HostResult> {
  if (isIpLiteral(host)) {
    const ip = host.replace(/^\[|\]$/g, '');
    return { status: isPublicAddress(ip) ? 'public' : 'bogon', addresses: [ip], ttl: null, failure: null };
  }
  // Recursive resolvers add the MX hosts' addresses to the additional section when they have them:
  // using them saves a round trip per domain. Only records named exactly after the host count.
  const fromGlue = glue.get(host);
  if (fromGlue?.length) return classify(fromGlue.map((r) => r.address!), minTtl(fromGlue), null);
  let pending = cache.get(host);
  if (!pending) {
    pending = resolveHost(resolver, host);
    cache.set(host, pending);
  }
  return pending;
}

async function resolveHost(resolver: Resolver, host: string): Promise<HostResult> {
  const a = await settle(resolver.query(host, 'A'));
  const aAddrs = a instanceof Error ? [] : a.answers.filter((r) => r.type === A && r.address);
  if (aAddrs.some((r) => isPublicAddress(r.address!))) return classify(aAddrs.map((r) => r.address!), minTtl(aAddrs), null);
  // No public IPv4: an IPv6-only mail host is still reachable.
  const aaaa = await settle(resolver.query(host, 'AAAA'));
  const v6 = aaaa instanceof Error ? [] : aaaa.answers.filter((r) => r.type === AAAA && r.address);
  const all = [...aAddrs, ...v6];
  if (all.some((r) => isPublicAddress(r.address!))) return classify(all.map((r) => r.address!), minTtl(all), null);
  const failure = lookupFailure(a, `A ${host}`) ?? lookupFailure(aaaa, `AAAA ${host}`);
  return classify(
    all.map((r) => r.address!),
    minTtl(all),
    failure,
  );
}

function classify(addresses: string[], ttl: number | null, failure: HostResult['failure']): HostResult {
  const unique = [...new Set(addresses)];
  if (unique.some(isPublicAddress)) return { status: 'public', addresses: unique, ttl, failure: null };
  if (failure) return { status: 'transient', addresses: unique, ttl, failure };
  return { status: unique.length ? 'bogon' : 'missing', addresses: unique, ttl, failure: null };
}

/** The transient failure of one lookup, or null when it got an answer (records, NODATA, NXDOMAIN). */
function lookupFailure(r: DnsReply | Error, what: string): HostResult['failure'] {
  if (r instanceof Error) return transient(r);
  const rc = rcodeVerdict(r, what);
  return rc && rc.verdict === 'unknown' ? { reason: rc.reason, error: rc.error } : null;
}

function rcodeVerdict(r: DnsReply, what: string): Pick<DomainCheck, 'verdict' | 'reason' | 'error'> | null {
  if (r.rcode === RCODE.NOERROR) return null;
  if (r.rcode === RCODE.NXDOMAIN) return { verdict: 'dead', reason: 'nxdomain', error: `${what}: NXDOMAIN from ${r.server}` };
  const reason: CheckReason = r.rcode === RCODE.SERVFAIL ? 'servfail' : r.rcode === RCODE.REFUSED ? 'refused' : 'bad_rcode';
  return { verdict: 'unknown', reason, error: `${what}: ${rcodeName(r.rcode)} from ${r.server}` };
}

function transient(e: unknown): Pick<DomainCheck, 'verdict' | 'reason' | 'error'> {
  if (e instanceof DnsTransientError) return { verdict: 'unknown', reason: e.kind, error: e.message };
  return { verdict: 'unknown', reason: 'network', error: e instanceof Error ? e.message : String(e) };
}

export function rcodeName(rcode: number): string {
  return ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'][rcode] ?? `rcode ${rcode}`;
}

function settle<T>(p: Promise<T>): Promise<T | Error> {
  return p.catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
}

function glueFrom(additionals: DnsRecord[]): Map<string, DnsRecord[]> {
  const m = new Map<string, DnsRecord[]>();
  for (const r of additionals) {
    if ((r.type !== A && r.type !== AAAA) || !r.address) continue;
    const name = normalizeHost(r.name);
    m.set(name, [...(m.get(name) ?? []), r]);
  }
  return m;
}

function dedupeRecords(records: MxRecord[]): MxRecord[] {
  const seen = new Map<string, MxRecord>();
  for (const r of records) {
    const prev = seen.get(r.exchange);
    if (!prev || r.priority < prev.priority) seen.set(r.exchange, r);
  }
  return [...seen.values()].sort((x, y) => x.priority - y.priority || (x.exchange < y.exchange ? -1 : x.exchange > y.exchange ? 1 : 0));
}

function minTtl(records: DnsRecord[]): number | null {
  return records.length ? Math.min(...records.map((r) => r.ttl)) : null;
}

function minOf(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length ? Math.min(...v) : null;
}

/** RFC 2308: the negative-caching TTL is the SOA minimum (capped by the SOA record's own TTL). */
function negativeTtl(r: DnsReply): number | null {
  const soa = r.authorities.find((x) => x.type === Packet.TYPE.SOA);
  return soa ? Math.min(soa.ttl, soa.minimum ?? soa.ttl) : null;
}
