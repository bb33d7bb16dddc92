/**
 * One mail.log line split into syslog header, program tag and message.
 *
 * Accepted headers: RFC 3339 (`2023-03-14T00:00:31.185246+01:00 host tag: msg`), traditional and
 * postlogd (`Jun  7 19:31:19 host …`, `Jun 07 …`), busybox (`3:03:59 host mail.info tag: …`, no
 * date), a `docker compose logs` prefix (`postfix-mailcow-1  | …`), and a header stripped down to
 * `host tag: msg`. The tag is `syslog_name/program[pid]` where syslog_name may itself carry a
 * service (`postfix/out05/smtp`, `postfix-2526/smtp`); the program is the last path segment.
 * Lines that are not syslog lines of a program (comments, noise) are reported as such, never thrown.
 */

export type TimestampKind = 'rfc3339' | 'traditional' | 'none';

export interface LogLine {
  tsKind: TimestampKind;
  /** The timestamp text (empty when none); parsed lazily: most lines never need it. */
  tsRaw: string;
  host: string;
  /** First segment of the syslog name: `postfix`, `postfix-2526`, `opendkim`. */
  instance: string;
  /** Middle segments of the syslog name (`out05`, `submission`), or '' when none. */
  service: string;
  /** Last segment: `smtp`, `qmgr`, `smtpd`, `opendkim`... */
  program: string;
  /** The whole tag without the pid: `postfix/out05/smtp` (names the transport when it sets syslog_name). */
  tag: string;
  /** Everything after `]: `. */
  message: string;
}

export type LineVerdict = LogLine | 'comment' | 'blank' | 'malformed';

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function parseLine(raw: string): LineVerdict {
  let s = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
  if (s.length === 0) return 'blank';
  const c0 = s.charCodeAt(0);
  if (c0 === 35) return 'comment';

  let tagEnd = s.indexOf(']: ');
  if (tagEnd < 0) {
    // A tag without ": " after it ends the line only in a truncated write.
    return s.trim() === '' ? 'blank' : 'malformed';
  }
  let tagStart = s.lastIndexOf(' ', tagEnd) + 1;
  // `docker compose logs` prefixes every line with "service-name  | ".
  const pipe = s.indexOf(' | ');
  if (pipe > 0 && pipe < tagStart && pipe < 80 && !isDigit(c0) && s.charCodeAt(3) !== 32) {
    s = s.slice(pipe + 3);
    tagEnd -= pipe + 3;
    tagStart -= pipe + 3;
  }
  const bracket = s.lastIndexOf('[', tagEnd);
  if (bracket <= tagStart) return 'malformed';
  const tag = s.slice(tagStart, bracket);
  const firstSlash = tag.indexOf('/');
  const lastSlash = tag.lastIndexOf('/');
  const instance = firstSlash < 0 ? tag : tag.slice(0, firstSlash);
  const program = lastSlash < 0 ? tag : tag.slice(lastSlash + 1);
  const service = firstSlash < 0 || firstSlash === lastSlash ? '' : tag.slice(firstSlash + 1, lastSlash);
  if (!program || !instance) return 'malformed';

  // Header before the tag: [timestamp] host [facility.level]
  const head = tagStart > 0 ? s.slice(0, tagStart - 1) : '';
  let tsKind: TimestampKind = 'none';
  let tsRaw = '';
  let rest = head;
  const h0 = head.charCodeAt(0);
  if (isDigit(h0) && head.charCodeAt(4) === 45 && head.charCodeAt(10) === 84) {
    const sp = head.indexOf(' ');
    tsKind = 'rfc3339';
    tsRaw = sp < 0 ? head : head.slice(0, sp);
    rest = sp < 0 ? '' : head.slice(sp + 1);
  } else if (head.length >= 15 && head.charCodeAt(3) === 32 && !isDigit(h0)) {
    // Mmm dd HH:MM:SS: the time is the token with two colons after the day.
    let i = 4;
    while (head.charCodeAt(i) === 32) i++;
    while (isDigit(head.charCodeAt(i))) i++;
    while (head.charCodeAt(i) === 32) i++;
    const end = i + 8;
    if (head.charCodeAt(i + 2) === 58 && head.charCodeAt(i + 5) === 58) {
      tsKind = 'traditional';
      tsRaw = head.slice(0, end);
      rest = head.slice(end + 1);
    }
  } else if (isDigit(h0)) {
    // busybox syslogd: a time without a date. Unusable as an instant; keep the line.
    const sp = head.indexOf(' ');
    if (sp > 0 && head.slice(0, sp).includes(':')) rest = head.slice(sp + 1);
  }
  const sp = rest.indexOf(' ');
  const host = sp < 0 ? rest : rest.slice(0, sp);

  return { tsKind, tsRaw, host, instance, service, program, tag, message: s.slice(tagEnd + 3) };
}

/**
 * The queue id at the start of a message (`4A1B2C3D4E: …`, `4PcV4K5FPLz3tBr: …`), or '' when the
 * message does not start with one (TLS lines, `connect to` lines, warnings, NOQUEUE rejects).
 */
export function queueIdOf(message: string): string {
  const colon = message.indexOf(': ');
  if (colon < 6 || colon > 24) return '';
  let hex = true;
  let z = false;
  for (let i = 0; i < colon; i++) {
    const c = message.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    const upper = c >= 65 && c <= 90;
    const lower = c >= 97 && c <= 122;
    if (!digit && !upper && !lower) return '';
    if (!(digit || (c >= 65 && c <= 70))) hex = false;
    if (c === 122) z = true;
  }
  const qid = message.slice(0, colon);
  if (hex) return qid;
  // Long ids: base-52 without vowels, a 'z' between the time and the inode parts. This also keeps
  // words such as "warning" or "NOQUEUE" from passing for a queue id.
  if (colon >= 12 && z && !/[aeiouAEIOU]/.test(qid)) return qid;
  return '';
}
