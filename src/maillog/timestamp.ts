/**
 * Syslog timestamps of mail.log headers, turned into epoch milliseconds.
 *
 * - RFC 3339 (Debian 12 rsyslog, journalctl short-iso): exact, offset included (`+01:00` or `+0100`).
 * - Traditional `Mmm dd HH:MM:SS` (rsyslog/syslog-ng, space- or zero-padded day) and postlogd's
 *   `Mmm 0d`: no year and no zone. The zone is the firm's (config `timezone`, the server's clock);
 *   the year is the latest that puts the line at or before a reference instant known to come after
 *   it (the file's mtime, bounded by the run's clock) plus a small skew: see TraditionalClock.
 *
 * Parsing is hand-rolled (no Date.parse, no regex on the hot path): the nightly job reads millions
 * of lines, and the per-line cost decides whether we beat pflogsumm.
 */

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

function daysIn(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

function digits(s: string, from: number, len: number): number {
  let n = 0;
  for (let i = from; i < from + len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
  }
  return n;
}

/** Parses `2023-03-14T00:00:31.185246+01:00` (fraction and offset optional; `Z`, `+0100` accepted). */
export function parseRfc3339(s: string): number | null {
  if (s.length < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(10) !== 84) return null;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const se = digits(s, 17, 2);
  if (Number.isNaN(y + mo + d + h + mi + se)) return null;
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    i++;
    let scale = 100;
    while (i < s.length) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      ms += c * scale;
      scale /= 10;
      i++;
    }
    ms = Math.floor(ms);
  }
  let offsetMin = 0;
  const sign = s[i];
  if (sign === '+' || sign === '-') {
    const oh = digits(s, i + 1, 2);
    const om = s.charCodeAt(i + 3) === 58 ? digits(s, i + 4, 2) : digits(s, i + 3, 2);
    if (Number.isNaN(oh) || Number.isNaN(om)) return null;
    offsetMin = (oh * 60 + om) * (sign === '-' ? -1 : 1);
  } else if (sign !== 'Z' && sign !== 'z' && i !== s.length) {
    return null;
  }
  return Date.UTC(y, mo - 1, d, h, mi, se, ms) - offsetMin * 60_000;
}

/**
 * Wall-clock time in one IANA zone -> UTC, with the zone offset cached per quarter hour: offsets
 * only change at transitions, and Intl is far too slow to call per line.
 */
export class ZoneClock {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();
  constructor(readonly timeZone: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Offset of the zone from UTC (minutes) at the UTC instant `utcMs`. */
  offsetAt(utcMs: number): number {
    const bucket = Math.floor(utcMs / 900_000);
    let off = this.cache.get(bucket);
    if (off === undefined) {
      const p = this.parts(bucket * 900_000);
      off = Math.round((Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - bucket * 900_000) / 60_000);
      if (this.cache.size > 20_000) this.cache.clear();
      this.cache.set(bucket, off);
    }
    return off;
  }

  /** UTC instant of a wall-clock time in this zone (the earlier one when a DST fold makes it ambiguous). */
  toUtc(year: number, month0: number, day: number, h: number, mi: number, s: number, ms = 0): number {
    const asUtc = Date.UTC(year, month0, day, h, mi, s, ms);
    let guess = asUtc - this.offsetAt(asUtc) * 60_000;
    guess = asUtc - this.offsetAt(guess) * 60_000;
    return guess;
  }

  /** Calendar parts of a UTC instant in this zone. */
  parts(utcMs: number): { year: number; month: number; day: number; hour: number; minute: number } {
    const o: Record<string, number> = {};
    for (const p of this.fmt.formatToParts(new Date(utcMs))) if (p.type !== 'literal') o[p.type] = Number(p.value);
    return { year: o.year!, month: o.month!, day: o.day!, hour: o.hour!, minute: o.minute! };
  }

  private readonly days = new Map<number, string>();
  /** 'YYYY-MM-DD' of a UTC instant in this zone (cached per quarter hour: called for every outcome). */
  day(utcMs: number): string {
    const bucket = Math.floor(utcMs / 900_000);
    let d = this.days.get(bucket);
    if (d === undefined) {
      d = new Date(utcMs + this.offsetAt(utcMs) * 60_000).toISOString().slice(0, 10);
      if (this.days.size > 20_000) this.days.clear();
      this.days.set(bucket, d);
    }
    return d;
  }
}

/**
 * The reference instant of a file's traditional timestamps: its mtime (every line was written by
 * then), but never later than the run's clock, so a file stamped in the future (a copy from a
 * machine whose clock runs ahead, a test's pinned clock) cannot date its lines after "now".
 */
export function yearReference(mtime: Date, now: Date): Date {
  return mtime.getTime() <= now.getTime() ? mtime : now;
}

/**
 * How far past its reference a line may be dated: the syslog daemon's zone may differ from the
 * firm's (AUDIENCE_TZ), and a relay's clock may run ahead. Without it, a line written minutes ago
 * under such a mismatch would be read as a year old, and a live reputation block would never hold
 * its provider. A day covers any zone offset.
 */
export const YEAR_SKEW_MS = 86_400_000;

/**
 * Reads traditional timestamps (`Jun 17 19:31:19`, `Jun  7 …`, `Jun 07 …`, `Mar 7 …`). A line's
 * year is the latest one that puts it at or before `reference + YEAR_SKEW_MS`, where the reference
 * is an instant at or after every line of the file: its mtime, bounded by the run's clock (the
 * caller passes the earlier of the two, so a file stamped in the future cannot date lines there).
 *
 * Judged on the whole date, not the month alone: a log copied on Dec 6 (its mtime) from a
 * years-old server holds "Dec 15" lines, which by month alone were Dec 15 of this year, nine days
 * ahead, and raised holds until Dec 18 from an old event. They are Dec 15 of last year. Across New
 * Year the same rule reads Dec 30 lines of a file written until Jan 2 as last year's. A day that
 * exists only in leap years (Feb 29) takes the latest leap year that fits; a day no year has
 * (Feb 30, Apr 31) is not a timestamp.
 */
export class TraditionalClock {
  private readonly limitMs: number;
  private readonly limitYear: number;
  constructor(
    private readonly zone: ZoneClock,
    reference: Date,
    skewMs = YEAR_SKEW_MS,
  ) {
    this.limitMs = reference.getTime() + skewMs;
    this.limitYear = zone.parts(this.limitMs).year;
  }

  /** The minute's instant in the latest year that is not after the limit; null for a day no year has. */
  private minuteAt(month0: number, day: number, h: number, mi: number): number | null {
    // Eight years reach the previous Feb 29 from any year (1900-style century gaps included).
    for (let year = this.limitYear; year >= this.limitYear - 8; year--) {
      if (day < 1 || day > daysIn(year, month0)) continue;
      const t = this.zone.toUtc(year, month0, day, h, mi, 0);
      if (t <= this.limitMs) return t;
    }
    return null;
  }

  private lastMinute = '\u0000';
  private lastMinuteMs = 0;

  private minuteBytes: Buffer = Buffer.alloc(0);
  private minuteBytesMs = 0;

  /**
   * parse() on the bytes buf[s, e) (ASCII): the parser's byte path. A line in the same minute as
   * the last one is read without making a string; otherwise parse() decides and its minute is
   * remembered as bytes. Same results as parse() on the decoded text by construction.
   */
  parseBytes(buf: Buffer, s: number, e: number): number | null {
    const p = this.minuteBytes;
    const pl = p.length;
    if (pl > 0 && e - s >= pl + 3 && buf[s + pl] === 58) {
      let hit = true;
      for (let i = 0; i < pl; i++) {
        if (buf[s + i] !== p[i]) {
          hit = false;
          break;
        }
      }
      if (hit) {
        const a = buf[s + pl + 1]! - 48;
        const b = buf[s + pl + 2]! - 48;
        if (a >= 0 && a <= 9 && b >= 0 && b <= 9) return this.minuteBytesMs + (a * 10 + b) * 1000;
      }
    }
    const r = this.parse(buf.toString('latin1', s, e));
    // parse() leaves lastMinute/lastMinuteMs as a consistent pair (also when it fails); keep our
    // own copy, since the string path may move them on between two byte-path lines.
    this.minuteBytes = Buffer.from(this.lastMinute, 'latin1');
    this.minuteBytesMs = this.lastMinuteMs;
    return r;
  }

  /** `s` is `Mmm d[d] HH:MM:SS`; returns epoch ms or null. */
  parse(s: string): number | null {
    // Consecutive lines share their minute: reuse its instant and add the seconds.
    const pl = this.lastMinute.length;
    if (s.startsWith(this.lastMinute) && s.charCodeAt(pl) === 58) {
      const se = digits(s, pl + 1, 2);
      if (!Number.isNaN(se)) return this.lastMinuteMs + se * 1000;
    }
    const mo = MONTHS[s.slice(0, 3)];
    if (mo === undefined || s.charCodeAt(3) !== 32) return null;
    let i = 4;
    if (s.charCodeAt(i) === 32) i++;
    let day = 0;
    let n = 0;
    while (n < 2 && i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
      day = day * 10 + s.charCodeAt(i) - 48;
      i++;
      n++;
    }
    if (n === 0 || s.charCodeAt(i) !== 32) return null;
    i++;
    const h = digits(s, i, 2);
    const mi = digits(s, i + 3, 2);
    const se = digits(s, i + 6, 2);
    if (Number.isNaN(h + mi + se) || s.charCodeAt(i + 2) !== 58 || s.charCodeAt(i + 5) !== 58) return null;
    const minute = this.minuteAt(mo, day, h, mi);
    if (minute === null) return null;
    this.lastMinute = s.slice(0, i + 5);
    this.lastMinuteMs = minute;
    return this.lastMinuteMs + se * 1000;
  }
}
