// Loads the built CLI (dist/audience.cjs, one CommonJS file) through V8's code cache, so a command
// does not parse and compile the same JavaScript at every start: the bytecode V8 made for it the
// last time is read back instead (what Node 22's module.enableCompileCache() does; Node 20 has only
// vm.Script's cachedData for it). ~55 ms of CPU of `audience explain` on a 2-core machine.
//
// One cache file per command (`explain`, `build`, `--help`...): the cache holds what the run
// compiled, and `--help` should not read back the bytecode of the rules engine. The files live in
// dist/v8-cache/, so a build (which swaps dist/ whole) drops them with the bundle they were made
// from; their names carry the bundle's hash, Node's version and the architecture besides.
//
// The cache only ever saves time. V8 checks each one (its version, its flags, the source's length)
// and compiles from the source when it rejects it; a missing or unreadable file is compiled from
// the source too; a cache that cannot be written (a read-only install) is not written. It is
// written once, when the command exits successfully, by the first run that had none (or had a
// rejected one).
import { isAscii } from 'node:buffer';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/**
 * The cache's name for a command line: the command (`explain`, `ingest`, `--help` when there is
 * none) after the global options, prefixed by the script that runs it (`audience.mjs`, `demo.mjs`:
 * the demo runs many commands in one process). Global options that take a value (`--config FILE`)
 * are skipped with it. Only letters, digits and dashes: anything else is `other`.
 */
export function cacheKey(argv, optionsWithValue = ['--config']) {
  const script = path.basename(argv[1] ?? 'node').replace(/\.[cm]?js$/, '');
  const args = argv.slice(2);
  let command = '--help';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (optionsWithValue.includes(a)) i++;
    else if (!a.startsWith('-')) {
      command = a;
      break;
    }
  }
  const key = `${script}_${command}`;
  return /^[A-Za-z0-9_-]{1,80}$/.test(key) ? key : `${script}_other`;
}

/**
 * Runs the CommonJS file `filename` as Node would, with its compiled code read from
 * and written to `cacheDir` under `key`; returns its exports. `bundleHash` names the build.
 */
export function loadCommonJs(filename, { cacheDir, key, bundleHash }) {
  // The build writes the bundle in ASCII, which reads as Latin-1 without decoding UTF-8 (~20 ms
  // for 6 MB); a file that is not ASCII (edited by hand) is decoded as UTF-8.
  const bytes = readFileSync(filename);
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const cacheFile = path.join(cacheDir, `${bundleHash}-${key}-${process.version}-${process.arch}.bin`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // Node's wrapper of a CommonJS module, plus `__audienceImport`: V8 loses a script's import()
  // callback when it comes from the cache (Node 20), so the build turns the bundle's import() of
  // the packages left to Node (PGlite) into calls of this function (scripts/build.mjs).
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __audienceImport) { ${source}\n});`, { filename, cachedData });
  // Written by a run that succeeded: a mistyped command (exit 2) leaves no cache file behind.
  if (!cachedData || script.cachedDataRejected) process.once('exit', (code) => code === 0 && writeCache(script, cacheDir, cacheFile));
  const module = { exports: {}, filename, id: filename, loaded: false };
  script.runInThisContext()(module.exports, createRequire(filename), module, filename, path.dirname(filename), (specifier) => import(specifier));
  module.loaded = true;
  return module.exports;
}

/** Writes what the run compiled, whole or not at all (a temporary file renamed over the name). */
function writeCache(script, cacheDir, cacheFile) {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  } catch {
    // A read-only install, a full disk: the next run compiles from the source, as this one did.
    try {
      rmSync(tmp, { force: true });
    } catch {
      // There was no folder to write it in.
    }
  }
}
