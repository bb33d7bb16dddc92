/**
 * What a scrub leaves in the database, as one digest per table: the proof that a change to the
 * scrub's speed stores exactly what it stored before (bench:scrub compares the whole command's
 * tables with a reference taken from the code before the change).
 *
 * Each table's rows are rendered as text without what differs between two equal runs (identity
 * ids, run ids, wall-clock times of the run itself), sorted, and hashed. An event's id is replaced
 * by its place in the log (file line number), so a suppression's sample event is compared by the
 * line it came from; a file by its name, not its folder. The first scrub run's summary
 * (runs.counts) is compared too. The bench log is generated the same everywhere (seeded), so
 * bench/scrub-tables.reference.json, taken from the code before issue #15's scrub changes, holds
 * for any checkout on any day: the log's syslog dates carry no year (November 2026), and the bench
 * runs every scrub at a pinned clock (BENCH_NOW in scrub.bench.ts, AUDIENCE_NOW for the command),
 * so they resolve to 2026 and the holds are judged at the same instant whenever it runs.
 *
 *   node --import tsx bench/scrub-tables.ts DATABASE_URL   prints the digest as JSON
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { expandState, type LinkerState } from '../src/maillog/linker.ts';

/** table -> rows and md5 of the sorted row texts. */
export type TableDigest = Record<string, { rows: number; md5: string }>;

const QUERIES: Record<string, string> = {
  delivery_events: `select (ts, day, host, transport, qid, recipient, orig_to, domain, relay, relay_host, relay_provider, status, dsn, class,
      cause_class, stage, reason, sender, client_ip, stream, own_domain, line_no)::text as r from delivery_events`,
  suppressions: `select (s.kind, s.value, s.reason, s.source, s.evidence - 'sampleEventId', e.line_no, s.first_seen, s.last_seen, s.expires_at, s.lifted_at)::text as r
      from suppressions s left join delivery_events e on e.id = (s.evidence->>'sampleEventId')::bigint`,
  holds: `select (scope, provider, domain, mx_host, reason, detail, evidence, starts_at, until, lifted_at)::text as r from holds`,
  maillog_sent_counts: `select (day, transport, stream, own_domain, sent)::text as r from maillog_sent_counts`,
  maillog_sent_providers: `select (day, provider, sent)::text as r from maillog_sent_providers`,
  // The successes per domain, wherever they are (the log is folded into the table by the next run).
  maillog_sent_domains: `select (domain, max(last_ts))::text as r from (select domain, last_ts from maillog_sent_domains union all select domain, last_ts from maillog_sent_domain_log) d group by domain`,
  maillog_daily_health: `select (day, campaign_messages, dkim_signed, stale)::text as r from maillog_daily_health`,
  maillog_stream_daily: `select (day, stream, campaign_messages, dkim_signed)::text as r from maillog_stream_daily`,
  // Paths by their last component: the log is the same wherever the checkout is.
  maillog_files: `select (first_line_hash, regexp_replace(path, '^.*/', ''), gz, byte_offset, lines)::text as r from maillog_files`,
  first_run_summary: `select (counts - 'runId' - 'files', (select jsonb_agg(f - 'path') from jsonb_array_elements(counts->'files') f))::text as r
      from runs where stage = 'scrub-bounces' and id = (select min(id) from runs where stage = 'scrub-bounces')`,
};

/**
 * The linker's saved state by its content: the text of its v2 form (expandState), whichever form
 * the code wrote (v3 since it became the compact one), so the reference taken when v2 was written
 * holds. Its md5 is the one `md5(string_agg(...))` gives the single row (empty for none).
 */
async function linkerStateDigest(c: pg.Client): Promise<{ rows: number; md5: string }> {
  const r = await c.query<{ state: string }>('select state from maillog_linker_state');
  const texts = r.rows.map(({ state }) => {
    let s: LinkerState | null = null;
    try {
      s = JSON.parse(state) as LinkerState;
    } catch {
      // Not JSON: digested as the text it is (it differs from any state a scrub writes).
    }
    return s?.version === 3 ? JSON.stringify(expandState(s)) : state;
  });
  return { rows: texts.length, md5: texts.length ? createHash('md5').update(texts.sort().join('\n')).digest('hex') : '' };
}

export async function scrubTables(url: string): Promise<TableDigest> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const out: TableDigest = {};
    for (const [table, q] of Object.entries(QUERIES)) {
      const r = await c.query<{ rows: string; md5: string | null }>(`select count(*)::text as rows, md5(string_agg(r, E'\\n' order by r collate "C")) as md5 from (${q}) x`);
      out[table] = { rows: Number(r.rows[0]!.rows), md5: r.rows[0]!.md5 ?? '' };
    }
    out.maillog_linker_state = await linkerStateDigest(c);
    return out;
  } finally {
    await c.end();
  }
}

/** The tables whose digest differs between two digests (empty when equal). */
export function differingTables(a: TableDigest, b: TableDigest): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((t) => a[t]?.md5 !== b[t]?.md5 || a[t]?.rows !== b[t]?.rows);
}

if (process.argv[1]?.endsWith('scrub-tables.ts')) {
  const url = process.argv[2];
  if (!url) throw new Error('usage: node --import tsx bench/scrub-tables.ts DATABASE_URL');
  process.stdout.write(JSON.stringify(await scrubTables(url), null, 2) + '\n');
}
