/**
 * The registry of exclusion rules. Adding a rule is adding its module and one line here.
 * Order is the order `explain` prints them in.
 */
import { blockedDomainRule } from './blocked-domain.ts';
import { cooldown } from './cooldown.ts';
import { disposableRule } from './disposable.ts';
import { fmcsaTestRecordRule } from './fmcsa-test-record.ts';
import { invalidSyntaxRule } from './invalid-syntax.ts';
import { mxDeadRule } from './mx-dead.ts';
import { mxUnknownRule } from './mx-unknown.ts';
import { optedOutRule } from './opted-out.ts';
import { providerHold } from './provider-hold.ts';
import { roleAccountRule } from './role-account.ts';
import type { ExclusionRule } from './rule.ts';
import { sharedAddressRule } from './shared-address.ts';
import { suppressedAddressRule } from './suppressed-address.ts';
import { suppressedDomainRule } from './suppressed-domain.ts';
import { typoDomainRule } from './typo-domain.ts';
import { yahooFamilyListRule } from './yahoo-family-list.ts';
import { yahooFamilyMxRule } from './yahoo-family-mx.ts';

export const RULES: readonly ExclusionRule[] = [
  invalidSyntaxRule,
  fmcsaTestRecordRule,
  yahooFamilyListRule,
  yahooFamilyMxRule,
  blockedDomainRule,
  disposableRule,
  typoDomainRule,
  sharedAddressRule,
  roleAccountRule,
  mxDeadRule,
  mxUnknownRule,
  suppressedAddressRule,
  suppressedDomainRule,
  providerHold,
  cooldown,
  optedOutRule,
];
