/**
 * doctor's runner: independent checks overlap, a check waits only for the ones it needs and is
 * skipped when one of them fails, a check past its time box fails with its own fix (and what it
 * produces late is released), a check that throws is an entry, not a crash.
 */
import { describe, expect, it } from 'vitest';
import { fail, pass } from '../src/doctor/check.ts';
import { need, runChecks, timeBox, type CheckSpec } from '../src/doctor/run-checks.ts';
import { ConfigError } from '../src/errors.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function spec(name: string, body: CheckSpec['run'], extra: Partial<CheckSpec> = {}): CheckSpec {
  return { name, timeoutFix: `${name} was too slow: fix it`, run: body, ...extra };
}

describe('doctor runner', () => {
  it('runs independent checks at once and hands values to the checks that need them', async () => {
    const t0 = performance.now();
    const { entries, values } = await runChecks(
      [
        spec('a', async () => (await sleep(500), pass('a fine', { value: 2 }))),
        spec('b', async () => (await sleep(500), pass('b fine', { value: 3 }))),
        spec('c', async (deps) => pass(`c got ${need<number>(deps, 'a') * need<number>(deps, 'b')}`), { needs: ['a', 'b'] }),
      ],
      { timeoutMs: 1000 },
    );
    // One after the other would take 1,000 ms.
    expect(performance.now() - t0).toBeLessThan(900);
    expect(entries.map((e) => [e.name, e.status, e.detail])).toEqual([
      ['a', 'pass', 'a fine'],
      ['b', 'pass', 'b fine'],
      ['c', 'pass', 'c got 6'],
    ]);
    // c's own time excludes the wait for a and b.
    expect(entries[2]!.ms).toBeLessThan(400);
    expect([...values.keys()]).toEqual(['a', 'b']);
  });

  it('skips a check whose need failed or was skipped, naming it; a passing check with a fix is a warning', async () => {
    const { entries } = await runChecks(
      [
        spec('db', async () => fail('down', 'start it')),
        spec('lm', async () => pass('up', { fix: 'upgrade some day' })),
        spec('holds', async () => pass('never runs'), { needs: ['db', 'lm'] }),
        spec('after', async () => pass('never runs'), { needs: ['holds'] }),
      ],
      { timeoutMs: 500 },
    );
    expect(entries.map((e) => [e.name, e.ok, e.status])).toEqual([
      ['db', false, 'fail'],
      ['lm', true, 'warn'],
      ['holds', false, 'skip'],
      ['after', false, 'skip'],
    ]);
    expect(entries[2]).toMatchObject({ detail: 'not checked: it needs `db`, which did not pass.', fix: 'fix `db` first (see above), then run `audience doctor` again.' });
  });

  it('`after` waits for checks whatever their outcome, without needing their success', async () => {
    const order: string[] = [];
    const { entries } = await runChecks(
      [
        spec('net', async () => (await sleep(100), order.push('net'), fail('down', 'start it'))),
        spec('local', async () => (order.push('local'), pass('fine')), { after: ['net'] }),
      ],
      { timeoutMs: 500 },
    );
    expect(order).toEqual(['net', 'local']);
    expect(entries.map((e) => e.status)).toEqual(['fail', 'pass']);
  });

  it('a check past its time box fails with its own fix; its late value is released', async () => {
    const released: unknown[] = [];
    const t0 = performance.now();
    const { entries, values } = await runChecks(
      [
        spec('slow', async () => (await sleep(800), pass('late', { value: 'connection' })), { release: async (v) => void released.push(v) }),
        spec('needs-slow', async () => pass('never runs'), { needs: ['slow'] }),
      ],
      { timeoutMs: 100 },
    );
    expect(performance.now() - t0).toBeLessThan(700);
    expect(entries[0]).toMatchObject({ ok: false, status: 'fail', detail: 'no result within 100 ms (doctor.timeoutMs, --timeout).', fix: 'slow was too slow: fix it' });
    expect(entries[1]!.status).toBe('skip');
    expect(values.size).toBe(0);
    await sleep(900);
    expect(released).toEqual(['connection']);
  });

  it('a check that throws becomes a failed entry: typed errors keep their message, others are reported as a bug', async () => {
    const { entries } = await runChecks(
      [spec('typed', async () => Promise.reject(new ConfigError('set X to something'))), spec('bug', async () => Promise.reject(new TypeError('x is undefined')))],
      { timeoutMs: 500 },
    );
    expect(entries[0]).toMatchObject({ ok: false, detail: 'set X to something', fix: expect.stringMatching(/do what the message says/) });
    expect(entries[1]).toMatchObject({ ok: false, detail: 'the check failed unexpectedly: TypeError: x is undefined', fix: expect.stringMatching(/bug in audience/) });
  });

  it('refuses a check that needs one listed after it (a wiring mistake, not a finding)', async () => {
    await expect(runChecks([spec('a', async () => pass('x'), { needs: ['b'] }), spec('b', async () => pass('y'))], { timeoutMs: 100 })).rejects.toThrow(/needs "b", which is not listed before it/);
  });

  it('timeBox resolves with the value in time, null after, and hands a late value over', async () => {
    expect(await timeBox(sleep(10).then(() => 'v'), 200, () => {})).toBe('v');
    const late: string[] = [];
    expect(await timeBox(sleep(150).then(() => 'w'), 20, (v) => late.push(v))).toBeNull();
    await sleep(200);
    expect(late).toEqual(['w']);
  });
});
