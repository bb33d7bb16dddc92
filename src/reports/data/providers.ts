/**
 * Delivery per day and provider group: the configured provider tiers (Google, Microsoft 365,
 * Outlook consumer by default), the Yahoo family (never mailed: it should read zero), and the rest
 * as `other`. Successes come from the scrub's per-provider counts (maillog_sent_providers); the
 * deferrals, bounces and expiries from delivery_events, attributed the same way: the relay's
 * provider, else the Yahoo-family list by the recipient's domain, else the domain's MX provider
 * (a connection that failed has no relay), else other.
 *
 * The rate is sent / attempts (sent + deferred + bounced + expired): a provider that starts to
 * defer shows before it bounces. Days scrubbed before the per-provider counts existed (0012) have
 * failures but no successes to set them against: their rate is unknown, not zero.
 */
import { sql, type Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { YAHOO_FAMILY_DOMAINS } from '../../email/yahoo-family.ts';
import { healthByDay } from '../../maillog/views.ts';
import type { ReportRange } from '../range.ts';

export const YAHOO_GROUP = 'yahoo';
export const OTHER_GROUP = 'other';

export interface ProviderCounts {
  sent: number;
  deferred: number;
  bounced: number;
  expired: number;
  attempts: number;
  /** sent / attempts; null with no attempt, or on a day without per-provider counts. */
  rate: number | null;
}

export interface ProviderDay {
  date: string;
  /** Whether the day's successes were counted per provider (false: scrubbed before 0012). */
  counted: boolean;
  groups: Record<string, ProviderCounts>;
}

export interface ProviderSeries {
  /** The groups in drawing order: the tiers, then the Yahoo family, then other. */
  groups: string[];
  days: ProviderDay[];
  /** Attempts to the Yahoo family over the range: zero unless something mails it. */
  yahooAttempts: number;
}

export function providerGroups(config: Config): string[] {
  return [...config.build.providerTiers.filter((p) => p !== YAHOO_GROUP && p !== OTHER_GROUP), YAHOO_GROUP, OTHER_GROUP];
}

const yahooList = [...YAHOO_FAMILY_DOMAINS.keys()];

export async function providerSeries(db: Kysely<Database>, config: Config, range: ReportRange): Promise<ProviderSeries> {
  const groups = providerGroups(config);
  const groupOf = (provider: string) => (groups.includes(provider) ? provider : OTHER_GROUP);
  const sent = await sql<{ day: string; provider: string; n: number }>`
    select day, provider, sent as n from maillog_sent_providers where day between ${range.from}::date and ${range.to}::date`.execute(db);
  // Failures grouped by what attributes them; the Yahoo-family list and the MX provider are looked
  // up once per distinct domain whose relay said nothing.
  const failed = await sql<{ day: string; status: 'deferred' | 'bounced' | 'expired'; provider: string; n: number }>`
    with ev as (
      select e.day, e.status, e.domain, e.relay_provider as relay, count(*)::bigint as n
      from delivery_events e
      where e.day between ${range.from}::date and ${range.to}::date and not e.own_domain
      group by e.day, e.status, e.domain, e.relay_provider),
    unresolved as (select distinct domain from ev where relay is null and domain is not null),
    yahoo as (
      select u.domain from unresolved u
      where exists (select 1 from generate_series(1, cardinality(string_to_array(u.domain, '.'))) as i
                    where array_to_string((string_to_array(u.domain, '.'))[i:], '.') = any(${yahooList}::text[]))),
    mx as (
      select dp.domain, min(dp.provider) as provider from domain_providers dp
      where dp.domain in (select domain from unresolved) and dp.provider not in ('other', 'mixed')
      group by dp.domain)
    select ev.day, ev.status, coalesce(ev.relay, case when y.domain is not null then ${YAHOO_GROUP} end, mx.provider, ${OTHER_GROUP}) as provider,
           sum(ev.n)::bigint as n
    from ev left join yahoo y on y.domain = ev.domain left join mx on mx.domain = ev.domain
    group by 1, 2, 3`.execute(db);
  const healthSent = new Map((await healthByDay(db, range.from, range.to)).map((h) => [h.day, h.sent]));
  const countedDays = new Set(sent.rows.map((r) => r.day));

  const empty = (): ProviderCounts => ({ sent: 0, deferred: 0, bounced: 0, expired: 0, attempts: 0, rate: null });
  const byDay = new Map(range.days.map((d) => [d, Object.fromEntries(groups.map((g) => [g, empty()])) as Record<string, ProviderCounts>]));
  for (const r of sent.rows) byDay.get(r.day)![groupOf(r.provider)]!.sent += r.n;
  for (const r of failed.rows) byDay.get(r.day)![groupOf(r.provider)]![r.status] += r.n;
  let yahooAttempts = 0;
  const days = range.days.map((date) => {
    const counted = countedDays.has(date) || (healthSent.get(date) ?? 0) === 0;
    const g = byDay.get(date)!;
    for (const c of Object.values(g)) {
      c.attempts = c.sent + c.deferred + c.bounced + c.expired;
      c.rate = counted && c.attempts > 0 ? c.sent / c.attempts : null;
    }
    yahooAttempts += g[YAHOO_GROUP]!.attempts;
    return { date, counted, groups: g };
  });
  return { groups, days, yahooAttempts };
}
