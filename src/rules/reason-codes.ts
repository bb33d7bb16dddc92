/**
 * Exclusion reason codes: a contract with users, cron jobs and other tools (`explain`, `--json`,
 * the email_reasons table).
 * An address is eligible only when no code applies. Never rename one; add new ones at the end.
 */
export const REASON_CODES = [
  'invalid_syntax',
  'fmcsa_test_record',
  'yahoo_family',
  'disposable',
  'typo_domain',
  'shared_address',
  'role_account',
  'suppressed_address',
  'suppressed_domain',
  'mx_dead',
  'mx_unknown',
  'provider_hold',
  'cooldown',
  'opted_out',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export function isReasonCode(s: string): s is ReasonCode {
  return (REASON_CODES as readonly string[]).includes(s);
}
