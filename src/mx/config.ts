import { z } from 'zod';

const hostPort = z.string().regex(/^[^\s:,]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/, 'expected HOST or HOST:PORT');

/** `mx` section: name servers, concurrency and cache lifetimes of the MX liveness check. */
export const mxConfigSchema = z.strictObject({
  /** AUDIENCE_DNS_SERVERS / --dns. Empty = the nameservers of /etc/resolv.conf. */
  dnsServers: z.array(hostPort).default([]),
  concurrency: z.number().int().min(1).max(1024).default(64),
  /** Optional cap on queries per second sent to the resolver (null = no cap). */
  qps: z.number().positive().nullable().default(null),
  timeoutMs: z.number().int().min(50).default(2000),
  retries: z.number().int().min(0).max(10).default(2),
  /** Positive verdicts live for the record TTL, bounded to [minTtlSeconds, maxTtlSeconds]. */
  minTtlSeconds: z.number().int().positive().default(86_400),
  maxTtlSeconds: z.number().int().positive().default(7 * 86_400),
  deadRecheckHours: z.number().positive().default(24),
  unknownRecheckMinutes: z.number().positive().default(15),
  /** Unknown on this many distinct days in a row becomes `unresolvable`. */
  unresolvableAfterDays: z.number().int().positive().default(7),
});
export type MxConfig = z.infer<typeof mxConfigSchema>;
