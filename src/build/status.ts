/**
 * What `audience status` reads: the date's cap use from the push ledger, the lists and campaigns
 * of the date, and the bounce scrub's tables (holds, daily health, suppressions).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { addDays } from '../warmup/calendar.ts';
import { activeHoldsAt } from './gates.ts';

export async function holdsView(db: Kysely<Database>, now: Date) {
  return (await activeHoldsAt(db, now)).map((h) => ({
    scope: h.scope,
    provider: h.provider,
    domain: h.domain,
    mxHost: h.mx_host,
    reason: h.reason,
    detail: h.detail,
    since: h.starts_at.toISOString(),
    until: h.until.toISOString(),
  }));
}

export interface DeliveryMix {
  from: string;
  to: string;
  sent: number;
  deferred: number;
  bounced: number;
  expired: number;
  /** Mail to the firm's own domains (e.g. a cron to a dead local address), reported apart. */
  ownDomainFailed: number;
  byClass: Record<string, number>;
}

export interface DkimCoverage {
  /** Campaign messages seen in the window, and how many opendkim signed. */
  campaignMessages: number;
  signed: number;
  /** signed / campaignMessages; null with no campaign mail in the window. */
  ratio: number | null;
  minimum: number;
  ok: boolean | null;
}

/** Delivery mix and DKIM coverage of the 7 days ending on `today` (maillog_daily_health). */
export async function recentDelivery(db: Kysely<Database>, today: string, dkimMin: number): Promise<{ mix: DeliveryMix; dkim: DkimCoverage }> {
  const from = addDays(today, -6);
  const r = await sql<{ sent: number; deferred: number; bounced: number; expired: number; own_failed: number; campaign: number; signed: number }>`
    select coalesce(sum(sent), 0)::bigint as sent, coalesce(sum(deferred), 0)::bigint as deferred,
           coalesce(sum(bounced), 0)::bigint as bounced, coalesce(sum(expired), 0)::bigint as expired,
           coalesce(sum(own_domain_failed), 0)::bigint as own_failed,
           coalesce(sum(campaign_messages), 0)::bigint as campaign, coalesce(sum(dkim_signed), 0)::bigint as signed
    from maillog_daily_health where day between ${from}::date and ${today}::date`.execute(db);
  const cls = await sql<{ k: string; n: number }>`
    select e.key as k, sum(e.value::bigint)::bigint as n
    from maillog_daily_health h cross join lateral jsonb_each_text(h.by_class) e
    where h.day between ${from}::date and ${today}::date and e.value ~ '^[0-9]+$'
    group by e.key order by n desc`.execute(db);
  const t = r.rows[0]!;
  const ratio = t.campaign > 0 ? t.signed / t.campaign : null;
  return {
    mix: { from, to: today, sent: t.sent, deferred: t.deferred, bounced: t.bounced, expired: t.expired, ownDomainFailed: t.own_failed, byClass: Object.fromEntries(cls.rows.map((c) => [c.k, c.n])) },
    dkim: { campaignMessages: t.campaign, signed: t.signed, ratio: ratio === null ? null : Math.round(ratio * 10_000) / 10_000, minimum: dkimMin, ok: ratio === null ? null : ratio >= dkimMin },
  };
}

/** Active suppressions by kind and reason. */
export async function suppressionCounts(db: Kysely<Database>, now: Date) {
  const r = await sql<{ kind: string; reason: string; n: number }>`
    select kind, reason, count(*)::int as n from suppressions
    where lifted_at is null and (expires_at is null or expires_at > ${now}::timestamptz)
    group by kind, reason order by kind, reason`.execute(db);
  const out = { address: 0, domain: 0, byReason: {} as Record<string, number> };
  for (const row of r.rows) {
    if (row.kind === 'address' || row.kind === 'domain') out[row.kind] += row.n;
    out.byReason[`${row.kind}:${row.reason}`] = row.n;
  }
  return out;
}
