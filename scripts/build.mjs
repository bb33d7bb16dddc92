#!/usr/bin/env node
// Builds the CLI once (npm ci runs it as `prepare`), so a command starts from plain JavaScript
// instead of compiling TypeScript through tsx at every start. Output in dist/:
//   audience.cjs (the CLI, one file) and audience.mjs (loads it through V8's code cache, kept in
//   v8-cache/: scripts/code-cache.mjs), parse-worker.cjs (the scrub's thread), census-email-worker.cjs
//   (the census first load's e-mail thread),
//   pglite-template.mjs (makes the embedded database's template, run right after the build),
//   build-stamp.json (what the build was made from: bin/audience.mjs runs the sources instead when
//   a source file is newer, so a developer's edit is never run stale).
// node_modules stay external: PGlite finds its WASM next to its own module, and the packages are
// already plain JavaScript.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBuildFresh, newestSource } from './build-stamp.mjs';

// The freshness check lives apart (bin/audience.mjs runs it at every start); the build's users import it from here too.
export { isBuildFresh, newestSource };

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
  // The CLI as one CommonJS file: esbuild keeps each module's body lazy (run at its first import,
  // as with the chunks of a split build), and one script is what V8's code cache can hold on Node
  // 20 (scripts/code-cache.mjs), which ES modules are not. audience.mjs is the module the rest of
  // the package imports (bin/audience.mjs, scripts/demo.mjs): it loads audience.cjs through the cache.
  const cli = await build({
    ...common,
    entryPoints: [path.join(root, 'src/cli/main.ts')],
    format: 'cjs',
    define: { ...common.define, 'import.meta.url': '__audienceMetaUrl' },
    banner: { js: "const __audienceMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    outfile: path.join(tmp, 'audience.cjs'),
    sourcemap: 'linked',
    metafile: true,
  });
  routeDynamicImports(path.join(tmp, 'audience.cjs'), cli.metafile);
  asciiOnly(path.join(tmp, 'audience.cjs'));
  const bundleHash = createHash('sha256').update(readFileSync(path.join(tmp, 'audience.cjs'))).digest('hex').slice(0, 16);
  writeFileSync(
    path.join(tmp, 'audience.mjs'),
    `// Made by scripts/build.mjs: the built CLI (audience.cjs) loaded through V8's code cache.
import { fileURLToPath } from 'node:url';
import { cacheKey, loadCommonJs } from '../scripts/code-cache.mjs';
const cli = loadCommonJs(fileURLToPath(new URL('./audience.cjs', import.meta.url)), { cacheDir: fileURLToPath(new URL('./v8-cache', import.meta.url)), key: cacheKey(process.argv), bundleHash: '${bundleHash}' });
export const main = cli.main;
export const withStoreSession = cli.withStoreSession;
`,
  );
  await build({ ...common, entryPoints: [path.join(root, 'src/maillog/parse-worker-main.ts')], format: 'cjs', outfile: path.join(tmp, 'parse-worker.cjs') });
  await build({ ...common, entryPoints: [path.join(root, 'src/email/census-email-worker.ts')], format: 'cjs', outfile: path.join(tmp, 'census-email-worker.cjs') });
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
 * The CLI's import() of a package left to Node (PGlite) as a call of `__audienceImport`, which
 * scripts/code-cache.mjs passes in: a script V8 reads back from its code cache has lost its import()
 * callback on Node 20 (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). The calls are found where esbuild
 * says it left them (the metafile), and the build fails unless each is replaced exactly once.
 */
function routeDynamicImports(file, metafile) {
  let text = readFileSync(file, 'utf8');
  const wanted = new Map();
  for (const out of Object.values(metafile.outputs))
    for (const i of out.imports) if (i.kind === 'dynamic-import' && i.external) wanted.set(i.path, (wanted.get(i.path) ?? 0) + 1);
  for (const [spec, count] of wanted) {
    const call = `import(${JSON.stringify(spec)})`;
    const found = text.split(call).length - 1;
    if (found !== count) throw new Error(`${file}: expected ${count} import() of ${spec}, found ${found}; review routeDynamicImports in scripts/build.mjs`);
    text = text.replaceAll(call, `__audienceImport(${JSON.stringify(spec)})`);
  }
  writeFileSync(file, text);
}

/**
 * The bundle in ASCII: esbuild already escapes what is not ASCII in code and strings, and comments
 * kept from the sources and packages hold the rest (an em dash, a "§"), escaped here as \\uXXXX
 * (the same text in a comment; the same character anywhere else JavaScript reads escapes). An
 * ASCII file is read as a one-byte string without UTF-8 decoding: ~20 ms of every start for 6 MB
 * (scripts/code-cache.mjs).
 */
function asciiOnly(file) {
  const text = readFileSync(file, 'utf8').replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  writeFileSync(file, text);
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

/**
 * `audience --help` run once on the fresh build, as the user who installs, so its code cache
 * (scripts/code-cache.mjs) exists even where the people or services running audience cannot write
 * dist/ (a checkout owned by another user, a service under ProtectHome=read-only): there every
 * other command compiles the bundle at each start, and --help, the one that must start fastest,
 * still reads its bytecode back. Its failure only costs speed.
 */
export function warmHelp() {
  spawnSync(process.execPath, [path.join(root, 'bin', 'audience.mjs'), '--help'], { stdio: 'ignore' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  await buildDist();
  console.error(`built dist/ in ${Math.round(performance.now() - t0)} ms`);
  warmHelp();
  if (!process.argv.includes('--no-template')) makeTemplate();
}
