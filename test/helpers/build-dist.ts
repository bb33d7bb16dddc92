/**
 * Builds dist/ before the tests when it is missing or older than the sources, so the tests that
 * spawn `bin/audience.mjs` run what users run (the build), and start in a fraction of the time
 * tsx takes.
 */
// @ts-expect-error: a plain .mjs script without types
import { buildDist, isBuildFresh } from '../../scripts/build.mjs';

let once: Promise<void> | null = null;

export default async function setup(): Promise<void> {
  once ??= (isBuildFresh() as boolean) ? Promise.resolve() : (buildDist() as Promise<void>);
  await once;
}
