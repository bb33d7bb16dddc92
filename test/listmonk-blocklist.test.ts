/** Blocklisting suppressed addresses in Listmonk, with batched lookups by SQL IN or by regex. */
import { describe, expect, it, afterEach } from 'vitest';
import { LOOKUP_BATCH } from '../src/listmonk/lookup.ts';
import { clientFor } from './listmonk-double/client-for.ts';
import { DEFAULT_USER, ListmonkDouble, PIPELINE_PERMS } from './listmonk-double/index.ts';

let d: ListmonkDouble;
afterEach(async () => d?.stop());

async function seeded(perms: string[]) {
  d = await ListmonkDouble.start({ users: [{ ...DEFAULT_USER, perms }] });
  const l = d.model.addList({ name: 'old campaign list' });
  for (let i = 0; i < LOOKUP_BATCH + 50; i++) {
    const s = d.model.addSubscriber({ email: `s${i}@example.com`, name: `s${i}@example.com` });
    d.model.subscribe(s.id, l.id, 'confirmed');
  }
  d.model.blocklist(d.model.findByEmail('s1@example.com')!.id);
  return l;
}

describe('blocklistEmails', () => {
  for (const [label, perms, param] of [
    ['with subscribers:sql_query (SQL IN)', [...PIPELINE_PERMS, 'subscribers:sql_query'], 'query'],
    ['without it (regex alternation)', PIPELINE_PERMS, 'search'],
  ] as const) {
    it(`blocklists known addresses, reports the rest, in batches — ${label}`, async () => {
      const l = await seeded([...perms]);
      const { lm } = clientFor(d);
      const emails = [...Array.from({ length: LOOKUP_BATCH + 10 }, (_, i) => `S${i}@Example.com`), 'nobody@example.com', 's1x@example.com'];
      const r = await lm.blocklistEmails(emails);
      expect(r.alreadyBlocklisted).toEqual(['s1@example.com']);
      expect(r.unknown.sort()).toEqual(['nobody@example.com', 's1x@example.com']);
      expect(r.blocklisted).toHaveLength(LOOKUP_BATCH + 9);
      expect(d.model.findByEmail('s0@example.com')!.status).toBe('blocklisted');
      expect(d.model.subscriptions.get(d.model.findByEmail('s0@example.com')!.id)!.get(l.id)!.status).toBe('unsubscribed');
      expect(d.model.findByEmail(`s${LOOKUP_BATCH + 20}@example.com`)!.status).toBe('enabled'); // not asked for
      const lookups = d.requests.filter((x) => x.method === 'GET' && x.path === '/api/subscribers' && x.query.has(param) && x.status === 200);
      expect(lookups).toHaveLength(2);
      expect(d.count('PUT /api/subscribers/blocklist')).toBe(1);
      // Idempotent: a second run changes nothing.
      const again = await lm.blocklistEmails(emails);
      expect(again.blocklisted).toEqual([]);
      expect(again.alreadyBlocklisted).toHaveLength(LOOKUP_BATCH + 10);
    });
  }
});
