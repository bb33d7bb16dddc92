/**
 * The DNS client of the MX check, on dns2's wire format (Packet), with dns2's gaps closed.
 * - Our own per-query timeout (dns2's class ignores `timeout`, a silent server would cost 10 s).
 * - Retries with exponential backoff and jitter, rotating over the name servers (dns2 ignores
 *   `retries`), for timeouts and network errors: no reply says nothing about the name.
 * - SERVFAIL and REFUSED are a server's definitive answer for this run: resolvers cache resolution
 *   failures (RFC 9520, at least 1 s), so asking the same server again within seconds only repeats
 *   it. They move on at once to a server that has not answered so (no backoff: another resolver is
 *   no busier for it), and when every server has, the reply is returned and the domain is unknown
 *   (never dead), checked again by the next run. NXDOMAIN and NOERROR are answers, never retried.
 * - TCP fallback on a truncated (TC=1) reply, with a deadline (dns2's TCP client has none).
 * - UDP sockets reused for many queries (udp-transport.ts): dns2's UDPClient binds one per query,
 *   which alone costs a third of the CPU budget of a 1,280 domains/s check.
 * - The rcode read from the header: a reply is returned for every rcode, never thrown.
 * - An optional queries-per-second cap shared by every query of the resolver.
 * It only ever talks to the name servers it is given: dns2's defaults are public resolvers.
 */
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import dns2 from 'dns2';
import { ExternalServiceError, UsageError } from '../errors.ts';
import { createRateLimiter, type RateLimiter } from './rate-limit.ts';
import { tcpQuery } from './tcp-query.ts';
import { createUdpTransport } from './udp-transport.ts';

const { Packet } = dns2;
export type DnsPacket = InstanceType<typeof dns2.Packet>;
export type DnsRecord = DnsPacket['answers'][number];
export type QueryType = 'MX' | 'A' | 'AAAA';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface NameServer {
  host: string;
  port: number;
}

export interface DnsReply {
  rcode: number;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  /** Which server answered, for error messages. */
  server: string;
  /** True when the UDP reply was truncated and this one came over TCP. */
  viaTcp: boolean;
}

export type TransientKind = 'timeout' | 'network';

/** Every attempt of a query failed without any reply: a transient failure, never a verdict. */
export class DnsTransientError extends ExternalServiceError {
  readonly kind: TransientKind;
  constructor(kind: TransientKind, message: string, options?: { cause?: unknown }) {
    super('dns', message, { ...options, retryable: true });
    this.kind = kind;
  }
}

export interface ResolverOptions {
  servers: readonly NameServer[];
  /** Deadline of one attempt (UDP, and TCP after truncation, each get it). */
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** First backoff; doubled per retry, with jitter, capped at 10x. */
  backoffMs: number;
  /** Queries per second over the whole resolver; null = no cap. */
  qps: number | null;
}

export interface ResolverStats {
  queries: number;
  attempts: number;
  retries: number;
  timeouts: number;
  tcpFallbacks: number;
}

export interface Resolver {
  query(name: string, type: QueryType): Promise<DnsReply>;
  readonly stats: ResolverStats;
  readonly servers: readonly NameServer[];
  /** Closes the UDP sockets (pending queries fail). Idle sockets never keep the process alive. */
  close(): void;
}

export function serverLabel(s: NameServer): string {
  return isIP(s.host) === 6 ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

export function createResolver(opts: ResolverOptions): Resolver {
  if (!opts.servers.length) throw new UsageError('no DNS name server to ask. Pass --dns HOST:PORT or set AUDIENCE_DNS_SERVERS.');
  const limiter: RateLimiter | null = opts.qps ? createRateLimiter(opts.qps) : null;
  const stats: ResolverStats = { queries: 0, attempts: 0, retries: 0, timeouts: 0, tcpFallbacks: 0 };
  const udp = createUdpTransport();
  // Spread first attempts over the servers; every retry moves to the next one.
  let rotation = 0;

  async function attempt(server: NameServer, name: string, type: QueryType): Promise<DnsReply> {
    if (limiter) await limiter.take();
    stats.attempts++;
    let packet = await udp.query(server.host, server.port, name, type, opts.timeoutMs);
    let viaTcp = false;
    if (packet.header.tc) {
      stats.tcpFallbacks++;
      if (limiter) await limiter.take();
      packet = await tcpQuery(server.host, server.port, name, type, opts.timeoutMs);
      viaTcp = true;
    }
    return {
      rcode: packet.header.rcode,
      answers: packet.answers,
      authorities: packet.authorities,
      additionals: packet.additionals,
      server: serverLabel(server),
      viaTcp,
    };
  }

  async function query(rawName: string, type: QueryType): Promise<DnsReply> {
    const name = rawName.toLowerCase().replace(/\.+$/, '');
    stats.queries++;
    const n = opts.servers.length;
    const first = rotation++ % n;
    let server = first;
    // Bit k set: server k answered SERVFAIL/REFUSED to this query, so it is not asked again. A
    // bitmask (no allocation per query) over the first 31 servers; later ones are never marked.
    let answered = 0;
    let noReply = 0;
    let lastReply: DnsReply | undefined;
    let lastError: unknown;
    for (let i = 0; i <= opts.retries; i++) {
      if (i > 0) {
        // Next server in rotation that has not already given its definitive answer.
        let next = -1;
        for (let k = 1; k <= n; k++) {
          const c = (server + k) % n;
          if (c >= 31 || !(answered & (1 << c))) {
            next = c;
            break;
          }
        }
        if (next < 0) break;
        server = next;
        stats.retries++;
        // Only a missing reply backs off (congestion, a lost packet); see the header for SERVFAIL.
        if (lastError !== undefined) {
          const base = Math.min(opts.backoffMs * 2 ** (noReply - 1), opts.backoffMs * 10);
          await sleep(base / 2 + Math.random() * (base / 2));
        }
      }
      try {
        const reply = await attempt(opts.servers[server]!, name, type);
        if (reply.rcode !== RCODE.SERVFAIL && reply.rcode !== RCODE.REFUSED) return reply;
        lastReply = reply;
        lastError = undefined;
        if (server < 31) answered |= 1 << server;
      } catch (e) {
        if (isTimeout(e)) stats.timeouts++;
        lastError = e;
        noReply++;
      }
    }
    // A SERVFAIL/REFUSED reply says more than a later timeout: prefer it.
    if (lastReply) return lastReply;
    // No server answered at all, so none was skipped: the attempts went to consecutive servers.
    const tried = [...new Set(Array.from({ length: noReply }, (_, k) => serverLabel(opts.servers[(first + k) % n]!)))];
    const kind: TransientKind = isTimeout(lastError) ? 'timeout' : 'network';
    throw new DnsTransientError(
      kind,
      `${type} ${name}: ${kind === 'timeout' ? `no reply within ${opts.timeoutMs}ms` : (lastError as Error)?.message ?? 'network error'} from ${tried.join(', ')} after ${noReply} attempt(s)`,
      { cause: lastError },
    );
  }

  return { query, stats, servers: opts.servers, close: () => udp.close() };
}

function isTimeout(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ETIMEDOUT';
}

export { Packet };
