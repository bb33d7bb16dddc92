/**
 * Daily health (firm's time zone): delivery mix, volume per transport, classes, top deferral and
 * bounce causes, the firm's own mail apart, and DKIM coverage of campaign mail. Days whose inputs
 * changed are marked stale by the batch writer and recomputed here from the stored events and sent
 * counts, so the numbers never depend on how the log was split into runs.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

const TOP = 5;

export async function recomputeStaleHealth(trx: Transaction<Database>, now: Date): Promise<number> {
  // With no stale day the statement below changes nothing, but planning it still took about 20 ms
  // of the server (a tenth of a scrub over an unchanged log, on its critical path): asked first.
  const stale = await sql<{ any: boolean }>`select exists (select 1 from maillog_daily_health where stale) as any`.execute(trx);
  if (!stale.rows[0]?.any) return 0;
  const r = await sql`
    with stale as (select day from maillog_daily_health where stale),
    -- The stale days' events counted by outcome (a few thousand groups for tens of thousands of
    -- events), the min reason kept for the causes, and by transport; every figure below rolls
    -- these up. = any of an array rather than a join with stale: with the join the planner
    -- sorted the events to group them, several times slower than hashing.
    outcomes as (
      select e.day, e.own_domain, e.status, e.class, e.dsn, coalesce(e.relay_provider, e.relay_host, e.domain) as target,
        count(*) as n, min(e.reason) filter (where not e.own_domain and e.status in ('deferred', 'bounced')) as sample
      from delivery_events e
      where e.day = any (array(select day from stale))
      group by e.day, e.own_domain, e.status, e.class, e.dsn, coalesce(e.relay_provider, e.relay_host, e.domain)
    ),
    per_transport as (
      select e.day, e.transport, count(*) as n from delivery_events e
      where e.day = any (array(select day from stale))
      group by e.day, e.transport
    ),
    sent as (
      select m.day, sum(m.sent) filter (where not m.own_domain) as sent, sum(m.sent) filter (where m.own_domain) as own_sent
      from maillog_sent_counts m join stale s on s.day = m.day group by m.day
    ),
    failed as (
      select day,
        sum(n) filter (where not own_domain and status = 'deferred') as deferred,
        sum(n) filter (where not own_domain and status = 'bounced') as bounced,
        sum(n) filter (where not own_domain and status = 'expired') as expired,
        sum(n) filter (where own_domain and status in ('bounced', 'expired')) as own_failed
      from outcomes group by day
    ),
    mix as (
      select s.day, coalesce(se.sent, 0) as sent, coalesce(se.own_sent, 0) as own_sent,
        coalesce(f.deferred, 0) as deferred, coalesce(f.bounced, 0) as bounced, coalesce(f.expired, 0) as expired,
        coalesce(f.own_failed, 0) as own_failed
      from stale s left join sent se on se.day = s.day left join failed f on f.day = s.day
    ),
    transports as (
      select day, jsonb_object_agg(transport, n order by transport) as by_transport from (
        select day, transport, sum(n) as n from (
          select m.day, m.transport, m.sent as n from maillog_sent_counts m join stale s on s.day = m.day
          union all
          select day, transport, n from per_transport
        ) x group by day, transport
      ) y group by day
    ),
    classes as (
      select day, jsonb_object_agg(class, n order by class) as by_class
      from (select day, class, sum(n) as n from outcomes where not own_domain group by day, class) x group by day
    ),
    causes as (
      select day, status, class, dsn, target, n, sample from outcomes where not own_domain and status in ('deferred', 'bounced')
    ),
    -- The top causes of a day and status have at least its TOPth largest count: found by sorting
    -- the counts alone, it leaves a few rows to order by count, class, dsn and target (sorting
    -- every cause on those text columns was most of this statement's time).
    cut as (
      select day, status, min(n) as n from (
        select day, status, n, row_number() over (partition by day, status order by n desc) as r from causes
      ) x where r <= ${TOP} group by day, status
    ),
    ranked as (
      select c.*, row_number() over (partition by c.day, c.status order by c.n desc, c.class, c.dsn, c.target) as rk
      from causes c join cut on cut.day = c.day and cut.status = c.status and c.n >= cut.n
    ),
    tops as (
      select day,
        coalesce(jsonb_agg(jsonb_build_object('class', class, 'dsn', dsn, 'target', target, 'count', n, 'sample', left(sample, 200)) order by rk)
                 filter (where status = 'deferred'), '[]') as top_deferrals,
        coalesce(jsonb_agg(jsonb_build_object('class', class, 'dsn', dsn, 'target', target, 'count', n, 'sample', left(sample, 200)) order by rk)
                 filter (where status = 'bounced'), '[]') as top_bounces
      from ranked where rk <= ${TOP} group by day
    )
    update maillog_daily_health h set
      sent = m.sent, deferred = m.deferred, bounced = m.bounced, expired = m.expired,
      own_domain_sent = m.own_sent, own_domain_failed = m.own_failed,
      by_transport = coalesce(t.by_transport, '{}'), by_class = coalesce(c.by_class, '{}'),
      top_deferrals = coalesce(tp.top_deferrals, '[]'), top_bounces = coalesce(tp.top_bounces, '[]'),
      stale = false, updated_at = ${now}::timestamptz
    from mix m
    left join transports t on t.day = m.day
    left join classes c on c.day = m.day
    left join tops tp on tp.day = m.day
    where h.day = m.day`.execute(trx);
  return Number(r.numAffectedRows ?? 0);
}
