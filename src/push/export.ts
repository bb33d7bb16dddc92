/**
 * --out DIR: each segment's selection as a Listmonk import CSV (email,name,attributes — the
 * attributes a JSON object, as Listmonk's importer reads it) and the run summary as JSON, so an
 * analyst can review a dry run or import by hand.
 *
 * The import CSV keeps the data exact (csvField): it is read by Listmonk, not by a spreadsheet, and
 * a legal name such as `=SUM(...)` is that carrier's name. Opened in a spreadsheet, such a cell
 * would be run as a formula: review the file with a text viewer. (Addresses cannot start with a
 * formula character: those are invalid_syntax, see src/email/validate.ts.) Each file is written
 * through safe-output: never over a file this run did not create unless --force, never through a link.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.ts';
import { checkOutputTarget, writeOutputFile } from '../files/safe-output.ts';
import type { PushRow } from './ledger.ts';
import { subscriberOf } from './push.ts';
import { csvField } from '../text/csv.ts';

export function importCsv(rows: readonly PushRow[], runId: number): string {
  const lines = ['email,name,attributes'];
  for (const r of rows) {
    const s = subscriberOf(r, runId);
    lines.push([s.email, s.name ?? '', JSON.stringify(s.attribs)].map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}

export interface WrittenFiles {
  csv: Record<string, string>;
  summary: string;
}

/** The files `--out DIR` writes for a date and its segments. */
export function outFiles(dir: string, date: string, segments: readonly string[]): WrittenFiles {
  return { csv: Object.fromEntries(segments.map((seg) => [seg, path.join(dir, `${seg}-${date}.csv`)])), summary: path.join(dir, `build-${date}.json`) };
}

/** Refuses, before the build does anything, an --out whose files could not be written. */
export function checkOut(dir: string, date: string, segments: readonly string[], force: boolean): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return; // created by writeOut; nothing in it can exist yet
  }
  if (!st.isDirectory()) throw new UsageError(`--out ${dir} is not a folder: give a folder path (it is created when missing).`);
  const files = outFiles(dir, date, segments);
  for (const f of [...Object.values(files.csv), files.summary]) checkOutputTarget(f, { force, flag: '--out' });
}

export async function writeOut(dir: string, date: string, segments: readonly string[], rows: readonly PushRow[], runId: number, summary: object, force = false): Promise<WrittenFiles> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(`cannot create the --out folder ${dir} (${(e as Error).message}). Pick a writable folder.`, { cause: e });
  }
  const files = outFiles(dir, date, segments);
  const o = { force, flag: '--out' };
  for (const seg of segments) await writeOutputFile(files.csv[seg]!, o, (f) => f.write(importCsv(rows.filter((r) => r.segment === seg), runId)));
  await writeOutputFile(files.summary, o, (f) => f.write(JSON.stringify({ ...summary, out: files }, null, 2) + '\n'));
  return files;
}
