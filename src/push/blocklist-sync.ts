/**
 * Addresses the bounce scrub suppressed are blocklisted in Listmonk, so Listmonk stops mailing them
 * from older lists too (a campaign of last week's list would otherwise bounce again). Only
 * addresses we pushed can be Listmonk subscribers of ours, and the ledger knows their ids; each is
 * sent once (listmonk_blocklist_sync), recorded after Listmonk confirmed.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { ListmonkClient } from '../listmonk/index.ts';

const CHUNK = 500;

export async function syncBlocklist(db: Kysely<Database>, lm: ListmonkClient, runId: number, now: Date): Promise<number> {
  const r = await sql<{ address: string; subscriber_id: number }>`
    select distinct on (l.address) l.address, l.subscriber_id
    from push_ledger l
    where l.subscriber_id is not null
      and not exists (select 1 from listmonk_blocklist_sync b where b.address = l.address)
      and exists (
        select 1 from suppressions s
        where s.lifted_at is null and (s.expires_at is null or s.expires_at > ${now}::timestamptz)
          and ((s.kind = 'address' and s.value = l.address) or (s.kind = 'domain' and s.value = split_part(l.address, '@', 2))))
    order by l.address, l.pushed_at desc nulls last`.execute(db);
  let done = 0;
  for (let i = 0; i < r.rows.length; i += CHUNK) {
    const chunk = r.rows.slice(i, i + CHUNK);
    await lm.blocklistSubscribers(chunk.map((c) => c.subscriber_id));
    await sql`
      insert into listmonk_blocklist_sync (address, subscriber_id, run_id)
      select * from unnest(${chunk.map((c) => c.address)}::text[], ${chunk.map((c) => c.subscriber_id)}::int[], array_fill(${runId}::bigint, array[${chunk.length}::int]))
      on conflict (address) do nothing`.execute(db);
    done += chunk.length;
  }
  return done;
}
