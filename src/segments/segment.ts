/**
 * A segment: a named set of active carriers worth writing to on a send date. Each segment is one
 * module in this folder and one line in index.ts; its parameters live in the `segments` config
 * section under its name. The SQL is set-based so the build selects from millions of carriers in
 * one statement.
 */
import type { RawBuilder } from 'kysely';
import type { Config } from '../config.ts';
import type { SegmentsConfig } from './config.ts';

export interface SegmentContext {
  readonly config: Config;
  /** The send date, 'YYYY-MM-DD' in the firm's time zone. */
  readonly date: string;
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
}
