import { z } from 'zod';

const hostPort = z.string().regex(/^[^\s:,]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/, 'expected HOST or HOST:PORT');
const dnsName = z
  .string()
  .regex(/^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i, 'expected a DNS name such as gmail.com (no trailing dot)')
  .transform((s) => s.toLowerCase());

/**
 * Names every run asks its name servers before it believes them (src/mx/canaries.ts). A resolver
 * that answers NXDOMAIN for a name that must exist, or answers at all for a name that cannot,
 * would turn every domain dead (or every dead domain alive): the run judges nothing with it.
 */
const canariesSchema = z.strictObject({
  /**
   * Names that exist in every working DNS. null = gmail.com, outlook.com and the firm's own
   * maillog.ownDomains (those under reserved names such as .example or .test are left out: they
   * cannot exist in the public DNS). Set it to names your resolver knows when it serves only an
   * internal zone.
   */
  mustExist: z.array(dnsName).min(1).nullable().default(null),
  /**
   * A random label under this name must be NXDOMAIN. `example` is reserved (RFC 2606) and never
   * delegated, and RFC 6761 §6.5 tells resolvers to resolve it normally (unlike `invalid`, `test`
   * and `localhost`, which they may answer themselves): the NXDOMAIN has to come from the root,
   * so a resolver that rewrites NXDOMAIN is caught.
   */
  mustNotExistUnder: dnsName.default('example'),
});

/** `mx` section: name servers, concurrency and cache lifetimes of the MX liveness check. */
export const mxConfigSchema = z.strictObject({
  /** AUDIENCE_DNS_SERVERS / --dns. Empty = the nameservers of /etc/resolv.conf. */
  dnsServers: z.array(hostPort).default([]),
  concurrency: z.number().int().min(1).max(1024).default(64),
  /** Optional cap on queries per second sent to the resolver (null = no cap). */
  qps: z.number().positive().nullable().default(null),
  /** Deadline of one query attempt (UDP; a TCP retry after truncation gets its own). */
  timeoutMs: z.number().int().min(50).default(2000),
  /**
   * Attempts after the first on a timeout or network error (next server each time, with backoff).
   * A SERVFAIL or REFUSED moves on to another server at once, never to one that already said so.
   */
  retries: z.number().int().min(0).max(10).default(2),
  /** First retry waits about this long; each further retry doubles it (with jitter). */
  backoffMs: z.number().int().min(0).default(100),
  /** Positive verdicts live for the record TTL, bounded to [minTtlSeconds, maxTtlSeconds]. */
  minTtlSeconds: z.number().int().positive().default(86_400),
  maxTtlSeconds: z.number().int().positive().default(7 * 86_400),
  /** A dead verdict is checked again after this long (a lapsed domain may be renewed). */
  deadRecheckHours: z.number().positive().default(24),
  /** An unknown verdict (SERVFAIL, timeout...) is checked again by any run after this long. */
  unknownRecheckMinutes: z.number().positive().default(15),
  /** Unknown on this many distinct days (UTC) with no answer in between becomes `unresolvable`. */
  unresolvableAfterDays: z.number().int().positive().default(7),
  canaries: canariesSchema.prefault({}),
});
export type MxConfig = z.infer<typeof mxConfigSchema>;
