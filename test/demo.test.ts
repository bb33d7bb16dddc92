/**
 * `npm run demo` as a first-time user reads it: run at a pinned clock far from the samples' own
 * day, every figure `status` and `plan` print must agree with what the stages printed before them,
 * the report is written last and said where, and no message may appear twice.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { REPO_ROOT } from './helpers/samples.ts';

/** A clock months after the samples' day (2026-11-27), across a year end and a DST change. */
const NOW = '2027-03-15T15:00:00Z';

function runDemo(dir: string): Promise<{ code: number | null; out: string }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('AUDIENCE_') && k !== 'DATABASE_URL' && !k.startsWith('VITEST')) env[k] = v;
  Object.assign(env, { AUDIENCE_NOW: NOW, DEMO_DIR: dir, NO_COLOR: '1' });
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(REPO_ROOT, 'data-samples/demo.sh')], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    // One stream, in the order a terminal shows it.
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

function grab(out: string, re: RegExp): string[] {
  const m = re.exec(out);
  if (!m) throw new Error(`demo output has no match for ${re}:\n${out}`);
  return m.slice(1);
}

describe('npm run demo', () => {
  it('agrees with itself at any date, and says each thing once', { timeout: 900_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'audience-demo-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const { code, out } = await runDemo(dir);
    expect(code, out).toBe(0);
    // The samples' last day is the day before the clock's (in America/Chicago).
    expect(out).toContain('Sample data dated so that its last day is yesterday, 2027-03-14');

    // scrub-bounces, then status: the same deliveries, DKIM coverage, holds and suppressions.
    const [sent, deferred, bounced, expired] = grab(out, /^deliveries: (\d+) sent, (\d+) deferred, (\d+) bounced, (\d+) expired$/m);
    expect(Number(sent)).toBeGreaterThan(0);
    expect(grab(out, /^ {2}delivery \S+: (\d+) sent, (\d+) deferred, (\d+) bounced, (\d+) expired/m)).toEqual([sent, deferred, bounced, expired]);
    const [signed, campaign, pct] = grab(out, /^DKIM: (\d+) of (\d+) campaign message\(s\) signed \(([\d.]+)%\)$/m);
    expect(signed).toBe(campaign);
    expect(grab(out, /^ {2}DKIM coverage \(7 days\): ([\d.]+)% of (\d+)/m)).toEqual([pct, campaign]);
    const [holdProvider, holdUntil] = grab(out, /^active holds:\n {2}(\w+): reputation_block until (\S+)$/m);
    expect(grab(out, /^ {4}(\w+) — reputation_block until (\S+):/m)).toEqual([holdProvider, holdUntil]);
    expect(new Date(holdUntil!).getTime()).toBeGreaterThan(new Date(NOW).getTime());
    const [addrs, domains] = grab(out, /^new suppressions: (\d+) address\(es\), (\d+) domain\(s\)$/m);
    expect(grab(out, /^ {2}suppressions: (\d+) address\(es\), (\d+) domain\(s\)$/m)).toEqual([addrs, domains]);

    // build, status and plan: the same day, warmup day and cap, the same eligible audience.
    const [date, day, cap] = grab(out, /build for (\S+): warmup day (\d+), cap (\d+)\/day/);
    expect(date).toBe('2027-03-15');
    expect(grab(out, /^status for (\S+)\n {2}warmup day (\d+) \(since \S+\): cap (\d+)\/day/m)).toEqual([date, day, cap]);
    const eligible = [...out.matchAll(/^ {2}(\S+) +eligible (\d+), selected \d+, pushed 0/gm)].map((m) => [m[1]!, Number(m[2])] as const);
    expect(eligible.map(([s]) => s)).toEqual(['mcs150', 'new-carrier']);
    const [planDay, planCap, ...planEligible] = grab(out, new RegExp(`^${date} +(\\d+) +(\\d+) +\\d+ +(\\d+) +(\\d+)$`, 'm'));
    expect([planDay, planCap]).toEqual([day, cap]);
    expect(planEligible.map(Number)).toEqual(eligible.map(([, n]) => n));
    expect(Number(grab(out, /^eligible today: (\d+);/m)[0])).toBe(eligible.reduce((a, [, n]) => a + n, 0));
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual([`build-${date}.json`, `mcs150-${date}.csv`, `new-carrier-${date}.csv`, 'report.html']);

    // The report ends the demo, on the same day, and says where it is.
    const report = path.join(dir, 'out', 'report.html');
    expect(out).toMatch(new RegExp(`^report of 30 day\\(s\\), \\S+ to ${date}: 7 chart\\(s\\)`, 'm'));
    expect(out).toContain(`The deliverability report (30 days, one self-contained page) is ${report}: open it in a browser.`);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain(`<h1>Deliverability report — ${date}</h1>`);
    expect(Buffer.byteLength(html)).toBeLessThan(1_000_000);

    // Each message once. (The clock warning is the test's: the demo itself runs on the real clock.)
    const lines = out.split('\n').filter((l) => l.trim() && !l.includes('(AUDIENCE_NOW)'));
    const seen = new Map<string, number>();
    for (const l of lines) seen.set(l, (seen.get(l) ?? 0) + 1);
    expect([...seen].filter(([, n]) => n > 1)).toEqual([]);
    expect(out.match(/imported \d+ verdict/g)).toHaveLength(1);
  });
});
