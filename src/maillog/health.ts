/**
 * Daily health (firm's time zone): delivery mix, volume per transport, classes, top deferral and
 * bounce causes, the firm's own mail apart, and DKIM coverage of campaign mail. Days whose inputs
 * changed are marked stale by the batch writer and recomputed here from the stored events and sent
 * counts, so the numbers never depend on how the log was split into runs.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';


const TOP = 5;

export async function recomputeStaleHealth(trx: Transaction<Database>): Promise<number> {
  const r = await sql`
    with stale as (select day from maillog_daily_health where stale),
    ev as (
      select e.day, e.status, e.class, e.dsn, e.own_domain, e.transport, coalesce(e.relay_provider, e.relay_host, e.domain) as target, e.reason
      from delivery_events e join stale s on s.day = e.day
    ),
    -- One pass over the stale days' events and sent counts (correlated counts per day rescanned
    -- the events once per day and column).
    sent as (
      select m.day, sum(m.sent) filter (where not m.own_domain) as sent, sum(m.sent) filter (where m.own_domain) as own_sent
      from maillog_sent_counts m join stale s on s.day = m.day group by m.day
    ),
    failed as (
      select day,
        count(*) filter (where not own_domain and status = 'deferred') as deferred,
        count(*) filter (where not own_domain and status = 'bounced') as bounced,
        count(*) filter (where not own_domain and status = 'expired') as expired,
        count(*) filter (where own_domain and status in ('bounced', 'expired')) as own_failed
      from ev group by day
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
          select day, transport, count(*) from ev group by day, transport
        ) x group by day, transport
      ) y group by day
    ),
    classes as (
      select day, jsonb_object_agg(class, n order by class) as by_class
      from (select day, class, count(*) as n from ev where not own_domain group by day, class) x group by day
    ),
    causes as (
      select day, status, class, dsn, target, count(*) as n, min(reason) as sample,
        row_number() over (partition by day, status order by count(*) desc, class, dsn, target) as rk
      from ev where not own_domain and status in ('deferred', 'bounced') group by day, status, class, dsn, target
    ),
    tops as (
      select day,
        coalesce(jsonb_agg(jsonb_build_object('class', class, 'dsn', dsn, 'target', target, 'count', n, 'sample', left(sample, 200)) order by rk)
                 filter (where status = 'deferred'), '[]') as top_deferrals,
        coalesce(jsonb_agg(jsonb_build_object('class', class, 'dsn', dsn, 'target', target, 'count', n, 'sample', left(sample, 200)) order by rk)
                 filter (where status = 'bounced'), '[]') as top_bounces
      from causes where rk <= ${TOP} group by day
    )
    update maillog_daily_health h set
      sent = m.sent, deferred = m.deferred, bounced = m.bounced, expired = m.expired,
      own_domain_sent = m.own_sent, own_domain_failed = m.own_failed,
      by_transport = coalesce(t.by_transport, '{}'), by_class = coalesce(c.by_class, '{}'),
      top_deferrals = coalesce(tp.top_deferrals, '[]'), top_bounces = coalesce(tp.top_bounces, '[]'),
      stale = false, updated_at = now()
    from mix m
    left join transports t on t.day = m.day
    left join classes c on c.day = m.day
    left join tops tp on tp.day = m.day
    where h.day = m.day`.execute(trx);
  return Number(r.numAffectedRows ?? 0);
}
