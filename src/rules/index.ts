/**
 * The registry of exclusion rules. Adding a rule is adding its module and one line here.
 * Order is the order `explain` prints them in.
 */
import { blockedDomainRule } from './blocked-domain.ts';
import { disposableRule } from './disposable.ts';
import { fmcsaTestRecordRule } from './fmcsa-test-record.ts';
import { invalidSyntaxRule } from './invalid-syntax.ts';
import { roleAccountRule } from './role-account.ts';
import type { ExclusionRule } from './rule.ts';
import { sharedAddressRule } from './shared-address.ts';
import { typoDomainRule } from './typo-domain.ts';
import { yahooFamilyListRule } from './yahoo-family-list.ts';

export const RULES: readonly ExclusionRule[] = [
  invalidSyntaxRule,
  fmcsaTestRecordRule,
  yahooFamilyListRule,
  blockedDomainRule,
  disposableRule,
  typoDomainRule,
  sharedAddressRule,
  roleAccountRule,
];
