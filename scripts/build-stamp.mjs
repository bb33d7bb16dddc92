// Whether dist/ was built from the sources as they are now: bin/audience.mjs asks at every start
// (and runs the sources through tsx when not), so this module loads nothing but what it needs
// (scripts/build.mjs, which makes the build, loads esbuild's plumbing, child_process and crypto).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

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

