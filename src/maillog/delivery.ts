/**
 * The delivery-attempt line of log_adhoc():
 *   QID: to=<R>[, orig_to=<O>], relay=X[, conn_use=N], delay=D, delays=a/b/c/d[, tls=F], dsn=X.Y.Z, status=S (REASON)
 * Fields are read as key=value pairs up to `status=`, never by position: Postfix 3.11 added `tls=`
 * before `dsn=`, and anonymised or CSV-exported logs drop the angle brackets or leave quotes.
 */

export type DeliveryStatus = 'sent' | 'deferred' | 'bounced' | 'deliverable' | 'undeliverable';

export interface DeliveryFields {
  to: string;
  origTo: string | null;
  relay: string;
  dsn: string;
  status: DeliveryStatus;
  /** The text inside the parentheses after the status word. */
  reason: string;
  tls: string | null;
}

const STATUSES = new Set<string>(['sent', 'deferred', 'bounced', 'deliverable', 'undeliverable']);

/** Strips `<…>` and surrounding quotes/space from an address field, lower case. */
export function cleanAddress(v: string): string {
  let a = v.trim();
  if (a.charCodeAt(0) === 34 && a.charCodeAt(a.length - 1) !== 62) a = a.slice(1);
  if (a.charCodeAt(0) === 60) a = a.slice(1, a.charCodeAt(a.length - 1) === 62 ? -1 : undefined);
  // Lower case whole, like emails.address: suppressions must match the normalized addresses.
  return a.toLowerCase();
}

/** Domain part of an address (lower case), or '' for a bare local name. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return '';
  return address.charCodeAt(address.length - 1) === 46 ? address.slice(at + 1, -1) : address.slice(at + 1);
}

/**
 * Parses the part after `QID: ` of a line that starts with `to=`. Returns null when it is not a
 * complete delivery line (no status, an unknown status word, no recipient).
 */
export function parseDelivery(body: string): DeliveryFields | null {
  const st = body.indexOf('status=');
  if (st < 0) return null;
  let end = st + 7;
  while (end < body.length && body.charCodeAt(end) !== 32 && body.charCodeAt(end) !== 40 && body.charCodeAt(end) !== 44) end++;
  const status = body.slice(st + 7, end);
  if (!STATUSES.has(status)) return null;
  const open = body.indexOf('(', end);
  const close = body.lastIndexOf(')');
  const reason = open >= 0 && close > open ? body.slice(open + 1, close) : '';

  let to = '';
  let origTo: string | null = null;
  let relay = '';
  let dsn = '';
  let tls: string | null = null;
  let i = 0;
  const fields = body.slice(0, st);
  while (i < fields.length) {
    while (i < fields.length && (fields.charCodeAt(i) === 32 || fields.charCodeAt(i) === 44 || fields.charCodeAt(i) === 34)) i++;
    const eq = fields.indexOf('=', i);
    if (eq < 0) break;
    const key = fields.slice(i, eq);
    let vEnd: number;
    if (fields.charCodeAt(eq + 1) === 60) {
      // <address> may contain ", " inside a quoted local part: end at the closing bracket.
      const gt = fields.indexOf('>', eq + 1);
      vEnd = gt < 0 ? fields.length : gt + 1;
    } else {
      vEnd = fields.indexOf(',', eq + 1);
      if (vEnd < 0) vEnd = fields.length;
    }
    const value = fields.slice(eq + 1, vEnd);
    switch (key) {
      case 'to':
        to = cleanAddress(value);
        break;
      case 'orig_to':
        origTo = cleanAddress(value);
        break;
      case 'relay':
        relay = value.trim();
        break;
      case 'dsn':
        dsn = value.trim().replace(/"$/, '');
        break;
      case 'tls':
        tls = value.trim();
        break;
      default:
        break;
    }
    i = vEnd + 1;
  }
  if (!to) return null;
  return { to, origTo, relay, dsn, status: status as DeliveryStatus, reason, tls };
}

/** `mx.b.example[192.0.2.1]:25` -> `mx.b.example`; `[192.0.2.1]:25` -> `192.0.2.1`; `none`/`local` stay. */
export function relayHost(relay: string): string {
  const b = relay.indexOf('[');
  if (b > 0) return relay.slice(0, b).toLowerCase();
  if (b === 0) {
    const e = relay.indexOf(']');
    return relay.slice(1, e < 0 ? undefined : e);
  }
  return relay.toLowerCase();
}

/** The SMTP stage a reply came from: `(in reply to RCPT TO command)` -> `RCPT TO`. */
export function smtpStage(reason: string): string | null {
  const i = reason.lastIndexOf('(in reply to ');
  if (i >= 0) {
    const e = reason.indexOf(' command', i);
    return reason.slice(i + 13, e < 0 ? undefined : e);
  }
  if (reason.includes('refused to talk to me')) return 'greeting';
  return null;
}
