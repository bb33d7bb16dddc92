/**
 * The script a worker thread runs: the prebuilt file in dist/ when running from the build
 * (scripts/build.mjs), else its entry module and what it imports bundled once per process by
 * esbuild, which tsx (the development loader) is built on: loading tsx in the thread instead costs
 * about 0.35 s and a loader thread of its own. Sources do not change under a running process.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const scripts = new Map<string, Promise<string>>();

/** The text of the thread's script, to run with `new Worker(text, { eval: true })`. */
export function threadScript(entry: URL, dist: string | null): Promise<string> {
  const key = dist ?? entry.href;
  let script = scripts.get(key);
  if (script) return script;
  script = dist
    ? readFile(dist, 'utf8')
    : import('esbuild')
        .then(({ build }) =>
          build({ entryPoints: [fileURLToPath(entry)], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent' }),
        )
        .then((r) => r.outputFiles[0]!.text);
  scripts.set(key, script);
  script.catch(() => scripts.delete(key));
  return script;
}
