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
 * - A line observed after the importing run's clock, or expiring before it was observed, is
 *   rejected with the other malformed lines (import.ts reports each with its line number).
 * Files stream in and out in batches: a 100k-domain cache never sits in memory whole.
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { normalizeDomain } from '../email/normalize.ts';
import { InputError } from '../errors.ts';
import type { MxConfig } from './config.ts';
import { expiresAt, utcDay, type StoredVerdict } from './merge.ts';
import { lowestPreferenceHosts, normalizeHost, PROVIDERS, providerOfMxHosts, type Provider } from './providers.ts';
import type { MxVerdict } from './tables.ts';
import { writeOutputFile } from '../files/safe-output.ts';
import { peopleCsvField, readPeopleCsvField } from '../text/csv.ts';

export const CSV_COLUMNS = ['domain', 'verdict', 'reason', 'provider', 'mx', 'addresses', 'checked_at', 'expires_at', 'last_error'] as const;
const VERDICTS: readonly MxVerdict[] = ['deliverable', 'dead', 'unknown', 'unresolvable'];

/** One CSV record -> a stored verdict, or a message saying what is wrong with it. */
export function verdictFromCsv(rec: Record<string, string | undefined>, config: MxConfig, now: Date): StoredVerdict | string {
  const domain = normalizeDomain(rec.domain ?? '');
  if (!domain) return `domain "${rec.domain ?? ''}" is not a domain name`;
  const verdict = (rec.verdict ?? '').trim() as MxVerdict;
  if (!VERDICTS.includes(verdict)) return `verdict "${rec.verdict ?? ''}" must be one of ${VERDICTS.join(', ')}`;
  const reason = (rec.reason ?? '').trim();
  if (!reason) return 'reason is empty';
  const checked = new Date((rec.checked_at ?? '').trim());
  if (!rec.checked_at?.trim() || Number.isNaN(checked.getTime())) return `checked_at "${rec.checked_at ?? ''}" is not an ISO 8601 time`;
  // A later observation wins (precedence.ts): one dated after now would win over every real check.
  if (checked > now) return `checked_at ${checked.toISOString()} is later than now (${now.toISOString()}): a verdict cannot have been observed in the future (check the exporting machine's clock)`;
  let expires: Date | null = null;
  if (rec.expires_at?.trim()) {
    expires = new Date(rec.expires_at.trim());
    if (Number.isNaN(expires.getTime())) return `expires_at "${rec.expires_at}" is not an ISO 8601 time`;
    if (expires < checked) return `expires_at ${expires.toISOString()} is before checked_at ${checked.toISOString()}`;
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

/** A data line of a verdict CSV: its fields by column name, or why it cannot be read. */
export type CsvLine = { line: number; rec: Record<string, string>; problem?: undefined } | { line: number; problem: string };

/**
 * The data lines of FILE, streamed. A line with the wrong number of fields is handed on as a
 * problem (the other lines still count); a file whose header lacks a needed column, or whose
 * quoting breaks (nothing after it can be trusted), is refused with an InputError.
 */
export async function* verdictCsvLines(file: string): AsyncGenerator<CsvLine> {
  const input = createReadStream(file);
  const parser = input.pipe(parse({ bom: true, skip_empty_lines: true, trim: false, info: true, relax_column_count: true }));
  // pipe() does not forward the source's errors (a missing file): hand them to the parser we iterate.
  input.on('error', (e) => parser.destroy(e));
  let header: string[] | null = null;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        header = record.map((h) => h.trim());
        const missing = ['domain', 'verdict', 'reason', 'checked_at'].filter((c) => !header!.includes(c));
        if (missing.length) throw new InputError(`${file}: missing column(s) ${missing.join(', ')}. The header must be: ${CSV_COLUMNS.join(',')}`);
        continue;
      }
      if (record.length !== header.length) {
        yield { line: info.lines, problem: `${record.length} field(s) where the header has ${header.length}` };
        continue;
      }
      // Undo the export's formula neutralization (peopleCsvField), so a round trip keeps every value.
      yield { line: info.lines, rec: Object.fromEntries(header.map((h, i) => [h, readPeopleCsvField(record[i]!)])) };
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException & { lines?: number };
    if (err.code === 'ENOENT') throw new InputError(`${file} does not exist. Pass the path of a CSV written by \`audience check-mx --export\`.`, { cause: e });
    throw new InputError(`${file} is not a readable verdict CSV${err.lines ? ` (line ${err.lines})` : ''}: ${err.message}. Nothing was imported.`, { cause: e });
  }
}

/**
 * Writes every stored verdict to FILE in domain order, page by page. Returns the row count. The
 * file is meant for people too (a spreadsheet of the cache): a field a spreadsheet would run as a
 * formula (an MX host or error text from a hostile DNS answer) is neutralized, and --import undoes it.
 */
export async function writeVerdictCsv(db: Kysely<Database>, file: string, force = false): Promise<number> {
  return writeOutputFile(file, { force, flag: '--export' }, async (out) => {
    let n = 0;
    await out.write(CSV_COLUMNS.join(',') + '\n');
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
            .map(peopleCsvField)
            .join(','),
        )
        .join('\n');
      await out.write(text + '\n');
      n += rows.length;
      after = rows[rows.length - 1]!.domain;
    }
    return n;
  });
}
