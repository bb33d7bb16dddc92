/**
 * The warmup start stamp (AUDIENCE_WARMUP_START): a day (YYYY-MM-DD, midnight in the firm's time
 * zone), an RFC 3339 time, or the path of a file holding epoch seconds, as the firm's Postfix setup
 * keeps it in /etc/postfix/pw-warmup-start. Without a stamp nothing may be pushed: the cap would
 * be a guess, and a guess is how an IP gets burned.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, SafetyGateError } from '../errors.ts';
import { isIsoDate, localDate, zonedTime } from './calendar.ts';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/;
const EPOCH = /^\d{9,11}(\.\d+)?$/;

export interface WarmupStart {
  /** The instant warmup began. */
  instant: Date;
  /** Its calendar day in the firm's time zone: warmup day 0. */
  day: string;
  /** Where it came from, for status output ("file /etc/postfix/pw-warmup-start"). */
  source: string;
}

export type ReadText = (file: string) => string;

/** Resolves the configured stamp; a missing one is a safety gate (exit 3), a bad one a config error. */
export function resolveWarmupStart(value: string | undefined, tz: string, readText: ReadText = (f) => readFileSync(f, 'utf8')): WarmupStart {
  if (!value)
    throw new SafetyGateError(
      'warmup',
      'the warmup start is not set, so the daily cap is unknown and nothing may be pushed. Set AUDIENCE_WARMUP_START to the day warmup began (YYYY-MM-DD), an RFC 3339 time, or the file holding its epoch seconds (e.g. /etc/postfix/pw-warmup-start); or set warmup.start in audience.config.json.',
    );
  const v = value.trim();
  if (isIsoDate(v)) return { instant: zonedTime(v, 0, tz), day: v, source: `date ${v}` };
  if (RFC3339.test(v)) {
    const instant = new Date(v);
    if (Number.isNaN(instant.getTime())) throw new ConfigError(`AUDIENCE_WARMUP_START "${v}" is not a valid RFC 3339 time. Use e.g. 2026-11-01T08:00:00-05:00.`);
    return { instant, day: localDate(instant, tz), source: `time ${v}` };
  }
  let text: string;
  try {
    text = readText(v);
  } catch (e) {
    throw new ConfigError(
      `AUDIENCE_WARMUP_START "${v}" is neither a date (YYYY-MM-DD), an RFC 3339 time, nor a readable file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Fix the value or the file's permissions.`,
    );
  }
  const t = text.trim();
  if (!EPOCH.test(t)) throw new ConfigError(`the warmup start file ${v} should hold epoch seconds (e.g. 1764547200), but holds "${t.slice(0, 40)}". Rewrite it with \`date +%s > ${v}\` at the warmup start.`);
  const instant = new Date(Number(t) * 1000);
  return { instant, day: localDate(instant, tz), source: `file ${v}` };
}
