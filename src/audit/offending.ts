/**
 * What makes a Listmonk campaign "offending" for `audit-listmonk` (README, runbook). A scheduled or
 * running campaign is offending when:
 *
 * 1. `excluded_members`: at least one member it would mail is excluded NOW by a rule that protects
 *    the sender: the Yahoo family (by list or by MX), a suppressed address or domain (bounces, dead
 *    at send time, operator), an opt-out in Listmonk, a dead MX, or a provider on hold. These are
 *    the rules the incident's 19 campaigns broke: built before the rules, they would have mailed
 *    exactly these people and re-burned the fresh IPs.
 * 2. `day_over_cap`: its send day's total (every scheduled or running campaign of that day, and for
 *    today what stopped campaigns already sent) is above that day's warmup daily cap; a day before
 *    the warmup start has cap 0. Every campaign of such a day is offending: which of them should
 *    go is a person's choice, and until one does the day would spike.
 * 3. `global_hold`: a global hold stands (campaign mail went out unsigned: every provider junks
 *    it). Every scheduled or running campaign is offending until signing is fixed.
 *
 * Every other exclusion code is counted and shown, but does not make a campaign offending: they are
 * the build's choices for its own picks (cooldown, role and shared mailboxes, typos, disposable
 * domains, FMCSA test data) or what we do not know yet (mx_unknown: a domain no check-mx has seen,
 * as most addresses of a list we did not build are).
 */
import type { ReasonCode } from '../rules/reason-codes.ts';

export const OFFENDING_CODES: readonly ReasonCode[] = ['yahoo_family', 'suppressed_address', 'suppressed_domain', 'opted_out', 'mx_dead', 'provider_hold'];

const offending = new Set<string>(OFFENDING_CODES);

export const isOffendingCode = (code: string): boolean => offending.has(code);

export type OffenceReason = 'excluded_members' | 'day_over_cap' | 'global_hold';
