/**
 * Which programs' lines the linker looks at. The byte-level decision itself (which line can matter,
 * before any string exists) is in header.ts and LineParser (parse.ts); both paths share these sets.
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
