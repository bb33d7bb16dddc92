/**
 * The whole push flow on every Listmonk generation the client supports:
 * detect → list → subscribers (new, existing, blocklisted) → re-run changes nothing → import →
 * campaign scheduled once. Also: per-address calls and the import end in the same state.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isOnList } from '../src/listmonk/subscribers.ts';
import { clientFor } from './listmonk-double/client-for.ts';
import { ListmonkDouble } from './listmonk-double/index.ts';

let d: ListmonkDouble;
afterEach(async () => d?.stop());

/** The clock of the double and the client (clientFor shares it). */
const NOW = new Date('2026-11-28T12:00:00Z');
const VERSIONS = ['v2.1.0', 'v2.4.0', 'v3.0.0', 'v4.1.0', 'v5.1.0', 'v6.0.0', 'v6.2.0'];

describe.each(VERSIONS)('Listmonk %s', (version) => {
  it('detect, ensure list, push, re-run without writes, import, schedule once', async () => {
    const legacy = version < 'v4';
    d = await ListmonkDouble.start({ now: () => NOW, version, admin: legacy ? { username: 'admin', password: 'pw' } : undefined });
    const { lm } = clientFor(d, legacy ? { apiUser: 'admin', apiToken: 'pw' } : {});
    expect((await lm.version()).raw).toBe(version);

    const list = await lm.ensureList('mcs150 2026-11-28', { tags: ['mcs150'] });
    const old = d.model.addSubscriber({ email: 'old@example.com', name: 'Old' });
    const blocked = d.model.addSubscriber({ email: 'blocked@example.com', name: 'B' });
    d.model.blocklist(blocked.id);
    const subs = [{ email: 'new@example.com', name: 'New' }, { email: 'OLD@example.com' }, { email: 'blocked@example.com' }];
    expect((await lm.addSubscribersToList(list.id, subs)).map((o) => o.status)).toEqual(['created', 'added', 'blocklisted']);
    // v2.0–2.1 cannot confirm through the API; on a single opt-in list unconfirmed is mailed too.
    expect(d.model.subscriptions.get(old.id)!.get(list.id)!.status).toBe(version < 'v2.2' ? 'unconfirmed' : 'confirmed');

    const writes = d.faults.subscriberWrites;
    expect((await lm.addSubscribersToList(list.id, subs)).map((o) => o.status)).toEqual(['already_member', 'already_member', 'blocklisted']);
    expect(d.faults.subscriberWrites).toBe(writes);
    expect(d.model.subscribers.size).toBe(3);

    const bulk = await lm.ensureList('bulk');
    const imported = await lm.importSubscribersToList(bulk.id, [...subs, { email: 'fresh@example.com' }]);
    expect(imported.map((o) => o.status)).toEqual(['added', 'added', 'blocklisted', 'added']);
    // A second import right after works on every version (the state is DELETEd after each).
    expect((await lm.importSubscribersToList(bulk.id, [{ email: 'later@example.com' }]))[0]!.status).toBe('added');

    const input = { name: 'mcs150 2026-11-28', subject: 'S', lists: [list.id], body: '<p>b</p>', altbody: 'b', send_at: new Date(NOW.getTime() + 3_600_000) };
    const first = await lm.ensureScheduledCampaign(input);
    const again = await lm.ensureScheduledCampaign(input);
    expect(first.campaign.status).toBe('scheduled');
    expect(again).toMatchObject({ created: false, campaign: { id: first.campaign.id } });
    expect(d.model.campaigns.size).toBe(1);
    expect(d.requests.some((r) => r.headers.cookie !== undefined)).toBe(false);
  });
});

describe('per-address calls and the import agree', () => {
  const kinds = ['new', 'existing', 'onList', 'blocklisted', 'unsubscribedHere', 'invalid'] as const;
  it('end in the same memberships and statuses for any mix of addresses', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...kinds), { minLength: 1, maxLength: 12 }), async (mix) => {
        const states: string[][] = [];
        for (const strategy of ['api', 'import'] as const) {
          const dbl = await ListmonkDouble.start();
          try {
            const { lm } = clientFor(dbl, { importThreshold: 1 });
            const list = await lm.ensureList('L');
            const other = dbl.model.addList({ name: 'other' });
            const subs = mix.map((kind, i) => {
              const email = kind === 'invalid' ? `broken${i}@@example.com` : `${kind}${i}@example.com`;
              if (kind !== 'new' && kind !== 'invalid') {
                const s = dbl.model.addSubscriber({ email, name: `N${i}` });
                dbl.model.subscribe(s.id, other.id, 'confirmed');
                if (kind === 'onList') dbl.model.subscribe(s.id, list.id, 'confirmed');
                if (kind === 'blocklisted') dbl.model.blocklist(s.id);
                if (kind === 'unsubscribedHere') dbl.model.subscribe(s.id, list.id, 'unsubscribed');
              }
              return { email, name: `N${i}` };
            });
            const res = await lm.pushSubscribers(list.id, subs, { strategy });
            expect(res.strategy).toBe(strategy);
            mix.forEach((kind, i) => expect(isOnList(res.outcomes[i]!)).toBe(kind === 'new' || kind === 'existing' || kind === 'onList'));
            // Compared as "who would receive the list's campaigns": the import leaves an
            // unsubscribed row for a blocklisted subscriber where the per-address path adds none.
            states.push(
              [...dbl.model.subscribers.values()]
                .map((s) => {
                  const sub = dbl.model.subscriptions.get(s.id)!.get(list.id)?.status;
                  const receives = s.status !== 'blocklisted' && (sub === 'confirmed' || sub === 'unconfirmed');
                  return `${s.email} ${s.status} ${receives ? 'receives' : 'no'}`;
                })
                .sort(),
            );
          } finally {
            await dbl.stop();
          }
        }
        expect(states[1]).toEqual(states[0]);
      }),
      { numRuns: 15 },
    );
  });
});
