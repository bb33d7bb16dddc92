/**
 * Where the package's own files are, whether the code runs from src/ (tsx, tests) or from the
 * bundle in dist/ (scripts/build.mjs): the one place that knows both layouts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

declare const __AUDIENCE_DIST__: boolean | undefined;

/** True when running from dist/ (the build defines the constant; tsx and vitest do not). */
export const FROM_DIST: boolean = typeof __AUDIENCE_DIST__ !== 'undefined' && __AUDIENCE_DIST__;

/** The folder holding package.json: two levels above src/<area>/, one or two above dist/<chunk>. */
export const PACKAGE_ROOT: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'sql'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`audience: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
})();

/** The prebuilt parse worker of dist/, when running from it. */
export const DIST_PARSE_WORKER: string | null = FROM_DIST ? path.join(PACKAGE_ROOT, 'dist', 'parse-worker.cjs') : null;

/** The prebuilt thread of the census first load's e-mail pass (src/email/census-email-worker.ts). */
export const DIST_CENSUS_EMAIL_WORKER: string | null = FROM_DIST ? path.join(PACKAGE_ROOT, 'dist', 'census-email-worker.cjs') : null;
