/**
 * DKIM coverage of campaign mail per day, in total (maillog_daily_health, what `status` and the
 * DKIM hold read) and per Listmonk stream (maillog_stream_daily): one stream's signing can break
 * while another's holds the total up. A day is below when its coverage is under the minimum; the
 * hold itself judges only days with at least `dkimMinMessages` campaign messages, so fewer are
 * marked as too few to judge.
 */
import { sql, type Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { healthByDay } from '../../maillog/views.ts';
import type { ReportRange } from '../range.ts';

export interface Coverage {
  messages: number;
  signed: number;
  /** signed / messages; null without campaign mail. */
  coverage: number | null;
}

export interface DkimDay extends Coverage {
  date: string;
  streams: Record<string, Coverage>;
  /** Coverage under the minimum. */
  below: boolean;
  /** Fewer campaign messages than the hold judges (dkimMinMessages). */
  tooFew: boolean;
}

export interface DkimSeries {
  minimum: number;
  minMessages: number;
  streams: string[];
  days: DkimDay[];
}

const coverageOf = (messages: number, signed: number): Coverage => ({ messages, signed, coverage: messages > 0 ? signed / messages : null });

export async function dkimSeries(db: Kysely<Database>, config: Config, range: ReportRange): Promise<DkimSeries> {
  const { dkimCoverageMin: minimum, dkimMinMessages: minMessages } = config.maillog;
  const totals = new Map((await healthByDay(db, range.from, range.to)).map((h) => [h.day, h]));
  const r = await sql<{ day: string; stream: string; messages: number; signed: number }>`
    select day, stream, campaign_messages as messages, dkim_signed as signed from maillog_stream_daily
    where day between ${range.from}::date and ${range.to}::date order by stream`.execute(db);
  const streams = [...new Set(r.rows.map((x) => x.stream))];
  const days = range.days.map((date): DkimDay => {
    const h = totals.get(date);
    const total = coverageOf(h?.campaignMessages ?? 0, h?.dkimSigned ?? 0);
    const perStream = Object.fromEntries(r.rows.filter((x) => x.day === date).map((x) => [x.stream, coverageOf(x.messages, x.signed)]));
    return {
      date,
      ...total,
      streams: perStream,
      below: total.coverage !== null && total.coverage < minimum,
      tooFew: total.messages > 0 && total.messages < minMessages,
    };
  });
  return { minimum, minMessages, streams, days };
}
