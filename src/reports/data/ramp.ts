/**
 * The ramp: per day, the warmup cap, what the build pushed (by segment) and what Postfix then did
 * with mail outside the firm's domains. A day is over the cap when either the pushes or the mail
 * Postfix finished with (sent, bounced or expired: deferrals are retries, not volume) exceed it;
 * the cap is the IP's daily volume, whichever stream sends it.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { ledgerCountsByDay } from '../../push/ledger.ts';
import { healthByDay } from '../../maillog/views.ts';
import { capForDay, warmupDay } from '../../warmup/ramp.ts';
import type { WarmupStart } from '../../warmup/start.ts';
import type { ReportRange } from '../range.ts';

export interface RampDay {
  date: string;
  /** Null without a warmup start (the cap is then unknown). */
  warmupDay: number | null;
  cap: number | null;
  ceiling: number;
  /** Reserved or pushed for the date, per segment: what counts against its cap. */
  pushed: Record<string, number>;
  pushedTotal: number;
  /** Of pushedTotal, reserved and not yet confirmed by Listmonk. */
  reserved: number;
  /** Refused by Listmonk (not counted against the cap). */
  refused: number;
  sent: number;
  deferred: number;
  bounced: number;
  expired: number;
  /** sent + bounced + expired: the mail Postfix finished with that day. */
  finished: number;
  overCap: boolean;
  overCeiling: boolean;
}

export async function rampSeries(db: Kysely<Database>, config: Config, start: WarmupStart | null, range: ReportRange, segments: readonly string[]): Promise<RampDay[]> {
  const ledger = await ledgerCountsByDay(db, range.from, range.to);
  const health = new Map((await healthByDay(db, range.from, range.to)).map((h) => [h.day, h]));
  const ceiling = config.warmup.hardCeiling;
  return range.days.map((date) => {
    const day = start ? warmupDay(start, date) : null;
    const cap = day === null ? null : capForDay(config.warmup, day).daily;
    const counts = ledger.get(date) ?? {};
    const names = [...segments, ...Object.keys(counts).filter((s) => !segments.includes(s)).sort()];
    const pushed = Object.fromEntries(names.map((s) => [s, (counts[s]?.pushed ?? 0) + (counts[s]?.reserved ?? 0)]));
    const pushedTotal = Object.values(pushed).reduce((a, b) => a + b, 0);
    const h = health.get(date);
    const sent = h?.sent ?? 0;
    const bounced = h?.bounced ?? 0;
    const expired = h?.expired ?? 0;
    const finished = sent + bounced + expired;
    return {
      date,
      warmupDay: day,
      cap,
      ceiling,
      pushed,
      pushedTotal,
      reserved: Object.values(counts).reduce((n, c) => n + c.reserved, 0),
      refused: Object.values(counts).reduce((n, c) => n + c.failed, 0),
      sent,
      deferred: h?.deferred ?? 0,
      bounced,
      expired,
      finished,
      overCap: cap !== null && (pushedTotal > cap || finished > cap),
      overCeiling: pushedTotal > ceiling || finished > ceiling,
    };
  });
}
