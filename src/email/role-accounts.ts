/**
 * Role mailboxes (a function, not a person). Two tiers:
 * - ALWAYS: mailboxes that exist for machines or for complaints: RFC 2142 postmaster/abuse/
 *   hostmaster, mailer-daemon, no-reply variants, bounce and list robots. Mailing them is a
 *   complaint or a bounce by design, so `role_account` always applies to them.
 * - CONFIGURED (email.excludeRoleAccounts, off by default): info@, office@, dispatch@... In small
 *   trucking firms that is often the owner's only address, so excluding them is the operator's call.
 * Matched by the role_account rule (src/rules/role-account.ts) in SQL, on the local part without
 * its +tag (`noreply+x@` is `noreply@`).
 */

export const ALWAYS_EXCLUDED_LOCAL_PARTS: readonly string[] = [
  'postmaster', 'abuse', 'hostmaster', 'mailer-daemon', 'mailerdaemon', 'noreply', 'no-reply', 'no_reply', 'no.reply',
  'donotreply', 'do-not-reply', 'do_not_reply', 'do.not.reply', 'dontreply', 'bounce', 'bounces', 'unsubscribe', 'nobody',
  'root', 'spam', 'list-request', 'majordomo', 'listserv',
];

/** no-reply spelled with any separators and a suffix (noreply-fmcsa, do_not_reply2). POSIX regex for SQL too. */
export const ALWAYS_EXCLUDED_PATTERN = '^(no[-_.]?reply|do[-_.]?not[-_.]?reply)([-_.0-9].*)?$';

export const ROLE_LOCAL_PARTS: readonly string[] = [
  'info', 'office', 'admin', 'administrator', 'contact', 'contactus', 'sales', 'support', 'help', 'service', 'services',
  'billing', 'accounts', 'accounting', 'ap', 'ar', 'invoices', 'payables', 'hr', 'jobs', 'careers', 'recruiting',
  'marketing', 'dispatch', 'dispatcher', 'operations', 'ops', 'safety', 'compliance', 'permits', 'orders', 'team',
  'mail', 'email', 'enquiries', 'inquiries', 'webmaster', 'security', 'legal', 'reception', 'frontdesk', 'general',
];
