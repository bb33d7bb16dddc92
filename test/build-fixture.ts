/**
 * A small, explicit universe for the build's tests, written straight into the contract tables of
 * the other areas (carriers, emails, carrier_emails, mx_domains, suppressions, holds), so the
 * build is tested on exactly the state it reads, whatever the upstream stages do.
 */
import { Writable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { PushStatus } from '../src/push/tables.ts';
import { createOutput, type Output } from '../src/cli/output.ts';
import { loadConfig, type Config, type ConfigOverrides } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import type { Store } from '../src/db/store.ts';
import { createListmonkClient, type ListmonkClient } from '../src/listmonk/index.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { DEFAULT_USER, ListmonkDouble } from './listmonk-double/index.ts';

export const DATE = '2026-11-28';
/** 06:00 in Chicago on DATE: a morning cron. */
export const NOW = new Date('2026-11-28T12:00:00Z');

export interface FxCarrier {
  dot: number;
  emails: string[];
  status?: 'active' | 'inactive';
  /** Default null with an old add_date: overdue for MCS-150, so in the mcs150 segment. */
  mcs150?: string | null;
  added?: string | null;
  name?: string;
  testRecord?: boolean;
}

export interface FxDomain {
  verdict?: 'deliverable' | 'dead' | 'unknown';
  provider?: string | null;
}

function splitAddress(a: string) {
  const at = a.lastIndexOf('@');
  const valid = at > 0 && at < a.length - 1 && /^[a-z0-9._+-]+@[a-z0-9.-]+\.[a-z]{2,}$/.test(a);
  return { local: at > 0 ? a.slice(0, at) : null, domain: at > 0 ? a.slice(at + 1) : null, valid };
}

/** Replaces the universe: carriers, their addresses (with carrier counts), and an MX verdict per domain. */
export async function seedUniverse(db: Kysely<Database>, carriers: readonly FxCarrier[], domains: Record<string, FxDomain> = {}): Promise<void> {
  await sql`truncate carriers, carrier_emails, email_reasons, emails, mx_domains restart identity cascade`.execute(db);
  if (!carriers.length) return;
  await sql`insert into carriers (dot_number, status, legal_name, mcs150_date, add_date, is_test_record, phy_state, power_units,
              source_format, source_file, source_line, first_run_id, changed_run_id)
    select u.dot, u.status, u.name, u.mcs, u.added, u.test, 'TX', 3, 'test', 'fixture', 0, 0, 0
    from unnest(${carriers.map((c) => c.dot)}::bigint[], ${carriers.map((c) => c.status ?? 'active')}::text[],
                ${carriers.map((c) => c.name ?? `Carrier ${c.dot} LLC`)}::text[], ${carriers.map((c) => (c.mcs150 === undefined ? null : c.mcs150))}::date[],
                ${carriers.map((c) => (c.added === undefined ? '2001-05-01' : c.added))}::date[], ${carriers.map((c) => Boolean(c.testRecord))}::boolean[])
         as u(dot, status, name, mcs, added, test)`.execute(db);
  const links: { dot: number; address: string; position: number }[] = [];
  for (const c of carriers) c.emails.forEach((address, i) => links.push({ dot: c.dot, address, position: i + 1 }));
  const addresses = [...new Set(links.map((l) => l.address))];
  const parts = addresses.map(splitAddress);
  await sql`insert into emails (address, local_part, domain, valid, carrier_count, normalizer_version)
    select u.a, u.l, u.d, u.v, (select count(*) from unnest(${links.map((l) => l.address)}::text[]) x where x = u.a), 1
    from unnest(${addresses}::text[], ${parts.map((p) => p.local)}::text[], ${parts.map((p) => p.domain)}::text[], ${parts.map((p) => p.valid)}::boolean[]) as u(a, l, d, v)`.execute(db);
  await sql`insert into carrier_emails (dot_number, email_id, position)
    select u.dot, e.id, u.pos from unnest(${links.map((l) => l.dot)}::bigint[], ${links.map((l) => l.address)}::text[], ${links.map((l) => l.position)}::int[]) as u(dot, a, pos)
    join emails e on e.address = u.a`.execute(db);
  await sql`insert into email_reasons (email_id, code, detail, since)
    select id, 'invalid_syntax', 'fixture: not an address', ${NOW}::timestamptz from emails where not valid`.execute(db);
  const allDomains = [...new Set(parts.filter((p) => p.valid).map((p) => p.domain!))];
  const verdicts = allDomains.map((d) => domains[d]?.verdict ?? 'deliverable');
  await sql`insert into mx_domains (domain, verdict, reason, provider, checked_at, expires_at, source)
    select u.d, u.v, case u.v when 'deliverable' then 'mx' when 'dead' then 'nxdomain' else 'timeout' end, u.p,
           ${NOW}::timestamptz - interval '1 hour', ${NOW}::timestamptz + interval '30 days', 'import'
    from unnest(${allDomains}::text[], ${verdicts}::text[], ${allDomains.map((d) => (domains[d]?.provider === undefined ? 'other' : domains[d]!.provider))}::text[]) as u(d, v, p)`.execute(db);
}

export async function addSuppression(db: Kysely<Database>, kind: 'address' | 'domain', value: string): Promise<void> {
  await sql`insert into suppressions (kind, value, reason, source, evidence, first_seen, last_seen)
    values (${kind}, ${value}, 'recipient_invalid', 'operator', '{}'::jsonb, ${NOW}::timestamptz, ${NOW}::timestamptz)`.execute(db);
}

export async function addHold(db: Kysely<Database>, scope: 'provider' | 'global', provider: string | null, until: Date, reason = scope === 'global' ? 'dkim_coverage' : 'reputation_block'): Promise<void> {
  await sql`insert into holds (scope, provider, reason, detail, evidence, starts_at, until)
    values (${scope}, ${provider}, ${reason}, 'fixture hold', '{}'::jsonb, ${new Date(until.getTime() - 86_400_000)}::timestamptz, ${until}::timestamptz)`.execute(db);
}

export function fxConfig(overrides: ConfigOverrides = {}, dailyCap = 5): Config {
  return loadConfig({
    env: {},
    cwd: '/nonexistent',
    overrides: {
      timezone: 'America/Chicago',
      warmup: { start: '2026-11-20', ramp: [{ fromDay: 0, hourly: Math.max(1, Math.ceil(dailyCap / 10)), daily: dailyCap }] },
      ...overrides,
    },
  });
}

const sink = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

export function quietOutput(): Output {
  return createOutput({ json: true, quiet: true, stdout: sink(), stderr: sink() });
}

export function fxContext(store: Store, config: Config, now: Date = NOW): StageContext {
  return { config, store, out: quietOutput(), now: () => now };
}

/** A Listmonk double whose clock is the fixture's: "in the future" means after NOW, whatever the machine's day. */
export function startDouble(opts: Parameters<typeof ListmonkDouble.start>[0] = {}): Promise<ListmonkDouble> {
  return ListmonkDouble.start({ now: () => NOW, ...opts });
}

export function doubleClient(double: ListmonkDouble, config: Config, now: Date = NOW): ListmonkClient {
  return createListmonkClient(
    { ...config.listmonk, url: double.url, apiUser: DEFAULT_USER.username, apiToken: DEFAULT_USER.token, retryBaseMs: 1, retryMaxMs: 5, timeoutMs: 2000 },
    { now: () => now },
  );
}

/** `n` overdue mcs150 carriers with one address each at a provider of tier `other`: equally good recipients. */
export function overdueCarriers(n: number): FxCarrier[] {
  return Array.from({ length: n }, (_, i) => ({ dot: 1000 + i * 10, emails: [`owner${String(i).padStart(2, '0')}@mesa-trucking.test`] }));
}

/** The date's ledger addresses in these statuses, sorted. */
export async function ledgerAddresses(db: Kysely<Database>, date: string, statuses: readonly PushStatus[]): Promise<string[]> {
  const r = await sql<{ address: string }>`
    select address from push_ledger where send_date = ${date}::date and status = any(${[...statuses]}::text[]) order by address`.execute(db);
  return r.rows.map((x) => x.address);
}

/**
 * A test file's store and Listmonk double: the ledger, opt-outs, lists, suppressions, holds and
 * runs emptied and the universe seeded before each test, a fresh double for each.
 */
export function buildTestBed(universe: readonly FxCarrier[], domains: Record<string, FxDomain> = {}): { readonly store: TestStore; readonly lm: ListmonkDouble } {
  let store: TestStore | undefined;
  let lm: ListmonkDouble | undefined;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store?.close();
  });
  beforeEach(async () => {
    await sql`truncate push_ledger, push_releases, list_unsubscribes, opt_outs, build_lists, listmonk_blocklist_sync, suppressions, holds, runs restart identity`.execute(store!.db);
    await seedUniverse(store!.db, universe, domains);
    lm = await startDouble();
  });
  afterEach(async () => {
    await lm?.stop();
  });
  return {
    get store() {
      return store!;
    },
    get lm() {
      return lm!;
    },
  };
}

/** The client with `run` called just before each call of `method`: something changes in Listmonk mid-build. */
export function beforeEachCall<K extends keyof ListmonkClient>(client: ListmonkClient, method: K, run: () => void): ListmonkClient {
  return new Proxy(client, {
    get(target, key) {
      const v: unknown = Reflect.get(target, key, target);
      if (typeof v !== 'function') return v;
      const bound = (v as (...a: unknown[]) => unknown).bind(target);
      if (key !== method) return bound;
      return (...a: unknown[]) => {
        run();
        return bound(...a);
      };
    },
  });
}
