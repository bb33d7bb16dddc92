import type { RawBuilder } from 'kysely';
import type { Config } from '../config.ts';
import type { ReasonCode } from './reason-codes.ts';

/** What a rule may depend on besides the database. */
export interface RuleContext {
  readonly config: Config;
  /** The send date being decided, 'YYYY-MM-DD' in the firm's time zone. */
  readonly date: string;
  readonly now: Date;
  /**
   * Every domain of `candidate_domains`, when there are few (explain, the build's judged prefix),
   * else undefined. A rule may use it to send less SQL (a domain list cut to what can match); its
   * verdicts must be the same with or without it.
   */
  readonly candidateDomains?: readonly string[];
}

/** One verdict of one rule on one domain (a rule whose verdict depends on the domain alone). */
export interface DomainHit {
  domain: string;
  detail: string;
  since: Date | null;
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
   * True when the verdict depends only on the e-mail and carrier data (the tables of
   * STATIC_INPUT_TABLES, static-verdicts.ts), the configuration and the code: never on the send
   * date, the clock, the ledger, suppressions, holds or opt-outs. `plan` and the build's counts then
   * keep its verdicts between runs (static-verdicts.ts) and judge only the other rules at run time.
   * Its SQL must not change with ctx.date or ctx.now (checked each time the verdicts are keyed), and
   * may read no table outside STATIC_INPUT_TABLES (a test checks its SQL).
   */
  readonly static?: boolean;
  /**
   * SQL selecting `email_id bigint, detail text, since timestamptz` for every row of the temp table
   * `candidates (email_id bigint, email text, domain text)` that this rule excludes (the temp table
   * `candidate_domains (domain text)` holds their distinct domains).
   * Several rows per address are fine (one per piece of evidence).
   */
  hits(ctx: RuleContext): RawBuilder<RuleHit>;
  /**
   * Optional, for rules whose verdict depends on the send date (the SQL of hits() changes with
   * ctx.date): SQL selecting `email_id bigint, days bigint` of the candidates this rule excludes on
   * some of `days` (at most 63 dates, in order), bit i of `days` set when it excludes the address
   * on days[i]: exactly what hits() would say date by date. `plan` judges two weeks in one
   * statement with it instead of one evaluation per day; without it, such a rule is evaluated
   * day by day. A test holds the two against each other.
   */
  hitDays?(ctx: RuleContext, days: readonly string[]): RawBuilder<{ email_id: number; days: string }>;
  /**
   * Set on rules whose verdict depends on the address's domain alone (domain-rule.ts makes them):
   * SQL selecting `domain text, detail text, since timestamptz` for every row of the temp table
   * `candidate_domains (domain text)` the rule excludes. hits() is this joined back to the
   * candidates, so the counting paths judge the ~77k distinct domains of a census-scale audience
   * once and join all domain verdicts back in one pass, instead of one join of every candidate
   * per rule.
   */
  domainHits?(ctx: RuleContext): RawBuilder<DomainHit>;
}
