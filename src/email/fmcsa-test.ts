/**
 * FMCSA's own test data in the census (research/fmcsa.md §2.7): records with phone 2025555555 or
 * the agency's name, flagged by ingest as carriers.is_test_record, and addresses that are test
 * data by themselves: `uat...@` (user-acceptance-test accounts) and FMCSA/DOT's own domains
 * (dot.gov and its subdomains, the dot.gov.test sandbox). None of these is a carrier to mail.
 * Patterns are POSIX regexes so the SQL rule and the unit tests use the very same text.
 */

/** Local parts of FMCSA user-acceptance-test accounts: `uat`, `uat1`, `uat.tester`, `uat_carrier`... */
export const FMCSA_TEST_LOCAL_PATTERN = '^uat([0-9._+-].*)?$';

/** Domains that are FMCSA/DOT itself, never a carrier: dot.gov, fmcsa.dot.gov, dot.gov.test... */
export const FMCSA_TEST_DOMAIN_PATTERN = '(^|\\.)dot\\.gov(\\.test)?$';

/** Why `address` (normalized) looks like FMCSA test data, or null. */
export function fmcsaTestAddressReason(localPart: string, domain: string): string | null {
  if (new RegExp(FMCSA_TEST_LOCAL_PATTERN).test(localPart)) return `local part "${localPart}" is an FMCSA user-acceptance-test account (uat...@)`;
  if (new RegExp(FMCSA_TEST_DOMAIN_PATTERN).test(domain)) return `domain ${domain} is FMCSA/DOT's own, not a carrier's`;
  return null;
}
