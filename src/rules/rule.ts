import type { RawBuilder } from 'kysely';
import type { Config } from '../config.ts';
import type { ReasonCode } from './reason-codes.ts';

/** What a rule may depend on besides the database. */
export interface RuleContext {
  readonly config: Config;
  /** The send date being decided, 'YYYY-MM-DD' in the firm's time zone. */
  readonly date: string;
  readonly now: Date;
}

/** One verdict of one rule on one address. */
export interface RuleHit {
  email_id: number;
  /** Human evidence: which list, which bounce line, which MX hosts... */
  detail: string;
  /** Since when the evidence holds (null when timeless, e.g. a syntax error). */
  since: Date | null;
}

/**
 * An exclusion rule: one module in src/rules/, registered in src/rules/index.ts. Adding a rule is
 * adding one module. Rules are set-based SQL so the build can judge millions of addresses at once,
 * and `explain` runs the very same SQL on one address, so the two can never disagree.
 */
export interface ExclusionRule {
  readonly code: ReasonCode;
  /** One sentence: what the rule means, for `explain` and the README. */
  readonly description: string;
  /**
   * SQL selecting `email_id bigint, detail text, since timestamptz` for every row of the temp table
   * `candidates (email_id bigint, email text, domain text)` that this rule excludes (the temp table
   * `candidate_domains (domain text)` holds their distinct domains).
   * Several rows per address are fine (one per piece of evidence).
   */
  hits(ctx: RuleContext): RawBuilder<RuleHit>;
}
