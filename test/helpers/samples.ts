/**
 * The real public samples in ../shared/samples are the conformance corpus. CI has them; a user's
 * clone does not, so corpus tests skip with a one-line note when they are absent.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SAMPLES_DIR = path.resolve(REPO_ROOT, '../shared/samples');
export const hasSamples = existsSync(SAMPLES_DIR);

/** Absolute path of a file under ../shared/samples (e.g. 'fmcsa/sms_input_census_kjg3-diqy_2025-08_100rows.csv'). */
export function samplePath(rel: string): string {
  return path.join(SAMPLES_DIR, rel);
}

/** describe() that runs only when ../shared/samples exists, and says so once when it does not. */
export function describeWithSamples(name: string, fn: () => void): void {
  if (!hasSamples) {
    describe.skip(`${name} (skipped: ../shared/samples not present in this checkout)`, fn);
    return;
  }
  describe(name, fn);
}
