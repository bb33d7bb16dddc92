/**
 * The top reasons of deferrals and bounces: the runbook's `grep 'said:'`, classified. Outcomes are
 * grouped by status, class, DSN and the provider that answered (relay_provider; `other` for
 * carriers' own servers, so one cause spread over a thousand small domains is one row), with a
 * sample of what the server said. Mail to the firm's own domains is left out, as everywhere.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';

export interface ReasonRow {
  status: 'deferred' | 'bounced';
  class: string;
  dsn: string | null;
  provider: string;
  count: number;
  /** What the remote server said (after `said:`), or Postfix's own words; untrusted text. */
  said: string;
}

export interface ReasonSets {
  /** The last day of the range with a deferral or bounce, or null. */
  lastDay: string | null;
  lastDayRows: ReasonRow[];
  periodRows: ReasonRow[];
}

/** Most reasons kept per status. */
export const TOP_REASONS = 8;
/** Characters of a sample kept: enough to read a provider's reply and its help link. */
const SAMPLE_CHARS = 300;

export async function topReasons(db: Kysely<Database>, from: string, to: string, limit = TOP_REASONS): Promise<ReasonRow[]> {
  const r = await sql<{ status: 'deferred' | 'bounced'; class: string; dsn: string | null; provider: string; n: number; sample: string }>`
    select status, class, dsn, provider, n, sample from (
      select e.status, e.class, e.dsn, coalesce(e.relay_provider, 'other') as provider, count(*)::bigint as n, min(e.reason) as sample,
             row_number() over (partition by e.status order by count(*) desc, e.class, e.dsn, coalesce(e.relay_provider, 'other')) as rk
      from delivery_events e
      where e.day between ${from}::date and ${to}::date and not e.own_domain and e.status in ('deferred', 'bounced')
      group by e.status, e.class, e.dsn, coalesce(e.relay_provider, 'other')
    ) x where rk <= ${limit}::int
    order by status desc, n desc, class, dsn, provider`.execute(db);
  return r.rows.map((x) => ({ status: x.status, class: x.class, dsn: x.dsn, provider: x.provider, count: x.n, said: saidText(x.sample) }));
}

/** The part of a Postfix reason a person greps for: the server's reply after `said:`, else the whole text. */
export function saidText(reason: string): string {
  const i = reason.indexOf(' said: ');
  const text = (i >= 0 ? reason.slice(i + 7) : reason).trim();
  return text.length > SAMPLE_CHARS ? `${text.slice(0, SAMPLE_CHARS - 1)}…` : text;
}

export async function reasonSets(db: Kysely<Database>, from: string, to: string): Promise<ReasonSets> {
  const last = await sql<{ day: string | null }>`
    select max(day) as day from delivery_events
    where day between ${from}::date and ${to}::date and not own_domain and status in ('deferred', 'bounced')`.execute(db);
  const lastDay = last.rows[0]?.day ?? null;
  return {
    lastDay,
    lastDayRows: lastDay ? await topReasons(db, lastDay, lastDay) : [],
    periodRows: await topReasons(db, from, to),
  };
}
