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

/** Both lists, loaded once (they are ~65k domains together). */
export function disposableSources(): readonly DisposableSource[] {
  sources ??= [
    { name: `disposable-email-domains-js@${version('disposable-email-domains-js')}`, domains: new Set(disposableEmailBlocklist().map((d) => d.toLowerCase())) },
    { name: `mailchecker@${version('mailchecker')}`, domains: new Set([...mailchecker.blacklist()].map((d) => d.toLowerCase())) },
  ];
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
