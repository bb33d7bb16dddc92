/**
 * The safety invariants of ../shared/design.md, computed by the simulation itself from the raw
 * tables (push_ledger, holds, suppressions as first seen by a scrub) and from the Listmonk double's
 * state, never from the product's summaries or rules:
 *
 *  cooldown   no address is pushed or reserved for two dates within cooldownDays of each other
 *             (either direction, any segment), in the ledger and in Listmonk's lists;
 *  opt-out    no address the simulation opted out in Listmonk (unsubscribed or blocklisted) is mailed
 *             after that moment (run.ts checks each campaign's mail as the MTA sends it), nor
 *             reserved or pushed after it, nor put on a list made after it;
 *  cap        a date's reserved + pushed rows, and its lists' members in Listmonk, stay within
 *             the ramp's daily cap of that date (the test's own ramp table);
 *  excluded   nothing pushed is Yahoo family (by list or MX), on a dead domain, suppressed or
 *             held (provider, domain or mail server) at the time it was pushed;
 *  dkim       nothing is pushed while a global (DKIM coverage) hold stands.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { YAHOO_FAMILY_DOMAINS } from '../../src/email/yahoo-family.ts';
import type { ListmonkDouble } from '../listmonk-double/index.ts';
import { DOMAIN_BY_NAME, domainOf } from './world.ts';

const DAY = 86_400_000;

export interface SeenHold {
  id: number;
  scope: 'provider' | 'domain' | 'global';
  provider: string | null;
  domain: string | null;
  mxHost: string | null;
  reason: string;
  /**
   * When it stood: from each scrub that showed it active (the simulation's clock) to its `until`
   * as that scrub left it. A hold that ran out and was extended later by new evidence has two.
   */
  windows: { from: Date; until: Date }[];
  liftedAt: Date | null;
}

export interface SeenSuppression {
  kind: 'address' | 'domain';
  value: string;
  seenAt: Date;
}

export interface Observed {
  holds: Map<number, SeenHold>;
  suppressions: Map<number, SeenSuppression>;
  /** Address -> when the simulation opted it out in Listmonk (the first time). */
  optedOutAt: Map<string, Date>;
}

export function emptyObserved(): Observed {
  return { holds: new Map(), suppressions: new Map(), optedOutAt: new Map() };
}

/** Records the holds and suppressions the scrub has written, as seen at `at`. */
export async function observe(db: Kysely<Database>, o: Observed, at: Date): Promise<void> {
  const holds = await sql<{ id: string; scope: SeenHold['scope']; provider: string | null; domain: string | null; mx_host: string | null; reason: string; until: Date; lifted_at: Date | null }>`
    select id, scope, provider, domain, mx_host, reason, until, lifted_at from holds`.execute(db);
  for (const h of holds.rows) {
    const windows = o.holds.get(Number(h.id))?.windows ?? [];
    const until = new Date(h.until);
    if (!h.lifted_at && until > at) windows.push({ from: at, until });
    o.holds.set(Number(h.id), { id: Number(h.id), scope: h.scope, provider: h.provider, domain: h.domain, mxHost: h.mx_host, reason: h.reason, windows, liftedAt: h.lifted_at ? new Date(h.lifted_at) : null });
  }
  const sup = await sql<{ id: string; kind: 'address' | 'domain'; value: string }>`select id, kind, value from suppressions where lifted_at is null`.execute(db);
  for (const s of sup.rows) if (!o.suppressions.has(Number(s.id))) o.suppressions.set(Number(s.id), { kind: s.kind, value: s.value, seenAt: at });
}

export function isYahooFamily(domain: string): boolean {
  const parts = domain.split('.');
  return parts.some((_, i) => YAHOO_FAMILY_DOMAINS.has(parts.slice(i).join('.'))) || DOMAIN_BY_NAME.get(domain)?.provider === 'yahoo';
}

/**
 * What forbids mailing or pushing `address` at `at`, by the simulation's world and what the scrub
 * had shown by then: Yahoo family, a dead domain, a suppression, a hold (provider, domain or mail
 * server; the global DKIM hold).
 */
export function excludedAt(o: Observed, address: string, at: Date): { kind: string; detail: string }[] {
  const out: { kind: string; detail: string }[] = [];
  const domain = domainOf(address);
  const world = DOMAIN_BY_NAME.get(domain);
  if (isYahooFamily(domain)) out.push({ kind: 'yahoo', detail: '' });
  if (world?.verdict !== 'deliverable') out.push({ kind: 'dead', detail: ` (domain ${world?.verdict ?? 'unknown to the simulation'})` });
  for (const s of o.suppressions.values())
    if (s.seenAt <= at && (s.kind === 'address' ? s.value === address : s.value === domain)) out.push({ kind: 'suppressed', detail: ` (${s.kind} ${s.value} since ${s.seenAt.toISOString()})` });
  for (const h of o.holds.values()) {
    const w = h.windows.find((x) => x.from <= at && at < x.until && (h.liftedAt === null || at < h.liftedAt));
    if (!w) continue;
    const applies =
      h.scope === 'global' ||
      (h.scope === 'provider' && world?.provider === h.provider) ||
      (h.scope === 'domain' && (h.domain === domain || (h.mxHost !== null && (world?.mx ?? []).includes(h.mxHost))));
    if (applies)
      out.push({
        kind: h.scope === 'global' ? 'dkim' : 'held',
        detail: ` under the ${h.scope} hold #${h.id} ${h.provider ?? h.domain ?? ''} (${h.reason}, standing from ${w.from.toISOString()} until ${w.until.toISOString()})`,
      });
  }
  return out;
}

const dayDiff = (a: string, b: string) => Math.round(Math.abs(Date.parse(a) - Date.parse(b)) / DAY);

export interface CheckInput {
  db: Kysely<Database>;
  lm: ListmonkDouble;
  observed: Observed;
  cooldownDays: number;
  capOf: (date: string) => number;
  listPrefix: string;
}

/** Every invariant, over the whole history so far. Returns the violations and how many checks ran. */
export async function checkInvariants(x: CheckInput): Promise<{ violations: string[]; checks: number }> {
  const v: string[] = [];
  let checks = 0;
  const ledger = (
    await sql<{ send_date: string; segment: string; address: string; status: string; reserved_at: Date; pushed_at: Date | null }>`
      select to_char(send_date, 'YYYY-MM-DD') as send_date, segment, address, status, reserved_at, pushed_at
      from push_ledger where status in ('reserved', 'pushed') order by address, send_date`.execute(x.db)
  ).rows;

  // cooldown (ledger): rows are sorted by address and date, so neighbours are the closest dates.
  for (let i = 1; i < ledger.length; i++) {
    const a = ledger[i - 1]!;
    const b = ledger[i]!;
    if (a.address !== b.address) continue;
    checks++;
    if (dayDiff(a.send_date, b.send_date) <= x.cooldownDays) v.push(`cooldown: ${b.address} ${a.status} for ${a.send_date} (${a.segment}) and ${b.status} for ${b.send_date} (${b.segment}), ${dayDiff(a.send_date, b.send_date)} day(s) apart`);
  }

  // cooldown, opt-out and cap (Listmonk): the lists this project made, by date, and who is on them.
  const m = x.lm.model;
  const ours = new Map<number, { date: string; created: Date }>();
  const listName = new RegExp(`^${x.listPrefix ? x.listPrefix + ' ' : ''}\\S+ (\\d{4}-\\d{2}-\\d{2})$`);
  for (const l of m.lists.values()) {
    const hit = listName.exec(l.name);
    if (hit) ours.set(l.id, { date: hit[1]!, created: new Date(l.created_at) });
  }
  const perDate = new Map<string, number>();
  for (const [subId, subs] of m.subscriptions) {
    const email = m.subscribers.get(subId)?.email.toLowerCase();
    if (!email) continue;
    const dates = [...subs.keys()].flatMap((id) => (ours.has(id) ? [ours.get(id)!.date] : [])).sort();
    for (const d of dates) perDate.set(d, (perDate.get(d) ?? 0) + 1);
    for (let i = 1; i < dates.length; i++) {
      checks++;
      if (dayDiff(dates[i - 1]!, dates[i]!) <= x.cooldownDays) v.push(`cooldown (Listmonk): ${email} is on the lists of ${dates[i - 1]} and ${dates[i]}`);
    }
    const out = x.observed.optedOutAt.get(email);
    if (out)
      for (const id of subs.keys()) {
        const l = ours.get(id);
        checks++;
        if (l && l.created > out) v.push(`opt-out (Listmonk): ${email} opted out at ${out.toISOString()} but is on the list of ${l.date}, made ${l.created.toISOString()}`);
      }
  }
  for (const [date, n] of perDate) {
    checks++;
    if (n > x.capOf(date)) v.push(`cap (Listmonk): ${n} subscriber(s) on the lists of ${date}, cap ${x.capOf(date)}`);
  }

  // cap (ledger)
  const byDate = new Map<string, number>();
  for (const r of ledger) byDate.set(r.send_date, (byDate.get(r.send_date) ?? 0) + 1);
  for (const [date, n] of byDate) {
    checks++;
    if (n > x.capOf(date)) v.push(`cap: ${n} reserved/pushed for ${date}, cap ${x.capOf(date)}`);
  }

  for (const r of ledger) {
    // A reservation counts from when it was made; a push from when Listmonk confirmed it.
    const at = new Date(r.pushed_at ?? r.reserved_at);
    const out = x.observed.optedOutAt.get(r.address);
    checks += 5;
    if (out && at > out) v.push(`opt-out: ${r.address} opted out at ${out.toISOString()}, ${r.status} for ${r.send_date} at ${at.toISOString()}`);
    for (const why of excludedAt(x.observed, r.address, at)) v.push(`${why.kind}: ${r.address} ${r.status} for ${r.send_date} at ${at.toISOString()}${why.detail}`);
  }
  return { violations: v, checks };
}
