/**
 * `audience report` end to end: the CLI writes the page from a database holding 30 days of history
 * (a ramp, a spike, a Gmail block with its hold, a DKIM outage on one stream), and real headless
 * Chromium opens it with the network off: nothing but the file is requested, nothing is logged as
 * an error, every chart is drawn with a size, and it prints. The screenshot (and the page and its
 * PDF) are left in test-artifacts/ for a person to look at.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureMigrated } from '../src/db/migrate.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { addDays } from '../src/warmup/calendar.ts';
import { capForDay } from '../src/warmup/ramp.ts';
import { addSuppression, DATE, fxConfig, NOW, seedUniverse } from './build-fixture.ts';
import { ARTIFACTS_DIR, describeWithChromium, launchChromium } from './helpers/chromium.ts';
import { runCli } from './helpers/cli.ts';
import { createTestStore, testBackend } from './helpers/store.ts';
import { seedHistory } from './report-fixture.ts';

const DAYS = 30;
const WARMUP_START = addDays(DATE, -24);

describeWithChromium('audience report, opened in headless Chromium', () => {
  let cwd: string;
  let env: Record<string, string>;
  let store: Store & { close(): Promise<void> };
  const backend = testBackend();

  beforeAll(async () => {
    cwd = mkdtempSync(path.join(os.tmpdir(), 'report-cli-'));
    writeFileSync(path.join(cwd, 'audience.config.json'), JSON.stringify({ timezone: 'America/Chicago', warmup: { start: WARMUP_START } }));
    if (backend === 'pg') {
      const s = await createTestStore();
      store = s;
      env = { DATABASE_URL: s.url!, AUDIENCE_NOW: NOW.toISOString() };
    } else {
      // The CLI opens its own PGlite: the history goes into a data dir it then reads.
      const dataDir = path.join(cwd, 'db');
      store = await openStore({ dataDir });
      await ensureMigrated(store, { apply: true });
      env = { AUDIENCE_DATA_DIR: dataDir, AUDIENCE_NOW: NOW.toISOString() };
    }
    const config = fxConfig({ warmup: { start: WARMUP_START } });
    await seedUniverse(
      store.db,
      [
        ...Array.from({ length: 240 }, (_, i) => ({ dot: 600001 + i * 10, emails: [`dispatch${i}@fleet${i % 23}.example`] })),
        ...Array.from({ length: 60 }, (_, i) => ({ dot: 700001 + i * 10, emails: [`owner${i}@gmail.com`], added: addDays(DATE, -12), mcs150: addDays(DATE, -12) })),
      ],
      { 'gmail.com': { provider: 'google' }, 'fleet1.example': { provider: 'microsoft365' }, 'fleet2.example': { verdict: 'dead' }, 'fleet3.example': { verdict: 'unknown' } },
    );
    await addSuppression(store.db, 'domain', 'fleet4.example');
    await seedHistory(store.db, { to: DATE, days: DAYS, warmupAgo: 24, ramp: (d) => capForDay(config.warmup, d).daily });
    // PGlite: the CLI can only open the data dir once this process let go of it.
    if (backend === 'pglite') await store.close();
  });
  afterAll(async () => {
    if (backend === 'pg') await store.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('writes the page with --json, refuses what it should, and the page works offline in a browser', { timeout: 600_000 }, async () => {
    const out = path.join(cwd, 'report.html');
    const t0 = performance.now();
    const r = await runCli(['report', '--days', String(DAYS), '--out', out, '--json'], { env, cwd });
    const wall = (performance.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ command: 'report', ok: true, runId: null, seconds: expect.any(Number), path: out, date: DATE, from: addDays(DATE, -(DAYS - 1)), days: DAYS, wouldBuild: false });
    const s = r.json as { bytes: number; charts: { id: string }[]; timings: Record<string, number> };
    expect(s.charts.map((c) => c.id)).toEqual(['ramp', 'providers', 'dkim', 'deferrals', 'bounces', 'audience', 'exclusions']);
    const html = readFileSync(out, 'utf8');
    expect(s.bytes).toBe(Buffer.byteLength(html));
    expect(s.bytes).toBeLessThan(1_000_000);
    console.log(`report (${backend}): ${DAYS} days, ${(s.bytes / 1024).toFixed(0)} KB, ${wall.toFixed(1)} s with the process start (data ${s.timings.data} s, render ${s.timings.render} s)`);

    // An existing file is not replaced without --force; a day after today and a missing --out are usage errors.
    const exists = await runCli(['report', '--out', out], { env, cwd });
    expect(exists.code).toBe(2);
    expect(exists.stderr).toMatch(/already exists.*--force/);
    expect((await runCli(['report', '--date', addDays(DATE, 1), '--out', path.join(cwd, 'x.html')], { env, cwd })).code).toBe(2);
    expect((await runCli(['report', '--days', '0', '--out', path.join(cwd, 'y.html')], { env, cwd })).code).toBe(2);
    expect((await runCli(['report'], { env, cwd })).stderr).toMatch(/--out FILE is required/);
    const forced = await runCli(['report', '--days', String(DAYS), '--out', out, '--force'], { env, cwd });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/open .*report\.html in a browser/);

    const { context, close } = await launchChromium();
    try {
      const page = await context.newPage();
      const url = pathToFileURL(out).href;
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await context.route('**/*', (route) => (route.request().url().startsWith('file://') ? route.continue() : route.abort()));
      await page.goto(url, { waitUntil: 'load' });

      expect(requests).toEqual([url]);
      expect(errors).toEqual([]);
      const boxes = await page.$$eval('svg.chart', (svgs) => svgs.map((s) => ({ id: s.getAttribute('data-chart'), ...s.getBoundingClientRect().toJSON() }) as { id: string; width: number; height: number }));
      expect(boxes.map((b) => b.id)).toEqual(s.charts.map((c) => c.id));
      for (const b of boxes) {
        expect(b.width, b.id).toBeGreaterThan(200);
        expect(b.height, b.id).toBeGreaterThan(60);
      }
      // Readable without script: every chart's numbers are a table with rows.
      expect(await page.$$eval('.numbers table tbody tr', (rows) => rows.length)).toBeGreaterThan(DAYS * 3);
      expect(await page.textContent('.verdict h2')).toMatch(/^✗ audience build would not run now: Listmonk settings/);

      mkdirSync(ARTIFACTS_DIR, { recursive: true });
      writeFileSync(path.join(ARTIFACTS_DIR, `report-${backend}.html`), html);
      await page.screenshot({ path: path.join(ARTIFACTS_DIR, `report-${backend}.png`), fullPage: true });

      // Printable: on paper the tables are printed whole, and the PDF has a page per section or more.
      await page.emulateMedia({ media: 'print' });
      expect(await page.evaluate("getComputedStyle(document.querySelector('.numbers')).overflow")).toBe('visible');
      const pdf = await page.pdf({ format: 'A4', landscape: true, printBackground: true });
      writeFileSync(path.join(ARTIFACTS_DIR, `report-${backend}.pdf`), pdf);
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      expect((pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length).toBeGreaterThanOrEqual(5);
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
    } finally {
      await close();
    }
  });
});
