#!/usr/bin/env node
// Builds the CLI once (npm ci runs it as `prepare`), so a command starts from plain JavaScript
// instead of compiling TypeScript through tsx at every start. Output in dist/:
//   audience.mjs (+ chunks, one per lazily loaded pipeline), parse-worker.cjs (the scrub's thread),
//   pglite-template.mjs (makes the embedded database's template, run right after the build),
//   build-stamp.json (what the build was made from: bin/audience.mjs runs the sources instead when
//   a source file is newer, so a developer's edit is never run stale).
// node_modules stay external: PGlite finds its WASM next to its own module, and the packages are
// already plain JavaScript.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
// Packages left to Node's resolver at run time; the others are bundled into the chunks. Kysely, zod
// and pg were hundreds of small files for Node to find, read and compile at every start (a third
// of an unchanged scrub's CPU); bundled, a command reads its few chunks. PGlite finds its WASM and
// data files next to its own module, so it stays where npm put it; pg-native is pg's optional
// native binding (never installed here); esbuild and tsx are the build's and development's tools.
const EXTERNAL = ['@electric-sql/pglite', 'pg-native', 'esbuild', 'tsx', 'playwright-core'];

/**
 * pg asks at load whether it runs in a Cloudflare Worker; on Node 20 (no `navigator`) it answers
 * by constructing a fetch Response, which makes Node load its whole fetch implementation (undici):
 * ~20 ms of every command that opens PostgreSQL, `explain` included. The bundle only ever runs on
 * Node, so it takes pg's Node.js streams directly. The build fails if pg's code no longer reads as
 * expected (a pg upgrade), rather than silently keeping the cost or changing pg's behaviour.
 */
const nodeOnlyPg = {
  name: 'pg-node-streams',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const call = 'const { getStream, getSecureStream } = getStreamFuncs()';
      if (!text.includes(call) || !text.includes('function getNodejsStreamFuncs()'))
        throw new Error(`${args.path}: pg's stream selection changed; review the pg-node-streams plugin of scripts/build.mjs`);
      return { contents: text.replace(call, 'const { getStream, getSecureStream } = getNodejsStreamFuncs()'), loader: 'js' };
    });
  },
};

/** The newest modification time of the sources the bundle is made of (ms): src/ and the pipelines/ it loads. */
export function newestSource(dirs = [path.join(root, 'src'), path.join(root, 'pipelines')]) {
  let newest = 0;
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      newest = Math.max(newest, e.isDirectory() ? newestSource([p]) : statSync(p).mtimeMs);
    }
  }
  return newest;
}

/**
 * True when dist/ was built from the sources as they are now (or when there are no sources, as in
 * a package installed from a tarball: the build is all there is).
 */
export function isBuildFresh() {
  try {
    const { sourcesAt } = JSON.parse(readFileSync(path.join(dist, 'build-stamp.json'), 'utf8'));
    return !existsSync(path.join(root, 'src')) || newestSource() <= sourcesAt;
  } catch {
    return false;
  }
}

export async function buildDist() {
  const { build } = await import('esbuild');
  const sourcesAt = newestSource();
  // Build beside dist/ and swap it in, so a command starting meanwhile sees the old or the new
  // build whole, never half of one.
  const tmp = `${dist}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // __AUDIENCE_DIST__ tells the code it runs from this build (src/paths.ts): the prebuilt worker is
  // used, and the package root is found from dist/ instead of from src/.
  const common = { bundle: true, platform: 'node', target: 'node20', external: EXTERNAL, plugins: [nodeOnlyPg], logLevel: 'warning', legalComments: 'none', define: { __AUDIENCE_DIST__: 'true' } };
  // The bundled CommonJS packages (commander, pg, ...) call require(): give each ESM file one.
  const esmRequire = { js: "import { createRequire as __audienceRequire } from 'node:module'; const require = __audienceRequire(import.meta.url);" };
  await build({
    ...common,
    entryPoints: { audience: path.join(root, 'src/cli/main.ts') },
    format: 'esm',
    banner: esmRequire,
    splitting: true,
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
  });
  await build({ ...common, entryPoints: [path.join(root, 'src/maillog/parse-worker-main.ts')], format: 'cjs', outfile: path.join(tmp, 'parse-worker.cjs') });
  await build({ ...common, entryPoints: [path.join(root, 'src/db/pglite-template-main.ts')], format: 'esm', banner: esmRequire, outfile: path.join(tmp, 'pglite-template.mjs') });
  writeFileSync(path.join(tmp, 'build-stamp.json'), JSON.stringify({ sourcesAt, builtAt: Date.now() }) + '\n');
  const old = `${dist}.old-${process.pid}`;
  try {
    renameSync(dist, old);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  renameSync(tmp, dist);
  rmSync(old, { recursive: true, force: true });
}

/**
 * The embedded database's template (src/db/pglite-template.ts), made from the fresh build. Its
 * failure only costs speed (a new database is then created from scratch), so it never fails the
 * install.
 */
export function makeTemplate() {
  const r = spawnSync(process.execPath, [path.join(dist, 'pglite-template.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) console.error('warning: the embedded database template was not made (see above); everything works, a first start is slower.');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  await buildDist();
  console.error(`built dist/ in ${Math.round(performance.now() - t0)} ms`);
  if (!process.argv.includes('--no-template')) makeTemplate();
}
