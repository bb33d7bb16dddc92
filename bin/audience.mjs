#!/usr/bin/env node
// Runs the build in dist/ (made by `npm ci` through the `prepare` script: plain JavaScript, fast to
// start). Runs the TypeScript sources through tsx instead when there is no build, or when a source
// file is newer than it (a developer's edit is never run stale; `npm run build` refreshes it).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isBuildFresh } from '../scripts/build-stamp.mjs';

// A reader that goes away (`audience build --help | head -1`, a closed pager) must not crash the
// process with an unhandled EPIPE: drop the rest of that stream's output and let the command
// finish its work and exit with its own code, so a stage is never cut off half-way by its reader.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
    stream.write = () => true;
  });
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let entry;
if (isBuildFresh()) {
  entry = path.join(root, 'dist', 'audience.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = path.join(root, 'src', 'cli', 'main.ts');
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv);
