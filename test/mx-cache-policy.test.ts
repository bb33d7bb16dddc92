import dgram from 'node:dgram';
import dns2 from 'dns2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mxConfigSchema } from '../src/mx/config.ts';
import { expiresAt, mergeCheck, type PreviousVerdict } from '../src/mx/merge.ts';
import { createUdpTransport } from '../src/mx/udp-transport.ts';
import type { DomainCheck } from '../src/mx/verdict.ts';

const cfg = mxConfigSchema.parse({ unresolvableAfterDays: 2 });
const T = new Date('2026-11-20T23:30:00Z');

describe('cache expiry', () => {
  it('positive verdicts live for the record TTL, bounded to [min, max]', () => {
    expect(expiresAt('deliverable', 300, T, cfg).getTime() - T.getTime()).toBe(cfg.minTtlSeconds * 1000);
    expect(expiresAt('deliverable', 2 * 86_400, T, cfg).getTime() - T.getTime()).toBe(2 * 86_400_000);
    expect(expiresAt('deliverable', 30 * 86_400, T, cfg).getTime() - T.getTime()).toBe(cfg.maxTtlSeconds * 1000);
    expect(expiresAt('deliverable', null, T, cfg).getTime() - T.getTime()).toBe(cfg.minTtlSeconds * 1000);
  });

  it('dead sooner than positive, unknown after minutes', () => {
    expect(expiresAt('dead', 86_400 * 7, T, cfg).getTime() - T.getTime()).toBe(cfg.deadRecheckHours * 3_600_000);
    expect(expiresAt('unknown', null, T, cfg).getTime() - T.getTime()).toBe(cfg.unknownRecheckMinutes * 60_000);
  });
});

describe('merging an observation into the stored verdict', () => {
  const unknown: DomainCheck = { domain: 'x.test', verdict: 'unknown', reason: 'timeout', provider: null, mxHosts: [], mxPreferences: [], addresses: [], ttlSeconds: null, error: 'no reply' };
  const dead: DomainCheck = { ...unknown, verdict: 'dead', reason: 'nxdomain', error: 'NXDOMAIN' };
  const ctxAt = (now: Date) => ({ now, runId: 1, config: cfg });
  const asPrev = (r: ReturnType<typeof mergeCheck>): PreviousVerdict => r;

  it('counts a streak in distinct UTC days: 23:30 and 00:10 are two days', () => {
    const first = mergeCheck(undefined, unknown, ctxAt(T));
    expect(first).toMatchObject({ verdict: 'unknown', unknown_days: 1, last_unknown_day: '2026-11-20' });
    const sameDay = mergeCheck(asPrev(first), unknown, ctxAt(new Date('2026-11-20T23:50:00Z')));
    expect(sameDay.unknown_days).toBe(1);
    const nextDay = mergeCheck(asPrev(sameDay), unknown, ctxAt(new Date('2026-11-21T00:10:00Z')));
    expect(nextDay).toMatchObject({ verdict: 'unresolvable', unknown_days: 2, unknown_since: T, dead_since: new Date('2026-11-21T00:10:00Z') });
  });

  it('a dead domain that starts timing out is unknown, never kept dead by the transient failure', () => {
    const d = mergeCheck(undefined, dead, ctxAt(T));
    const u = mergeCheck(asPrev(d), unknown, ctxAt(new Date(T.getTime() + 86_400_000)));
    expect(u).toMatchObject({ verdict: 'unknown', dead_since: null, unknown_days: 1 });
  });

  it('an unresolvable domain that answers dead keeps the date it was first seen dead', () => {
    const a = mergeCheck(undefined, unknown, ctxAt(T));
    const b = mergeCheck(asPrev(a), unknown, ctxAt(new Date('2026-11-21T10:00:00Z')));
    expect(b.verdict).toBe('unresolvable');
    const c = mergeCheck(asPrev(b), dead, ctxAt(new Date('2026-11-22T10:00:00Z')));
    expect(c).toMatchObject({ verdict: 'dead', dead_since: new Date('2026-11-21T10:00:00Z'), unknown_days: 0, unknown_since: null });
  });
});

describe('invariant 5: a transient failure never turns into a permanent verdict', () => {
  it('holds for any sequence of observations, and a run whose resolver failed its canaries never moves the streak', () => {
    const obs = fc.record({ kind: fc.constantFrom('unknown', 'dead', 'deliverable', 'untrusted'), afterHours: fc.integer({ min: 0, max: 40 }) });
    fc.assert(
      fc.property(fc.array(obs, { maxLength: 30 }), (seq) => {
        let prev: PreviousVerdict | undefined;
        let now = T.getTime();
        let streakDays = new Set<string>();
        for (const o of seq) {
          now += o.afterHours * 3_600_000;
          const check: DomainCheck = {
            domain: 'p.test',
            verdict: o.kind === 'untrusted' ? 'unknown' : (o.kind as DomainCheck['verdict']),
            reason: o.kind === 'unknown' ? 'servfail' : o.kind === 'untrusted' ? 'resolver_untrusted' : o.kind === 'dead' ? 'nxdomain' : 'mx',
            provider: null,
            mxHosts: [],
            mxPreferences: [],
            addresses: [],
            ttlSeconds: 300,
            error: null,
          };
          const r = mergeCheck(prev, check, { now: new Date(now), runId: null, config: cfg });
          if (o.kind === 'untrusted') {
            expect(r.verdict === 'unknown' || r.verdict === 'unresolvable').toBe(true);
            expect(r.verdict === 'unresolvable').toBe(streakDays.size >= cfg.unresolvableAfterDays);
            expect(r.unknown_days).toBe(streakDays.size);
          } else if (o.kind === 'unknown') {
            streakDays.add(new Date(now).toISOString().slice(0, 10));
            // Never dead, and unresolvable only after the configured number of distinct days.
            expect(r.verdict === 'unknown' || r.verdict === 'unresolvable').toBe(true);
            expect(r.verdict === 'unresolvable').toBe(streakDays.size >= cfg.unresolvableAfterDays);
          } else {
            streakDays = new Set();
            expect(r.verdict).toBe(o.kind);
            expect(r.unknown_days).toBe(0);
          }
          expect(r.expires_at.getTime()).toBeGreaterThan(now);
          prev = r;
        }
      }),
    );
  });
});

describe('UDP transport', () => {
  it('ignores replies from another port or with another question, and rotates sockets', async () => {
    const { Packet } = dns2;
    const server = dgram.createSocket('udp4');
    const spoofer = dgram.createSocket('udp4');
    await Promise.all([new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r())), new Promise<void>((r) => spoofer.bind(0, '127.0.0.1', () => r()))]);
    const clientPorts = new Set<number>();
    server.on('message', (msg, rinfo) => {
      clientPorts.add(rinfo.port);
      const req = Packet.parse(msg);
      const forged = Packet.createResponseFromRequest(req);
      forged.header.rcode = 3;
      // Same id, wrong source port: must be dropped. Then the same id with another question.
      spoofer.send(forged.toBuffer(), rinfo.port, rinfo.address);
      const other = Packet.createResponseFromRequest(req);
      other.questions = [{ ...req.questions[0]!, name: 'evil.test' }];
      other.header.rcode = 3;
      server.send(other.toBuffer(), rinfo.port, rinfo.address);
      const real = Packet.createResponseFromRequest(req);
      setTimeout(() => server.send(real.toBuffer(), rinfo.port, rinfo.address), 20);
    });
    const udp = createUdpTransport({ queriesPerSocket: 2 });
    try {
      const port = server.address().port;
      const replies = await Promise.all([1, 2, 3, 4, 5].map((i) => udp.query('127.0.0.1', port, `q${i}.test`, 'MX', 1000)));
      expect(replies.map((r) => r.header.rcode)).toEqual([0, 0, 0, 0, 0]);
      expect(clientPorts.size).toBe(3);
    } finally {
      udp.close();
      server.close();
      spoofer.close();
    }
  });
});
