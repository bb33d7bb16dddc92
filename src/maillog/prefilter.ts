/**
 * The byte-level pre-filter of the linker: which program wrote a line, and whether its message can
 * matter at all. A bulk log is mostly lines we keep nothing of; deciding that on the bytes, before
 * any string exists, is what makes the scrub cheaper than a full parse per line.
 */

/** Postfix daemons and tools (and opendkim). Lines of other programs (dovecot, amavis, cron) are foreign: counted and skipped. */
export const POSTFIX_PROGRAMS = new Set([
  'smtp', 'lmtp', 'local', 'virtual', 'pipe', 'error', 'retry', 'discard', 'qmgr', 'oqmgr', 'smtpd', 'cleanup', 'pickup', 'bounce', 'defer', 'trace',
  'trivial-rewrite', 'anvil', 'scache', 'master', 'postscreen', 'dnsblog', 'tlsproxy', 'tlsmgr', 'verify', 'flush', 'proxymap', 'showq',
  'postsuper', 'postqueue', 'sendmail', 'postdrop', 'postmap', 'postfix-script', 'postlogd', 'spawn', 'qmqpd', 'postalias', 'postconf', 'postlog',
  'submission', 'opendkim',
]);
export const DELIVERY_AGENTS = new Set(['smtp', 'lmtp', 'local', 'virtual', 'pipe', 'error', 'retry', 'discard']);
/** Agents that deliver into mailboxes on this server: the firm's own mail by definition. */
export const LOCAL_AGENTS = new Set(['local', 'virtual']);

export const NL = 0x0a;
export const HASH = 0x23;
export const TAG_END = Buffer.from(']: ');
export const COLON_SP = Buffer.from(': ');
const B_NOQUEUE_REJECT = Buffer.from('NOQUEUE: reject:');
const B_TO = Buffer.from('to=');
const B_REMOVED = Buffer.from('removed');
const B_FROM = Buffer.from('from=');
const B_CLIENT = Buffer.from('client=');
const B_REJECT = Buffer.from('reject:');
const B_UID = Buffer.from('uid=');
const B_LISTMONK = Buffer.from('info: header X-Listmonk-Campaign:');
const B_DKIM = Buffer.from('DKIM-Signature field added');

/** Whether buf[pos, le) starts with `prefix`. */
function startsAt(buf: Buffer, pos: number, le: number, prefix: Buffer): boolean {
  if (pos + prefix.length > le) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[pos + i] !== prefix[i]) return false;
  return true;
}

/** Last index of byte `c` in buf[from..pos], or from - 1. Short backward scans: cheaper than Buffer.lastIndexOf's argument handling. */
export function lastByte(buf: Buffer, c: number, pos: number, from: number): number {
  for (let i = pos; i >= from; i--) if (buf[i] === c) return i;
  return from - 1;
}

/**
 * Whether the queue-id message starting at `ms` can matter: it starts with one of the bodies the
 * linker acts on. `rejected`: a NOQUEUE reject (only counted). Works on bytes, allocates nothing.
 */
export function wantedBody(program: string, buf: Buffer, ms: number, le: number): 'keep' | 'skip' | 'rejected' {
  if (startsAt(buf, ms, le, B_NOQUEUE_REJECT)) return 'rejected';
  const colon = buf.indexOf(COLON_SP, ms);
  if (colon < 0 || colon >= le || colon - ms > 24 || colon - ms < 6) return 'skip';
  const b = colon + 2;
  let keep: boolean;
  if (DELIVERY_AGENTS.has(program)) keep = startsAt(buf, b, le, B_TO);
  else
    switch (program) {
      case 'qmgr':
      case 'oqmgr':
        keep = startsAt(buf, b, le, B_REMOVED) || startsAt(buf, b, le, B_FROM);
        break;
      case 'smtpd':
        keep = startsAt(buf, b, le, B_CLIENT) || startsAt(buf, b, le, B_REJECT);
        break;
      case 'pickup':
        keep = startsAt(buf, b, le, B_UID);
        break;
      case 'cleanup':
        keep = startsAt(buf, b, le, B_LISTMONK) || startsAt(buf, b, le, B_REJECT);
        break;
      case 'opendkim':
        keep = startsAt(buf, b, le, B_DKIM);
        break;
      case 'postsuper':
        keep = startsAt(buf, b, le, B_REMOVED);
        break;
      default:
        keep = false;
    }
  return keep ? 'keep' : 'skip';
}
