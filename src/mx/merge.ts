/**
 * How a new DNS observation updates a domain's stored verdict (a pure function: the cache writes
 * what it returns). The rules that keep invariant 5 ("a transient failure never turns into a
 * permanent verdict"):
 * - an answer (deliverable or dead) replaces the verdict and ends any unknown streak;
 * - an unknown keeps the last known MX hosts and provider (holds and ordering still work) and
 *   extends the streak, counted in distinct UTC days; only when the streak reaches
 *   mx.unresolvableAfterDays does the domain become `unresolvable`;
 * - an unknown of reason `resolver_untrusted` (the run's resolver failed its canaries) says nothing
 *   about the domain: it keeps the last known hosts and leaves the streak as it was, so a broken
 *   resolver, however many days it stays broken, never makes a domain unresolvable;
 * - expiry: deliverable after the record TTL bounded to [minTtlSeconds, maxTtlSeconds], dead and
 *   unresolvable after deadRecheckHours, unknown after unknownRecheckMinutes.
 */
import type { MxConfig } from './config.ts';
import type { MxDomainRow, MxVerdict } from './tables.ts';
import type { DomainCheck } from './verdict.ts';

export interface StoredVerdict {
  domain: string;
  verdict: MxVerdict;
  reason: string;
  provider: string | null;
  mx_hosts: string[];
  mx_preferences: number[];
  addresses: string[];
  ttl_seconds: number | null;
  checked_at: Date;
  expires_at: Date;
  dead_since: Date | null;
  last_error: string | null;
  unknown_since: Date | null;
  unknown_days: number;
  last_unknown_day: string | null;
  source: 'dns' | 'import';
  run_id: number | null;
}

export type PreviousVerdict = Pick<MxDomainRow, 'verdict' | 'provider' | 'mx_hosts' | 'mx_preferences' | 'addresses' | 'dead_since' | 'unknown_since' | 'unknown_days' | 'last_unknown_day'>;

type ExpiryConfig = Pick<MxConfig, 'minTtlSeconds' | 'maxTtlSeconds' | 'deadRecheckHours' | 'unknownRecheckMinutes'>;

export function expiresAt(verdict: MxVerdict, ttlSeconds: number | null, observedAt: Date, cfg: ExpiryConfig): Date {
  const t = observedAt.getTime();
  switch (verdict) {
    case 'deliverable': {
      const ttl = Math.min(Math.max(ttlSeconds ?? cfg.minTtlSeconds, cfg.minTtlSeconds), cfg.maxTtlSeconds);
      return new Date(t + ttl * 1000);
    }
    case 'dead':
    case 'unresolvable':
      return new Date(t + cfg.deadRecheckHours * 3_600_000);
    case 'unknown':
      return new Date(t + cfg.unknownRecheckMinutes * 60_000);
  }
}

export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function mergeCheck(
  prev: PreviousVerdict | undefined,
  check: DomainCheck,
  ctx: { now: Date; runId: number | null; config: MxConfig },
): StoredVerdict {
  const { now, config } = ctx;
  const base = {
    domain: check.domain,
    reason: check.reason,
    ttl_seconds: check.ttlSeconds,
    checked_at: now,
    last_error: check.error,
    source: 'dns' as const,
    run_id: ctx.runId,
  };
  const observed = { provider: check.provider, mx_hosts: check.mxHosts, mx_preferences: check.mxPreferences, addresses: check.addresses };
  const noStreak = { unknown_since: null, unknown_days: 0, last_unknown_day: null };

  if (check.verdict === 'deliverable')
    return { ...base, ...observed, ...noStreak, verdict: 'deliverable', dead_since: null, expires_at: expiresAt('deliverable', check.ttlSeconds, now, config) };

  if (check.verdict === 'dead') {
    const wasDead = prev && (prev.verdict === 'dead' || prev.verdict === 'unresolvable');
    return { ...base, ...observed, ...noStreak, verdict: 'dead', dead_since: (wasDead && prev.dead_since) || now, expires_at: expiresAt('dead', null, now, config) };
  }

  // Unknown: extend the streak (a day counts once), keep what we knew about the hosts.
  const day = utcDay(now);
  const inStreak = prev && prev.unknown_since !== null && (prev.verdict === 'unknown' || prev.verdict === 'unresolvable');
  const known = check.mxHosts.length || !prev ? observed : { provider: prev.provider, mx_hosts: prev.mx_hosts, mx_preferences: prev.mx_preferences, addresses: prev.addresses };
  const streak =
    check.reason === 'resolver_untrusted'
      ? inStreak
        ? { unknown_since: prev.unknown_since, unknown_days: prev.unknown_days, last_unknown_day: prev.last_unknown_day }
        : noStreak
      : { unknown_since: inStreak ? prev.unknown_since : now, unknown_days: inStreak ? prev.unknown_days + (prev.last_unknown_day === day ? 0 : 1) : 1, last_unknown_day: day };
  const verdict: MxVerdict = streak.unknown_days >= config.unresolvableAfterDays ? 'unresolvable' : 'unknown';
  return {
    ...base,
    ...known,
    ...streak,
    verdict,
    ttl_seconds: null,
    dead_since: verdict === 'unresolvable' ? (prev?.verdict === 'unresolvable' && prev.dead_since) || now : null,
    expires_at: expiresAt(verdict, null, now, config),
  };
}
