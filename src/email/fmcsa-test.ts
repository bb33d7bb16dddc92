/**
 * FMCSA's own test data in the census: records with phone 2025555555 or
 * the agency's name, flagged by ingest as carriers.is_test_record, and addresses that are test
 * data by themselves: `uat...@` (user-acceptance-test accounts) and FMCSA/DOT's own domains
 * (dot.gov and its subdomains, the dot.gov.test sandbox). None of these is a carrier to mail.
 * POSIX regexes: the fmcsa_test_record rule (src/rules/fmcsa-test-record.ts) matches them in SQL.
 */

/** Local parts of FMCSA user-acceptance-test accounts: `uat`, `uat1`, `uat.tester`, `uat_carrier`... */
export const FMCSA_TEST_LOCAL_PATTERN = '^uat([0-9._+-].*)?$';

/** Domains that are FMCSA/DOT itself, never a carrier: dot.gov, fmcsa.dot.gov, dot.gov.test... */
export const FMCSA_TEST_DOMAIN_PATTERN = '(^|\\.)dot\\.gov(\\.test)?$';
