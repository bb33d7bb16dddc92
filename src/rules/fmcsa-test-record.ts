import { sql } from 'kysely';
import { FMCSA_TEST_DOMAIN_PATTERN, FMCSA_TEST_LOCAL_PATTERN } from '../email/fmcsa-test.ts';
import type { ExclusionRule, RuleHit } from './rule.ts';

// The local-part test is guarded by a prefix LIKE (a regex on every candidate cost ~1 s at census
// scale): sound only while the pattern is anchored on that prefix.
const LOCAL_PREFIX = 'uat';
if (!FMCSA_TEST_LOCAL_PATTERN.startsWith(`^${LOCAL_PREFIX}`)) throw new Error(`FMCSA_TEST_LOCAL_PATTERN no longer starts with ^${LOCAL_PREFIX}: update the prefix in fmcsa-test-record.ts`);

/**
 * fmcsa_test_record: FMCSA's own test data. Either a carrier listing the address is flagged by
 * ingest (carriers.is_test_record: phone 2025555555, the agency's name...), or the address itself
 * is test data (uat...@, dot.gov): see src/email/fmcsa-test.ts.
 */
export const fmcsaTestRecordRule: ExclusionRule = {
  code: 'fmcsa_test_record',
  description: "FMCSA's own test data: listed by a carrier flagged as a test record, or a uat...@ / dot.gov address",
  static: true,
  hits: () => sql<RuleHit>`
    select c.email_id, 'listed by FMCSA test record USDOT ' || min(ce.dot_number) ||
             case when count(*) > 1 then ' and ' || (count(*) - 1) || ' more' else '' end as detail,
           null::timestamptz as since
    from pg_temp.candidates c
    join carrier_emails ce on ce.email_id = c.email_id
    join carriers k on k.dot_number = ce.dot_number and k.is_test_record
    group by c.email_id
    union all
    select c.email_id,
           case when split_part(c.email, '@', 1) ~ ${FMCSA_TEST_LOCAL_PATTERN}
                then 'local part "' || split_part(c.email, '@', 1) || '" is an FMCSA user-acceptance-test account (uat...@)'
                else 'domain ' || c.domain || ' is FMCSA/DOT''s own, not a carrier''s' end,
           null::timestamptz
    from pg_temp.candidates c
    where c.email like '%@%'
      and ((c.email like ${LOCAL_PREFIX + '%'} and split_part(c.email, '@', 1) ~ ${FMCSA_TEST_LOCAL_PATTERN})
           or c.domain in (select d.domain from pg_temp.candidate_domains d where d.domain ~ ${FMCSA_TEST_DOMAIN_PATTERN}))`,
};
