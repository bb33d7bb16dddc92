/**
 * Disposable (throwaway) mailbox domains, from two maintained npm lists, never
 * a hand-typed one: disposable-email-domains-js (curated upstream, low false positives) and
 * mailchecker (broader second opinion). A domain or any parent of it on either list is disposable,
 * as mailchecker itself matches. Upgrading either package updates the rule; no migration needed.
 */
import { createRequire } from 'node:module';
import { disposableEmailBlocklist } from 'disposable-email-domains-js';
import mailchecker from 'mailchecker';

const require = createRequire(import.meta.url);
const version = (pkg: string): string => (require(`${pkg}/package.json`) as { version: string }).version;

export interface DisposableSource {
  /** e.g. "disposable-email-domains-js@1.26.0": the evidence shown by explain. */
  readonly name: string;
  readonly domains: ReadonlySet<string>;
}

let sources: readonly DisposableSource[] | undefined;

/** The two packages' lists as they ship them (not lowercased), in the order their names are joined. */
function packagedLists(): { name: string; list: Iterable<string> }[] {
  return [
    { name: `disposable-email-domains-js@${version('disposable-email-domains-js')}`, list: disposableEmailBlocklist() },
    { name: `mailchecker@${version('mailchecker')}`, list: mailchecker.blacklist() },
  ];
}

/** Both lists, loaded once (they are ~65k domains together). */
export function disposableSources(): readonly DisposableSource[] {
  sources ??= packagedLists().map((s) => ({ name: s.name, domains: new Set([...s.list].map((d) => d.toLowerCase())) }));
  return sources;
}

let table: { readonly domains: readonly string[]; readonly lists: readonly string[] } | undefined;

/**
 * Every listed domain with the lists that name it ("a, b"), for the SQL rule's parameter arrays.
 * Built once per process and shared: `plan` asks the rule for each of its days, and rebuilding the
 * 65k-entry table each time (then comparing the copies) cost over a second of a 14-day plan.
 */
export function disposableDomainTable(): { readonly domains: readonly string[]; readonly lists: readonly string[] } {
  if (!table) {
    const byDomain = new Map<string, string[]>();
    for (const s of disposableSources()) for (const d of s.domains) (byDomain.get(d) ?? byDomain.set(d, []).get(d)!).push(s.name);
    table = Object.freeze({ domains: Object.freeze([...byDomain.keys()]), lists: Object.freeze([...byDomain.values()].map((l) => l.join(', '))) });
  }
  return table;
}

/**
 * The rows of disposableDomainTable() whose domain is in `wanted` (the suffixes of a few candidate
 * domains), read straight off the packages' lists: explain judges one address and need not build
 * the 65k-entry table (and its garbage) for it. The same rows, names in the same order.
 */
export function disposableDomainTableFor(wanted: ReadonlySet<string>): { readonly domains: readonly string[]; readonly lists: readonly string[] } {
  const byDomain = new Map<string, string[]>();
  for (const s of packagedLists()) {
    const seen = new Set<string>();
    for (const raw of s.list) {
      const d = raw.toLowerCase();
      if (!wanted.has(d) || seen.has(d)) continue;
      seen.add(d);
      (byDomain.get(d) ?? byDomain.set(d, []).get(d)!).push(s.name);
    }
  }
  return { domains: [...byDomain.keys()], lists: [...byDomain.values()].map((l) => l.join(', ')) };
}
