/**
 * Resolver canaries: before a check-mx run believes its name servers, it asks each of them, on its
 * own, about names whose answer is known: a few names that must exist (MX query: NOERROR expected)
 * and a fresh random label under a name that cannot exist (MX and A queries: NXDOMAIN expected).
 * A captive or misconfigured resolver that answers NXDOMAIN for everything would make every domain
 * dead; one that rewrites NXDOMAIN into an address (the ad-page resolvers of some ISPs) would make
 * every dead domain deliverable. Either way the server is not trusted.
 *
 * A server is trusted only when every probe got the expected answer. `lied` (an answer that
 * contradicts a known fact) is worse than `no_answer` (SERVFAIL, REFUSED, timeout): a silent server
 * cannot produce a dead verdict, but it cannot vouch for the absence of a name either.
 *
 * `audience doctor` reuses checkResolver() as is.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import { createResolver, DnsTransientError, RCODE, serverLabel, type NameServer, type QueryType, type ResolverOptions } from './resolver.ts';
import { resolveNameServers } from './servers.ts';
import { rcodeName } from './verdict.ts';

export interface CanaryNames {
  mustExist: readonly string[];
  /** The parent of the random label, e.g. `example`. */
  mustNotExistUnder: string;
}

export interface CanaryProbe {
  name: string;
  type: QueryType;
  expect: 'exists' | 'absent';
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED... or `timeout` / `network` when nothing came back. */
  got: string;
  ok: boolean;
  /** How long the answer (or the giving up) took, retries included: the server's latency for `doctor`. */
  ms: number;
}

export type CanaryStatus = 'trusted' | 'lied' | 'no_answer';

export interface ServerCanaries {
  server: string;
  status: CanaryStatus;
  probes: CanaryProbe[];
}

export interface CanaryReport {
  /** The servers whose every probe got the expected answer, in the order given. */
  trusted: NameServer[];
  servers: ServerCanaries[];
}

/** Top-level names no public DNS delegates (RFC 2606, RFC 6761, RFC 6762, RFC 7686, RFC 9476). */
const RESERVED_TLDS = new Set(['example', 'test', 'invalid', 'localhost', 'local', 'onion', 'alt']);

export function isReservedName(name: string): boolean {
  return RESERVED_TLDS.has(name.slice(name.lastIndexOf('.') + 1));
}

/** The canary names of a configuration: mx.canaries, or its defaults (see src/mx/config.ts). */
export function canaryNames(config: Pick<Config, 'mx' | 'maillog'>): CanaryNames {
  const c = config.mx.canaries;
  const own = config.maillog.ownDomains.map((d) => d.trim().toLowerCase().replace(/\.+$/, '')).filter((d) => d && !isReservedName(d));
  return { mustExist: c.mustExist ?? [...new Set(['gmail.com', 'outlook.com', ...own])], mustNotExistUnder: c.mustNotExistUnder };
}

type ProbeOptions = Pick<ResolverOptions, 'timeoutMs' | 'retries' | 'backoffMs'>;

/**
 * Asks every server, each on its own, the canary questions (all at once). A fresh random label per
 * call: no cache, ours or the resolver's, can answer it.
 */
export async function checkCanaries(servers: readonly NameServer[], names: CanaryNames, opts: ProbeOptions): Promise<CanaryReport> {
  const absent = `audience-canary-${randomBytes(6).toString('hex')}.${names.mustNotExistUnder}`;
  const questions: Omit<CanaryProbe, 'got' | 'ok' | 'ms'>[] = [
    ...names.mustExist.map((name) => ({ name, type: 'MX' as const, expect: 'exists' as const })),
    { name: absent, type: 'MX', expect: 'absent' },
    { name: absent, type: 'A', expect: 'absent' },
  ];
  const results = await Promise.all(
    servers.map(async (server): Promise<ServerCanaries> => {
      const resolver = createResolver({ servers: [server], qps: null, ...opts });
      try {
        const probes = await Promise.all(
          questions.map(async (q) => {
            const t0 = performance.now();
            const got = await ask(resolver.query(q.name, q.type));
            return judge(q, got, Math.round(performance.now() - t0));
          }),
        );
        const status: CanaryStatus = probes.some((p) => !p.ok && isAnswer(p.got)) ? 'lied' : probes.every((p) => p.ok) ? 'trusted' : 'no_answer';
        return { server: serverLabel(server), status, probes };
      } finally {
        resolver.close();
      }
    }),
  );
  return { trusted: servers.filter((_, i) => results[i]!.status === 'trusted'), servers: results };
}

/**
 * The canaries of the configured name servers: what `audience doctor` prints. `probe` overrides
 * the configured timeout and retries (doctor keeps each check short).
 */
export async function checkResolver(config: Pick<Config, 'mx' | 'maillog'>, probe: Partial<ProbeOptions> = {}): Promise<CanaryReport> {
  const m = config.mx;
  return checkCanaries(resolveNameServers(m.dnsServers), canaryNames(config), { timeoutMs: m.timeoutMs, retries: m.retries, backoffMs: m.backoffMs, ...probe });
}

async function ask(p: Promise<{ rcode: number }>): Promise<string> {
  try {
    return rcodeName((await p).rcode);
  } catch (e) {
    return e instanceof DnsTransientError ? e.kind : 'network';
  }
}

function isAnswer(got: string): boolean {
  return got === rcodeName(RCODE.NOERROR) || got === rcodeName(RCODE.NXDOMAIN);
}

function judge(q: Omit<CanaryProbe, 'got' | 'ok' | 'ms'>, got: string, ms: number): CanaryProbe {
  const want = q.expect === 'exists' ? rcodeName(RCODE.NOERROR) : rcodeName(RCODE.NXDOMAIN);
  return { ...q, got, ok: got === want, ms };
}

/** One line per server that failed: what it was asked, what it answered. */
export function describeFailures(report: CanaryReport): string[] {
  return report.servers
    .filter((s) => s.status !== 'trusted')
    .map((s) => {
      const bad = s.probes
        .filter((p) => !p.ok)
        .map((p) => `${p.type} ${p.name} -> ${p.got} (${p.expect === 'exists' ? 'this name exists' : 'this name cannot exist'})`);
      return `${s.server} ${s.status === 'lied' ? 'answered wrongly' : 'did not answer'}: ${bad.join('; ')}`;
    });
}

/** What to do about untrusted servers, for the error message of a run. */
export function canaryFix(serversFrom: 'flags or config' | 'resolv.conf'): string {
  const where =
    serversFrom === 'resolv.conf'
      ? 'The servers came from /etc/resolv.conf: fix it, or point check-mx at a working resolver with --dns HOST:PORT or AUDIENCE_DNS_SERVERS (e.g. AUDIENCE_DNS_SERVERS=127.0.0.1:53 for a local unbound).'
      : 'Point check-mx at a resolver that answers correctly: --dns HOST:PORT, AUDIENCE_DNS_SERVERS or mx.dnsServers (e.g. AUDIENCE_DNS_SERVERS=127.0.0.1:53 for a local unbound).';
  return `${where} If this network's resolver only knows internal names, set mx.canaries.mustExist to names it serves. To see what a server answers: dig @HOST -p PORT gmail.com MX.`;
}
