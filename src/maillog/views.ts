/**
 * The bounce scrub's tables as the reports read them (holds, daily health, delivery mix, DKIM
 * coverage, suppressions): `status`, `doctor` and `audience report` go through these functions
 * rather than querying maillog's tables themselves, so the tables can change with their area.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { addDays } from '../warmup/calendar.ts';
import { activeHoldsAt } from '../push/gates.ts';

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

/** One day of the bounce scrub's daily health (maillog_daily_health), the firm's own mail apart. */
export interface HealthDay {
  day: string;
  sent: number;
  deferred: number;
  bounced: number;
  expired: number;
  ownDomainFailed: number;
  campaignMessages: number;
  dkimSigned: number;
  /** Deferrals, bounces and expiries by class. */
  byClass: Record<string, number>;
}

/** The days from..to (both included) the scrub has health for, in order; days without mail are absent. */
export async function healthByDay(db: Kysely<Database>, from: string, to: string): Promise<HealthDay[]> {
  const r = await sql<{ day: string; sent: number; deferred: number; bounced: number; expired: number; own_failed: number; campaign: number; signed: number; by_class: unknown }>`
    select day, sent, deferred, bounced, expired, own_domain_failed as own_failed, campaign_messages as campaign, dkim_signed as signed, by_class
    from maillog_daily_health where day between ${from}::date and ${to}::date order by day`.execute(db);
  return r.rows.map((h) => ({
    day: h.day,
    sent: h.sent,
    deferred: h.deferred,
    bounced: h.bounced,
    expired: h.expired,
    ownDomainFailed: h.own_failed,
    campaignMessages: h.campaign,
    dkimSigned: h.signed,
    byClass: classCounts(h.by_class),
  }));
}

/** by_class as counts: jsonb written by the scrub, read defensively (a hand-edited row is not a crash). */
function classCounts(v: unknown): Record<string, number> {
  const obj = typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
  const out: Record<string, number> = {};
  if (obj && typeof obj === 'object')
    for (const [k, n] of Object.entries(obj as Record<string, unknown>)) if (typeof n === 'number' && Number.isInteger(n) && n >= 0) out[k] = n;
  return out;
}

/** Delivery mix and DKIM coverage of the 7 days ending on `today` (maillog_daily_health). */
export async function recentDelivery(db: Kysely<Database>, today: string, dkimMin: number): Promise<{ mix: DeliveryMix; dkim: DkimCoverage }> {
  const from = addDays(today, -6);
  const t = { sent: 0, deferred: 0, bounced: 0, expired: 0, ownFailed: 0, campaign: 0, signed: 0 };
  const byClass: Record<string, number> = {};
  for (const h of await healthByDay(db, from, today)) {
    t.sent += h.sent;
    t.deferred += h.deferred;
    t.bounced += h.bounced;
    t.expired += h.expired;
    t.ownFailed += h.ownDomainFailed;
    t.campaign += h.campaignMessages;
    t.signed += h.dkimSigned;
    for (const [k, n] of Object.entries(h.byClass)) byClass[k] = (byClass[k] ?? 0) + n;
  }
  const ratio = t.campaign > 0 ? t.signed / t.campaign : null;
  const classes = Object.entries(byClass).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  return {
    mix: { from, to: today, sent: t.sent, deferred: t.deferred, bounced: t.bounced, expired: t.expired, ownDomainFailed: t.ownFailed, byClass: Object.fromEntries(classes) },
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
