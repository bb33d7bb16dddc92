/**
 * A segment: a named set of active carriers worth writing to on a send date. Each segment is one
 * module in this folder and one line in index.ts; its parameters live in the `segments` config
 * section under its name. The SQL is set-based so the build selects from millions of carriers in
 * one statement.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Config } from '../config.ts';
import type { SegmentsConfig } from './config.ts';

export interface SegmentContext {
  readonly config: Config;
  /** The send date, 'YYYY-MM-DD' in the firm's time zone. */
  readonly date: string;
  /**
   * When set, a relation with a `dot_number` column: the caller needs the segment's verdict on
   * these carriers only (the build asks about the few thousand behind its best-ranked addresses).
   * A segment applies it with amongCarriers() so the planner probes carriers by key instead of
   * judging all of them; ignoring it stays correct (the caller joins on dot_number anyway), only slower.
   */
  readonly among?: RawBuilder<{ dot_number: number }>;
}

/**
 * `and <column> = any(array(select dot_number from ctx.among))`, or nothing when the whole census
 * is wanted. An array rather than `in (select ...)`: the planner then probes the carriers' primary
 * key for each number, where a semi-join was planned as a scan of every carrier (the segment
 * filters make it underestimate how many rows that scan has to judge).
 */
export function amongCarriers(ctx: SegmentContext, column: RawBuilder<unknown>): RawBuilder<unknown> {
  return ctx.among ? sql`and ${column} = any(array(select a.dot_number from ${ctx.among} a))` : sql``;
}

export interface SegmentRow {
  dot_number: number;
  /** Why this carrier is in the segment on this date, e.g. "due 2026-12-31" (a list attribute). */
  note: string;
}

export interface Segment {
  /** Also the CLI name (--only-segment) and the Listmonk list/tag name. */
  readonly name: string;
  readonly description: string;
  /** The key of this segment's parameters in the `segments` config section. */
  readonly configSection: keyof SegmentsConfig;
  /** SQL selecting `dot_number, note` of the active carriers in the segment on ctx.date. */
  carriers(ctx: SegmentContext): RawBuilder<SegmentRow>;
  /**
   * Optional, for counting an audience over several consecutive send dates (`plan`, the build's
   * summary): SQL selecting `dot_number bigint, days bigint` of the active carriers in the segment on
   * some of `days` (at most 62, in order, days[i] = days[0] + i), bit i of `days` set when carriers()
   * on days[i] lists the carrier: exactly what carriers() says date by date (a test holds them to
   * it), in one pass over the carriers instead of one per distinct date. ctx.date is days[0];
   * ctx.among does not apply. Without it, carriers() runs once per distinct form it takes.
   */
  carriersOnDays?(ctx: SegmentContext, days: readonly string[]): RawBuilder<{ dot_number: number; days: string }>;
  /**
   * Optional: carriersOnDays() as an expression over one row of carriers, for a scan that reads
   * other rows than the carriers table (static_links, static-verdicts.ts, which keeps the columns
   * of SEGMENT_CARRIER_COLUMNS beside each address): SQL of a bigint whose bit i is set when
   * carriers() on days[i] lists the carrier of the row `alias` (0 when it is in the segment on none
   * of them). It may read only the columns of SEGMENT_CARRIER_COLUMNS; a test holds it to
   * carriersOnDays() and carriers().
   */
  carrierDays?(ctx: SegmentContext, days: readonly string[], alias: string): RawBuilder<string>;
}

/** The columns of carriers a segment's carrierDays() may read (static_links keeps these). */
export const SEGMENT_CARRIER_COLUMNS = ['dot_number', 'status', 'add_date', 'mcs150_date'] as const;

/** SQL: `alias`.`column`, for a carrierDays() expression. */
export function carrierColumn(alias: string, column: (typeof SEGMENT_CARRIER_COLUMNS)[number]): RawBuilder<unknown> {
  return sql.ref(`${alias}.${column}`);
}
