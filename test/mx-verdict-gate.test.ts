/**
 * The verdict gate on its own: canaries before every batch, the dead-rate guard's threshold and
 * minimum sample, pausing new checks while the guard asks, and what a failed check turns into.
 */
import { describe, expect, it } from 'vitest';
import type { CanaryReport } from '../src/mx/canaries.ts';
import { createVerdictGate, GUARD_WINDOW, guardThreshold, PRIOR_NEGATIVE_SHARE } from '../src/mx/verdict-gate.ts';
import type { DomainCheck } from '../src/mx/verdict.ts';

const check = (domain: string, verdict: DomainCheck['verdict']): DomainCheck => ({
  domain,
  verdict,
  reason: verdict === 'dead' ? 'nxdomain' : verdict === 'unknown' ? 'timeout' : 'mx',
  provider: verdict === 'deliverable' ? 'other' : null,
  mxHosts: verdict === 'deliverable' ? [`mx.${domain}`] : [],
  mxPreferences: verdict === 'deliverable' ? [10] : [],
  addresses: [],
  ttlSeconds: 300,
  error: verdict === 'dead' ? `MX ${domain}: NXDOMAIN from 127.0.0.1:53` : null,
});
const OK: CanaryReport = { trusted: [{ host: '127.0.0.1', port: 53 }], servers: [{ server: '127.0.0.1:53', status: 'trusted', probes: [] }] };
const LIED: CanaryReport = {
  trusted: [],
  servers: [{ server: '127.0.0.1:53', status: 'lied', probes: [{ name: 'gmail.com', type: 'MX', expect: 'exists', got: 'NXDOMAIN', ok: false, ms: 3 }] }],
};

/** A canary function answering from a script, counting its calls. */
function scripted(...answers: CanaryReport[]) {
  const calls = { n: 0 };
  return { calls, canaries: async () => answers[Math.min(calls.n++, answers.length - 1)]! };
}

describe('dead-rate guard threshold', () => {
  it('is twice the recent share and at least 30 points above it, at most 95%; the prior without history', () => {
    expect(guardThreshold(null)).toBeCloseTo(PRIOR_NEGATIVE_SHARE + 0.3);
    expect(guardThreshold(0.02)).toBeCloseTo(0.32);
    expect(guardThreshold(0.1)).toBeCloseTo(0.4);
    expect(guardThreshold(0.4)).toBeCloseTo(0.8);
    expect(guardThreshold(0.6)).toBeCloseTo(0.95);
  });
});

describe('verdict gate', () => {
  it('asks the canaries before each batch is written and passes the batch when they hold', async () => {
    const s = scripted(OK);
    const gate = createVerdictGate({ recentShare: null, canaries: s.canaries });
    const batch = [check('a.test', 'deliverable'), check('b.test', 'dead')];
    expect(await gate.judge(batch)).toEqual(batch);
    expect(await gate.judge([check('c.test', 'unknown')])).toHaveLength(1);
    expect(s.calls.n).toBe(2);
    expect(await gate.judge([])).toEqual([]);
    expect(s.calls.n).toBe(2);
    expect(gate.failure).toBeNull();
  });

  it('once the canaries fail, every verdict not yet written becomes unknown (resolver_untrusted), alive or dead', async () => {
    const s = scripted(OK, LIED);
    const gate = createVerdictGate({ recentShare: null, canaries: s.canaries });
    await gate.judge([check('a.test', 'dead')]);
    const out = await gate.judge([check('b.test', 'deliverable'), check('c.test', 'dead')]);
    expect(out.map((c) => [c.domain, c.verdict, c.reason, c.provider, c.mxHosts])).toEqual([
      ['b.test', 'unknown', 'resolver_untrusted', null, []],
      ['c.test', 'unknown', 'resolver_untrusted', null, []],
    ]);
    expect(out[0]!.error).toBe('not judged: the name server failed its canaries (127.0.0.1:53 answered wrongly: MX gmail.com -> NXDOMAIN (this name exists))');
    expect(gate.failure).toBe(LIED);
    expect(gate.admit()).toBe(false);
    // No more questions to a server known to lie.
    await gate.judge([check('d.test', 'deliverable')]);
    expect(s.calls.n).toBe(2);
  });

  it('never trips below its minimum sample, however dead the checks', () => {
    const s = scripted(OK);
    const gate = createVerdictGate({ recentShare: 0.01, canaries: s.canaries });
    for (let i = 0; i < GUARD_WINDOW - 1; i++) gate.observe(check(`d${i}.test`, 'dead'));
    expect(gate.stats.guardTrips).toBe(0);
    expect(gate.admit()).toBe(true);
    expect(s.calls.n).toBe(0);
  });

  it('stays quiet at the usual share, trips when it jumps, pauses new checks until the canaries answer', async () => {
    let release!: (r: CanaryReport) => void;
    let asked = 0;
    const trips: number[] = [];
    const gate = createVerdictGate({
      recentShare: 0.1,
      canaries: () => {
        asked++;
        return new Promise<CanaryReport>((r) => (release = r));
      },
      onTrip: (share) => trips.push(share),
    });
    // 1 in 10 dead, as usual: nothing happens over many windows.
    for (let i = 0; i < 5 * GUARD_WINDOW; i++) gate.observe(check(`n${i}.test`, i % 10 === 0 ? 'dead' : 'deliverable'));
    expect(gate.stats.guardTrips).toBe(0);
    // The resolver starts answering NXDOMAIN: once more than 40% of the window is dead, it trips.
    let i = 0;
    while (!gate.stats.guardTrips) gate.observe(check(`x${i++}.test`, 'dead'));
    expect(trips[0]).toBeGreaterThan(guardThreshold(0.1));
    expect(i).toBeLessThan(GUARD_WINDOW);
    await new Promise((r) => setImmediate(r));
    expect(asked).toBe(1);
    const waiting = gate.admit();
    expect(waiting).toBeInstanceOf(Promise);
    // More checks complete meanwhile: no second trip while the first is being answered.
    for (let k = 0; k < GUARD_WINDOW; k++) gate.observe(check(`y${k}.test`, 'dead'));
    expect(gate.stats.guardTrips).toBe(1);
    release(OK);
    expect(await waiting).toBe(true);
    expect(gate.admit()).toBe(true);
  });

  it('a trip whose canaries fail stops the run', async () => {
    const s = scripted(LIED);
    const gate = createVerdictGate({ recentShare: 0, canaries: s.canaries });
    for (let i = 0; i < GUARD_WINDOW; i++) gate.observe(check(`u${i}.test`, 'unknown'));
    expect(gate.stats.guardTrips).toBe(1);
    expect(await gate.admit()).toBe(false);
    expect(gate.failure).toBe(LIED);
    expect((await gate.judge([check('z.test', 'dead')]))[0]!.reason).toBe('resolver_untrusted');
  });
});
