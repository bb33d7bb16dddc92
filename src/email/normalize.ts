/**
 * Normalization of census e-mail fields into addresses: pure functions, no I/O. The stage
 * (src/email/stage.ts), `explain` and the allowlist all go through normalizeField/normalizeAddress,
 * so one spelling can never be judged two ways.
 */
import { domainToAscii } from './idna.ts';
import { cleanText, splitEmailField } from './split.ts';
import { typoSuggestion } from './typos.ts';
import { domainProblem, localPartProblem } from './validate.ts';

export interface NormalizedAddress {
  /** `local@domain` when valid; otherwise the cleaned, lower-cased token (kept for explain). */
  address: string;
  local_part: string | null;
  domain: string | null;
  valid: boolean;
  /** Why it is invalid (evidence of invalid_syntax), null when valid. */
  problem: string | null;
  /** Suggested correction of a misspelled big-provider domain (evidence of typo_domain). */
  typo: string | null;
}

/** Normalizes one token (one address as written). */
export function normalizeAddress(token: string): NormalizedAddress {
  const t = cleanText(token).trim().toLowerCase();
  const at = t.indexOf('@');
  if (at < 0) return invalid(t, null, null, 'no @ sign (not guessed)');
  if (t.indexOf('@', at + 1) >= 0) return invalid(t, null, null, 'more than one @ sign');
  const local = t.slice(0, at);
  const rawDomain = t.slice(at + 1).replace(/\.+$/, '');
  if (/\s/.test(local) || /\s/.test(rawDomain)) return invalid(`${local}@${rawDomain}`, local, rawDomain, 'contains spaces');
  if (rawDomain.startsWith('[')) return invalid(`${local}@${rawDomain}`, local, rawDomain, 'address literal domain (not accepted)');
  const ascii = rawDomain === '' ? '' : domainToAscii(rawDomain);
  if (ascii === null) return invalid(`${local}@${rawDomain}`, local, rawDomain, `domain "${rawDomain}" is not a valid internationalized domain name`);
  const address = `${local}@${ascii}`;
  const problem = localPartProblem(local) ?? domainProblem(ascii);
  if (problem) return invalid(address, local, ascii, problem);
  return { address, local_part: local, domain: ascii, valid: true, problem: null, typo: typoSuggestion(ascii) };
}

function invalid(address: string, local: string | null, domain: string | null, problem: string): NormalizedAddress {
  return { address, local_part: local, domain, valid: false, problem, typo: null };
}

/**
 * The shape of most census fields: one plain ASCII address, nothing to clean, split, unwrap or map.
 * For it every step of the general path is the identity but lower-casing and the checks, so it goes
 * straight to them: six times faster over a 2M-carrier census. test/email-fast-path.test.ts holds
 * both paths to the same result.
 */
const PLAIN = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]*[A-Za-z0-9-]$/;

// A domain's verdict depends on the domain alone, and a census repeats a few domains millions of times.
const DOMAIN_CACHE_MAX = 50_000;
const domainVerdicts = new Map<string, { problem: string | null; typo: string | null }>();

function plainAddress(raw: string): NormalizedAddress {
  const address = raw.toLowerCase();
  const at = address.indexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  let d = domainVerdicts.get(domain);
  if (!d) {
    const problem = domainProblem(domain);
    d = { problem, typo: problem ? null : typoSuggestion(domain) };
    if (domainVerdicts.size >= DOMAIN_CACHE_MAX) domainVerdicts.clear();
    domainVerdicts.set(domain, d);
  }
  const problem = localPartProblem(local) ?? d.problem;
  return { address, local_part: local, domain, valid: problem === null, problem, typo: problem === null ? d.typo : null };
}

/** Every distinct address of a census e-mail field, in field order. */
export function normalizeField(raw: string | null | undefined): NormalizedAddress[] {
  if (raw != null && PLAIN.test(raw)) return [plainAddress(raw)];
  return normalizeFieldGeneral(raw);
}

/** normalizeField without its fast path (the tests compare the two). */
export function normalizeFieldGeneral(raw: string | null | undefined): NormalizedAddress[] {
  const seen = new Set<string>();
  const out: NormalizedAddress[] = [];
  for (const token of splitEmailField(raw)) {
    const n = normalizeAddress(token);
    if (n.address === '' || seen.has(n.address)) continue;
    seen.add(n.address);
    out.push(n);
  }
  return out;
}

/**
 * The ASCII, lower-case form of an operator-typed domain (`@Example.COM`, `*.example.com.`,
 * `bücher.de`), or null when it is not a domain name. Used for email.blockedDomains and explain.
 */
export function normalizeDomain(raw: string): string | null {
  const d = cleanText(raw).trim().toLowerCase().replace(/^\*?\.|^@/, '').replace(/\.+$/, '');
  if (d === '') return null;
  const ascii = domainToAscii(d);
  return ascii !== null && domainProblem(ascii) === null ? ascii : null;
}
