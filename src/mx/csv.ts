/**
 * Verdicts as CSV, to seed a cache or move it between machines (`check-mx --import / --export`).
 *
 *   domain,verdict,reason,provider,mx,addresses,checked_at,expires_at,last_error
 *   example.com,deliverable,mx,google,1 smtp.google.com,142.250.1.26,2026-11-20T10:00:00.000Z,2026-11-27T10:00:00.000Z,
 *
 * - `mx` is `PREFERENCE HOST` pairs separated by `;`, `addresses` is `;`-separated.
 * - `checked_at` (ISO 8601) is when the DNS was observed: an import keeps it, so an old snapshot
 *   never overwrites a newer observation, and `mx_dead` reports the real date.
 * - `expires_at` is honoured when present, so a shipped snapshot (data-samples/mx-snapshot.csv)
 *   can stay valid for the demo; when empty, it follows the cache policy from `checked_at`.
 * - `provider` is recomputed from the MX hosts when they are given (the suffix table may have
 *   grown since the export); it is read from the file only for rows without MX hosts.
 * Files stream in and out in batches: a 100k-domain cache never sits in memory whole.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parse } from 'csv-parse';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { normalizeDomain } from '../email/normalize.ts';
import { InputError } from '../errors.ts';
import type { MxConfig } from './config.ts';
import { expiresAt, utcDay, type StoredVerdict } from './merge.ts';
import { lowestPreferenceHosts, normalizeHost, PROVIDERS, providerOfMxHosts, type Provider } from './providers.ts';
import type { MxVerdict } from './tables.ts';
import { csvField } from '../text/csv.ts';

export const CSV_COLUMNS = ['domain', 'verdict', 'reason', 'provider', 'mx', 'addresses', 'checked_at', 'expires_at', 'last_error'] as const;
const VERDICTS: readonly MxVerdict[] = ['deliverable', 'dead', 'unknown', 'unresolvable'];
const BATCH = 1000;

/** One CSV record -> a stored verdict, or a message saying what is wrong with it. */
export function verdictFromCsv(rec: Record<string, string | undefined>, config: MxConfig): StoredVerdict | string {
  const domain = normalizeDomain(rec.domain ?? '');
  if (!domain) return `domain "${rec.domain ?? ''}" is not a domain name`;
  const verdict = (rec.verdict ?? '').trim() as MxVerdict;
  if (!VERDICTS.includes(verdict)) return `verdict "${rec.verdict ?? ''}" must be one of ${VERDICTS.join(', ')}`;
  const reason = (rec.reason ?? '').trim();
  if (!reason) return 'reason is empty';
  const checked = new Date((rec.checked_at ?? '').trim());
  if (!rec.checked_at?.trim() || Number.isNaN(checked.getTime())) return `checked_at "${rec.checked_at ?? ''}" is not an ISO 8601 time`;
  let expires: Date | null = null;
  if (rec.expires_at?.trim()) {
    expires = new Date(rec.expires_at.trim());
    if (Number.isNaN(expires.getTime())) return `expires_at "${rec.expires_at}" is not an ISO 8601 time`;
  }
  const mx: { exchange: string; priority: number }[] = [];
  for (const part of (rec.mx ?? '').split(';').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d{1,5})\s+(\S+)$/.exec(part);
    if (!m) return `mx entry "${part}" must be "PREFERENCE HOST", e.g. "10 mx1.example.com"`;
    mx.push({ priority: Number(m[1]), exchange: normalizeHost(m[2]!) });
  }
  mx.sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange));
  let provider: string | null = (rec.provider ?? '').trim() || null;
  if (mx.length) provider = providerOfMxHosts(lowestPreferenceHosts(mx));
  else if (provider && !(PROVIDERS as readonly string[]).includes(provider)) return `provider "${provider}" must be one of ${PROVIDERS.join(', ')}`;
  const unknown = verdict === 'unknown' || verdict === 'unresolvable';
  return {
    domain,
    verdict,
    reason,
    provider: provider as Provider | null,
    mx_hosts: mx.map((r) => r.exchange),
    mx_preferences: mx.map((r) => r.priority),
    addresses: (rec.addresses ?? '').split(';').map((s) => s.trim()).filter(Boolean),
    ttl_seconds: null,
    checked_at: checked,
    expires_at: expires ?? expiresAt(verdict, null, checked, config),
    dead_since: verdict === 'dead' || verdict === 'unresolvable' ? checked : null,
    last_error: (rec.last_error ?? '').trim() || null,
    unknown_since: unknown ? checked : null,
    unknown_days: verdict === 'unresolvable' ? config.unresolvableAfterDays : verdict === 'unknown' ? 1 : 0,
    last_unknown_day: unknown ? utcDay(checked) : null,
    source: 'import',
    run_id: null,
  };
}

/**
 * Reads FILE in batches and hands each batch of valid rows to `write`. A file with any bad row is
 * refused as a whole before anything is written (InputError listing the first problems), so a
 * half-imported snapshot never exists.
 */
export async function readVerdictCsv(file: string, config: MxConfig, write: (rows: StoredVerdict[]) => Promise<void>): Promise<number> {
  const problems: string[] = [];
  let total = 0;
  // Pass 1 validates, pass 2 writes: the file streams twice instead of sitting in memory.
  for (const pass of ['validate', 'write'] as const) {
    let batch: StoredVerdict[] = [];
    for await (const { rec, line } of records(file)) {
      const v = verdictFromCsv(rec, config);
      if (typeof v === 'string') {
        if (problems.length < 10) problems.push(`line ${line}: ${v}`);
        continue;
      }
      if (pass === 'validate') {
        total++;
        continue;
      }
      batch.push(v);
      if (batch.length >= BATCH) {
        await write(batch);
        batch = [];
      }
    }
    if (pass === 'validate' && problems.length)
      throw new InputError(`${file} has rows that cannot be imported (nothing was imported):\n  ${problems.join('\n  ')}\nFix them (format: ${CSV_COLUMNS.join(',')}) and import again.`);
    if (pass === 'write' && batch.length) await write(batch);
  }
  return total;
}

async function* records(file: string): AsyncGenerator<{ rec: Record<string, string>; line: number }> {
  const input = createReadStream(file);
  const parser = input.pipe(parse({ columns: true, bom: true, skip_empty_lines: true, trim: false, info: true, relax_column_count: false }));
  // pipe() does not forward the source's errors (a missing file): hand them to the parser we iterate.
  input.on('error', (e) => parser.destroy(e));
  let header = true;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      if (header) {
        const missing = ['domain', 'verdict', 'reason', 'checked_at'].filter((c) => !(c in record));
        if (missing.length) throw new InputError(`${file}: missing column(s) ${missing.join(', ')}. The header must be: ${CSV_COLUMNS.join(',')}`);
        header = false;
      }
      yield { rec: record, line: info.lines };
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new InputError(`${file} does not exist. Pass the path of a CSV written by \`audience check-mx --export\`.`, { cause: e });
    throw new InputError(`${file} is not a readable verdict CSV: ${err.message}`, { cause: e });
  }
}

/** Writes every stored verdict to FILE in domain order, page by page. Returns the row count. */
export async function writeVerdictCsv(db: Kysely<Database>, file: string): Promise<number> {
  const out = createWriteStream(file);
  const closed = once(out, 'close');
  out.on('error', () => {});
  let n = 0;
  try {
    out.write(CSV_COLUMNS.join(',') + '\n');
    let after = '';
    for (;;) {
      const rows = await db
        .selectFrom('mx_domains')
        .select(['domain', 'verdict', 'reason', 'provider', 'mx_hosts', 'mx_preferences', 'addresses', 'checked_at', 'expires_at', 'last_error'])
        .where('domain', '>', after)
        .orderBy('domain')
        .limit(5000)
        .execute();
      if (!rows.length) break;
      const text = rows
        .map((r) =>
          [
            r.domain,
            r.verdict,
            r.reason,
            r.provider ?? '',
            r.mx_hosts.map((h, i) => `${r.mx_preferences[i] ?? 0} ${h}`).join(';'),
            r.addresses.join(';'),
            r.checked_at.toISOString(),
            r.expires_at.toISOString(),
            r.last_error ?? '',
          ]
            .map(csvField)
            .join(','),
        )
        .join('\n');
      if (!out.write(text + '\n')) await once(out, 'drain');
      n += rows.length;
      after = rows[rows.length - 1]!.domain;
    }
  } catch (e) {
    out.destroy();
    throw e;
  }
  out.end();
  await closed;
  if (out.errored) throw new InputError(`cannot write ${file}: ${out.errored.message}. Check the folder exists and is writable.`);
  return n;
}
