/**
 * What the scrub does with the lines it does not read for their content: why each is skipped (the
 * keys of the summary's `skipped`), its text for `--rejects`, and what a file made of nothing else
 * is (not a mail log). The parser (parse.ts, in either thread) decides the reason of each line;
 * the scrub (scrub.ts) counts, lists and judges here.
 */
import { InputError } from '../errors.ts';
import { visibleControls } from '../text/control-chars.ts';
import { peopleCsvField } from '../text/csv.ts';
import type { LogFile } from './files.ts';
import type { ParseCounts } from './records.ts';
import { MAX_LINE_BYTES } from './reader.ts';

/**
 * Why a line is not read for its content (the keys of the scrub summary's `skipped`): a comment,
 * a blank line, a line that is no syslog line or whose delivery fields cannot be read (malformed),
 * a syslog line of a program other than Postfix's and opendkim (foreign), a line holding NUL bytes
 * (binary), a line longer than MAX_LINE_BYTES (tooLong).
 */
export type SkipReason = 'comment' | 'blank' | 'malformed' | 'foreign' | 'binary' | 'tooLong';
export const SKIP_REASONS: readonly SkipReason[] = ['comment', 'blank', 'malformed', 'foreign', 'binary', 'tooLong'];

/** A skipped line for the rejects file: its number, why, and its text (see rawLine). */
export interface SkippedLine {
  line: number;
  reason: SkipReason;
  raw: string;
}

/** Text kept of a skipped line: enough to see the problem, bounded for a runaway line. */
export const MAX_RAW_BYTES = 4096;

/** A line's bytes as text for people: UTF-8 (else U+FFFD), controls as visible escapes, cut at MAX_RAW_BYTES. */
export function rawLine(buf: Buffer, s: number, e: number): string {
  const text = visibleControls(buf.toString('utf8', s, Math.min(e, s + MAX_RAW_BYTES)));
  return e - s > MAX_RAW_BYTES ? `${text} [truncated at ${MAX_RAW_BYTES} bytes]` : text;
}

/** Lines of a file that were syslog lines (of any program): what shows a file is a log. */
export function syslogLines(c: ParseCounts): number {
  return c.lines - c.comment - c.blank - c.malformed - c.binary - c.tooLong;
}

/** The rejects file's rows (file,line,reason,raw) of skipped lines. */
export function rejectRows(path: string, skipped: readonly SkippedLine[]): string {
  const f = peopleCsvField(path);
  let out = '';
  for (const s of skipped) out += `${f},${s.line},${s.reason},${peopleCsvField(s.raw)}\n`;
  return out;
}

/** The InputError of a file none of whose new lines is a syslog line while some are binary, malformed or too long: not a mail log. Null otherwise. */
export function notALog(file: LogFile, c: ParseCounts): InputError | null {
  const bad = c.malformed + c.binary + c.tooLong;
  if (syslogLines(c) > 0 || bad === 0) return null;
  return new InputError(
    `${file.path} does not look like a mail log: none of its ${c.lines} new line(s) is a syslog line (${c.binary} with NUL bytes, ${c.malformed} malformed, ${c.tooLong} longer than ${MAX_LINE_BYTES / 1024} KiB). ` +
      'Nothing of it was stored. Pass the Postfix log (plain or .gz), e.g. /var/log/mail.log, or add --rejects FILE to see its lines.',
  );
}

/** The warning about lines skipped for their bytes (binary, too long) in one file, or null. */
export function skippedWarning(path: string, c: ParseCounts, rejectsFile: string | undefined): string | null {
  if (!c.binary && !c.tooLong) return null;
  return (
    `${path}: skipped ${c.binary} line(s) holding NUL bytes and ${c.tooLong} longer than ${MAX_LINE_BYTES / 1024} KiB` +
    (rejectsFile ? `; they are listed in ${rejectsFile}` : '; list them with --rejects FILE')
  );
}
