/**
 * The one parser of numeric flags for every command, so `--batch-size 1e3`, ` 12`, `0x10` or `3.0`
 * are refused the same way everywhere (exit 2) and each message says the range that is accepted.
 */
import { UsageError } from '../errors.ts';

export interface IntRange {
  min: number;
  /** No upper bound when omitted. */
  max?: number;
  /** What the number counts, for the message ("milliseconds"). */
  unit?: string;
}

/** A whole number in decimal digits within the range; undefined when the flag was not given. */
export function intFlag(flag: string, v: string | undefined, range: IntRange): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < range.min || (range.max !== undefined && n > range.max)) {
    const of = range.unit ? ` of ${range.unit}` : '';
    const bounds = range.max !== undefined ? `from ${range.min} to ${range.max}` : `of at least ${range.min}`;
    throw new UsageError(`${flag} must be a whole number${of} ${bounds}, got "${v}"`);
  }
  return n;
}

/** A positive decimal number (a rate, a number of hours); undefined when the flag was not given. */
export function positiveFlag(flag: string, v: string | undefined, unit?: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number${unit ? ` of ${unit}` : ''}, got "${v}"`);
  return n;
}
