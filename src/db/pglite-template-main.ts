/**
 * `node dist/pglite-template.mjs`: makes the embedded database's template (pglite-template.ts).
 * scripts/build.mjs runs it at install; a failure there only costs speed, so it says so and exits 1
 * for the build to warn about.
 */
import { writeTemplate } from './pglite-template.ts';

const t0 = performance.now();
try {
  const { file, made } = await writeTemplate();
  console.error(`${made ? 'made' : 'kept'} the embedded database's template ${file}${made ? ` in ${Math.round(performance.now() - t0)} ms` : ''}`);
} catch (e) {
  console.error(`could not make the embedded database's template (${(e as Error).message}): a new embedded database is then created from scratch, about 4 s slower.`);
  process.exitCode = 1;
}
