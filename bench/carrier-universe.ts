/**
 * The 2M-carrier universe the whole-command benchmarks run on (bench:build, bench:analyst),
 * generated with set-based SQL into a migrated database.
 */

/** The send date the universe is shaped around (MCS-150 dates, ADD_DATEs and history end here). */
export const BENCH_DATE = '2026-11-28';

/**
 * A census-shaped universe: 95% active, 76% with an address; a quarter at gmail.com, some Yahoo
 * family and consumer Outlook, the rest on 200k company domains with MX verdicts (google,
 * microsoft365, other; 3% dead, 2% unknown); MCS-150 dates spread over four years so about a third
 * are overdue; 1 in 400 addresses suppressed. Pseudo-random but deterministic (hash of the row).
 */
export const GENERATE = (n: number) => `
insert into carriers (dot_number, legal_name, status, mcs150_date, add_date, phy_state, power_units,
                      source_format, source_file, source_line, first_run_id, changed_run_id)
select 1000000 + g, 'CARRIER ' || g || ' LLC', case when g % 20 = 0 then 'inactive' else 'active' end,
       case when g % 13 = 0 then null else date '${BENCH_DATE}' - ((g::bigint * 2654435761) % 1500)::int end,
       date '${BENCH_DATE}' - ((g::bigint * 40503) % 9000)::int,
       'TX', (g % 40) + 1, 'bench', 'bench', g, 0, 0
from generate_series(1, ${n}) g;

insert into emails (id, address, local_part, domain, valid, carrier_count, normalizer_version)
overriding system value
select g, 'd' || g || '@' || dom, 'd' || g, dom, true, 1, 1
from (select g, case when g % 100 < 25 then 'gmail.com'
                     when g % 100 < 32 then 'yahoo.com'
                     when g % 100 < 35 then 'aol.com'
                     when g % 100 < 40 then 'hotmail.com'
                     else 'carrier' || ((g::bigint * 7919) % 200000) || '.test' end as dom
      from generate_series(1, ${n}) g where g % 25 < 19) s;
select setval(pg_get_serial_sequence('emails', 'id'), ${n} + 1);

insert into carrier_emails (dot_number, email_id, position)
select 1000000 + id, id, 1 from emails;

insert into mx_domains (domain, verdict, reason, provider, mx_hosts, mx_preferences, checked_at, expires_at, source)
select 'carrier' || i || '.test',
       case when i % 100 < 3 then 'dead' when i % 100 < 5 then 'unknown' else 'deliverable' end,
       case when i % 100 < 3 then 'nxdomain' when i % 100 < 5 then 'timeout' else 'mx' end,
       case when i % 100 < 5 then null when i % 100 < 20 then 'google' when i % 100 < 35 then 'microsoft365' else 'other' end,
       '{}'::text[], '{}'::int[], now(), now() + interval '7 days', 'import'
from generate_series(0, 199999) i
union all
select d, 'deliverable', 'mx', null, '{}'::text[], '{}'::int[], now(), now() + interval '7 days', 'import'
from unnest(array['gmail.com', 'yahoo.com', 'aol.com', 'hotmail.com']) d;

insert into suppressions (kind, value, reason, source, evidence, first_seen, last_seen)
select 'address', address, 'recipient_invalid', 'scrub', '{}'::jsonb, now(), now() from emails where id % 400 = 7;

analyze;
`;

/**
 * What 90 days of operation leave behind on that universe, ending the day before BENCH_DATE: a
 * ledger of about 2,800 pushed addresses a day (and the next day's batch already reserved, as an analyst
 * builds ahead), their lists, delivery events (deferrals and bounces of 1 in 20 pushes), daily
 * health, domain suppressions, opt-outs, an active provider hold and a domain hold on a server
 * that serves 1 in 100 company domains. Timestamps are relative to BENCH_DATE, never to now().
 */
export const HISTORY = `
insert into maillog_files (first_line_hash, inode, path, gz) values ('bench', 1, '/var/log/mail.log', false);

insert into push_ledger (send_date, segment, address, email_id, dot_number, provider, rank, note, status, outcome,
                         run_id, push_run_id, list_id, subscriber_id, reserved_at, pushed_at)
select d.day, case when e.id % 5 = 0 then 'new-carrier' else 'mcs150' end, e.address, e.id, 1000000 + e.id, null,
       row_number() over (partition by d.day order by e.id)::int, 'bench', case when d.k = 0 then 'reserved' else 'pushed' end,
       case when d.k = 0 then null else 'created' end, 1, case when d.k = 0 then null else 1 end,
       case when d.k = 0 then null else 1000 + d.k end, case when d.k = 0 then null else e.id::int end,
       d.day::timestamp + interval '6 hours', case when d.k = 0 then null else d.day::timestamp + interval '7 hours' end
from (select k, date '${BENCH_DATE}' + 1 - k as day from generate_series(0, 90) k) d
join emails e on e.id % 6 = 3 and (e.id / 6) % 91 = d.k;

insert into build_lists (send_date, segment, list_id, list_name)
select distinct send_date, segment, 1000 + (date '${BENCH_DATE}' + 1 - send_date), 'audience ' || segment || ' ' || send_date
from push_ledger where status = 'pushed';

insert into delivery_events (ts, day, host, transport, qid, recipient, domain, relay, relay_host, relay_provider, status, dsn, class,
                             reason, own_domain, file_id, line_no, run_id)
select l.pushed_at + interval '1 hour', l.send_date, 'mx1', 'postfix/smtp', 'Q' || l.id, l.address, split_part(l.address, '@', 2),
       'relay', 'relay.test', null, case when l.id % 3 = 0 then 'bounced' else 'deferred' end,
       case when l.id % 3 = 0 then '5.1.1' else '4.2.0' end, case when l.id % 3 = 0 then 'recipient_invalid' else 'rate_limited' end,
       'bench', false, 1, l.id, 1
from push_ledger l where l.status = 'pushed' and l.id % 20 = 0;

insert into maillog_daily_health (day, sent, deferred, bounced, expired, stale)
select day, 3000, 100, 50, 0, false from generate_series(date '${BENCH_DATE}' - 90, date '${BENCH_DATE}' - 1, interval '1 day') day;

insert into suppressions (kind, value, reason, source, evidence, first_seen, last_seen)
select 'domain', 'carrier' || i || '.test', 'domain_dead', 'scrub', '{}'::jsonb, date '${BENCH_DATE}' - 30, date '${BENCH_DATE}' - 30
from generate_series(0, 199999, 500) i;

insert into opt_outs (address, kind, source, seen_at, run_id)
select address, case when id % 2 = 0 then 'blocklisted' else 'unsubscribed' end, 'sync', date '${BENCH_DATE}' - 10, 1
from emails where id % 6 = 3 and id % 7 = 0 and id < 400000;

update mx_domains set mx_hosts = array['mx.shared-host.test'], mx_preferences = array[10] where domain like 'carrier%' and (substr(domain, 8, length(domain) - 12)::int) % 100 = 60;

insert into holds (scope, provider, domain, mx_host, reason, detail, evidence, starts_at, until)
values ('provider', 'microsoft365', null, null, 'rate_limited', 'bench', '{}'::jsonb, date '${BENCH_DATE}' - 1, date '${BENCH_DATE}' + 2),
       ('domain', null, 'carrier160.test', 'mx.shared-host.test', 'reputation_block', 'bench', '{}'::jsonb, date '${BENCH_DATE}' - 1, date '${BENCH_DATE}' + 3);

analyze;
`;
