/**
 * Real headless Chromium for the tests that open what audience writes (the report): the Debian
 * package `chromium`, driven by playwright-core (no browser download). `.ci/run` installs the
 * package when it is missing; elsewhere a test skips with a one-line note when it is absent, and in
 * CI (CI=true) a missing browser is a failure rather than a skip.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { describe } from 'vitest';
import { REPO_ROOT } from './samples.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts');

/** Flags of a browser that talks to nobody: no QUIC, no first-run, no background fetches, no updates, no sync. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** describe() that runs when Chromium is installed, skips with a note otherwise, and fails in CI without it. */
export function describeWithChromium(name: string, fn: () => void): void {
  if (!hasChromium && process.env.CI !== 'true') {
    describe.skip(`${name} (skipped: no Chromium at ${CHROMIUM}; \`apt-get install chromium\`, or set CHROMIUM_PATH)`, fn);
    return;
  }
  describe(name, fn);
}

/** A browser with a fresh profile of its own, removed when closed. */
export async function launchChromium(viewport = { width: 1440, height: 900 }): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!hasChromium) throw new Error(`Chromium is required here (CI=true) but ${CHROMIUM} does not exist: install the Debian package \`chromium\` (.ci/run does).`);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'audience-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, deviceScaleFactor: 1, offline: true });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
