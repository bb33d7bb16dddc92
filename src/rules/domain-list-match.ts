/**
 * Shared SQL for rules that match a candidate's domain, or any parent of it, against a list held in
 * code (Yahoo family, disposable lists, blocked domains). The list travels as array parameters, so
 * the rule judges any address in `candidates` — one from the census or one typed into `explain` —
 * with no table to keep in sync, and a package upgrade changes the verdicts at once.
 */
import { sql, type RawBuilder } from 'kysely';
import type { DomainHit } from './rule.ts';

/**
 * The candidate domains that are `domains[i]` or under it, one row per domain (the most specific
 * listed suffix), with detail `describe(matchedDomain, candidateDomain, notes[i])` computed in SQL
 * from the three text expressions it is given: a rule's domainHits (domain-rule.ts).
 */
export function domainListHits(
  allDomains: readonly string[],
  allNotes: readonly string[],
  describe: (listed: RawBuilder<string>, domain: RawBuilder<string>, note: RawBuilder<string>) => RawBuilder<string>,
  candidateDomains?: readonly string[],
): RawBuilder<DomainHit> {
  const { domains, notes } = candidateDomains ? listedSuffixes(allDomains, allNotes, candidateDomains) : { domains: allDomains, notes: allNotes };
  // Nothing listed (no email.blockedDomains, or no candidate under a listed domain) matches nothing:
  // no statement over the candidates needed.
  if (!domains.length) return sql<DomainHit>`select null::text as domain, null::text as detail, null::timestamptz as since where false`;
  const listed = sql<string>`n.listed`;
  const domain = sql<string>`n.domain`;
  const note = sql<string>`n.note`;
  // Matched once per distinct domain (addresses share domains heavily: gmail.com, yahoo.com...).
  // Each distinct domain's suffixes are looked up in the list as an array, which PostgreSQL hashes
  // once per statement; joining the list as a table sorted its 61k entries (the disposable lists)
  // on every evaluation (~0.3 s even for a few thousand candidates). The note is fetched for the
  // matched domains only.
  return sql<DomainHit>`
    with m as (
      select distinct on (d.domain) d.domain, s.suffix as listed
      from pg_temp.candidate_domains d
      cross join lateral (
        select array_to_string(p.parts[i:], '.') as suffix, i
        from (select string_to_array(d.domain, '.') as parts) p, generate_series(1, cardinality(p.parts)) as i
      ) s
      where s.suffix = any(${arrayText(domains)}::text[])
      order by d.domain, s.i),
    n as (
      select distinct on (m.domain) m.domain, m.listed, l.note
      from m join unnest(${arrayText(domains)}::text[], ${arrayText(notes)}::text[]) as l(domain, note) on l.domain = m.listed
      order by m.domain)
    select n.domain, ${describe(listed, domain, note)} as detail, null::timestamptz as since
    from n`;
}

const arrayTexts = new WeakMap<readonly string[], string>();

/**
 * `list` as the text of a PostgreSQL array (`{"a","b"}`), made once per array and kept while the
 * array lives: the disposable list's 61k entries are one shared array (disposableDomainTable), and
 * the driver escaped them anew for each of their occurrences in each statement (~80 ms of a plan),
 * while `plan`, comparing each day's statement with the first's (engine.ts, sameCompiledQuery),
 * compared two copies entry by entry. The same string is equal at once.
 */
export function arrayText(list: readonly string[]): string {
  let text = arrayTexts.get(list);
  if (text === undefined) {
    text = `{${list.map((v) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
    arrayTexts.set(list, text);
  }
  return text;
}

/**
 * The entries of the list that are one of the candidates' domains or a parent of one: the only
 * ones the SQL below can match (it looks up each suffix of each candidate domain, split on '.' as
 * string_to_array splits it). Sending these instead of the whole list keeps a judgement of a few
 * addresses (explain, the build's judged prefix) from shipping and planning the 65k-entry
 * disposable list each time (~0.2 s).
 */
function listedSuffixes(domains: readonly string[], notes: readonly string[], candidateDomains: readonly string[]) {
  const suffixes = domainSuffixes(candidateDomains);
  const keep = domains.flatMap((d, i) => (suffixes.has(d) ? [i] : []));
  return { domains: keep.map((i) => domains[i]!), notes: keep.map((i) => notes[i]!) };
}

/** Every domain of `domains` and each parent of it, split on '.' as the SQL splits them. */
export function domainSuffixes(domains: readonly string[]): Set<string> {
  const suffixes = new Set<string>();
  for (const d of domains) {
    if (d === '') continue; // string_to_array('', '.') is empty: no suffix
    const parts = d.split('.');
    for (let i = 0; i < parts.length; i++) suffixes.add(parts.slice(i).join('.'));
  }
  return suffixes;
}
