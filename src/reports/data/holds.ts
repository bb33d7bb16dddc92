/**
 * Holds that were in force at any time in the report's range, lifted or expired ones included
 * (status shows only the active ones): the per-provider chart draws each as a band from its start
 * to its end, with its reason.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { HoldScope } from '../../maillog/tables.ts';
import { localDate } from '../../warmup/calendar.ts';
import type { ReportRange } from '../range.ts';

export interface HoldBand {
  scope: HoldScope;
  /** scope 'provider': the provider held. */
  provider: string | null;
  /** scope 'domain': the receiving domain held, and the mail server that answered (when known). */
  domain: string | null;
  mxHost: string | null;
  reason: string;
  detail: string;
  startsAt: Date;
  /** When it stopped holding (lifted, or its end), or null while it still holds at the report's instant. */
  endedAt: Date | null;
  /** First and last day of the band, clipped to the range (firm's time zone). */
  fromDay: string;
  toDay: string;
  lifted: boolean;
}

export async function holdsInRange(db: Kysely<Database>, range: ReportRange, timeZone: string): Promise<HoldBand[]> {
  const r = await sql<{ scope: HoldScope; provider: string | null; domain: string | null; mx_host: string | null; reason: string; detail: string; starts_at: Date; until: Date; lifted_at: Date | null }>`
    select scope, provider, domain, mx_host, reason, detail, starts_at, until, lifted_at from holds
    where starts_at <= ${range.asOf}::timestamptz and coalesce(least(lifted_at, until), until) > ${range.start}::timestamptz
    order by starts_at, scope, provider, domain, reason`.execute(db);
  return r.rows.map((h) => {
    const end = h.lifted_at && h.lifted_at < h.until ? h.lifted_at : h.until;
    const endedAt = end > range.asOf ? null : end;
    const first = localDate(h.starts_at, timeZone);
    const last = localDate(endedAt ?? range.asOf, timeZone);
    return {
      scope: h.scope,
      provider: h.provider,
      domain: h.domain,
      mxHost: h.mx_host,
      reason: h.reason,
      detail: h.detail,
      startsAt: h.starts_at,
      endedAt,
      fromDay: first < range.from ? range.from : first,
      toDay: last > range.to ? range.to : last,
      lifted: h.lifted_at !== null && h.lifted_at <= range.asOf,
    };
  });
}
