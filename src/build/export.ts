/**
 * --out DIR: each segment's selection as a Listmonk import CSV (email,name,attributes — the
 * attributes a JSON object, as Listmonk's importer reads it) and the run summary as JSON, so an
 * analyst can review a dry run or import by hand.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
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

export function writeOut(dir: string, date: string, segments: readonly string[], rows: readonly PushRow[], runId: number, summary: object): WrittenFiles {
  try {
    mkdirSync(dir, { recursive: true });
    const csv: Record<string, string> = {};
    for (const seg of segments) {
      const file = path.join(dir, `${seg}-${date}.csv`);
      writeFileSync(file, importCsv(rows.filter((r) => r.segment === seg), runId));
      csv[seg] = file;
    }
    const summaryFile = path.join(dir, `build-${date}.json`);
    writeFileSync(summaryFile, JSON.stringify(summary, null, 2) + '\n');
    return { csv, summary: summaryFile };
  } catch (e) {
    throw new InputError(`cannot write the --out files in ${dir}: ${(e as Error).message}. Pick a writable directory.`, { cause: e });
  }
}
