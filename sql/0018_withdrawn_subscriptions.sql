-- Two safety gaps found in re-reading the push against time (sessions of 2026-12).
--
-- 1. A reservation left by a failed push waits for a re-run; meanwhile its address may bounce, be
--    suppressed, opt out or fall under a hold. The re-run pushed it anyway (it was judged when it was
--    reserved). Now a build judges those leftover reservations again before pushing: one that no run
--    ever sent and that a rule excludes now is released with reason `excluded` (its rules as
--    evidence); one a run may have sent is withheld from the push and stays counted.
alter table push_releases drop constraint push_releases_reason_check;
alter table push_releases add constraint push_releases_reason_check
  check (reason in ('config_error', 'never_sent', 'absent_from_list', 'excluded'));

-- 2. An address already pushed onto a later date's list (an analyst built ahead) that opts out
--    meanwhile was never pushed again, but that list's campaign still mailed it once. Now the
--    opt-out read (sync-listmonk, and every build) takes it off our lists of today and later dates
--    in Listmonk (unsubscribe from the list, not a blocklisting in a Listmonk other streams share),
--    and records each withdrawal here, once: a re-run withdraws nothing twice, and the opt-out sync
--    does not take our own unsubscribe for a new opt-out of the recipient's (it would come back
--    after `audience unsuppress` lifted the real one).
create table list_unsubscribes (
  ledger_id     bigint      primary key,  -- push_ledger.id (ledger rows are never deleted)
  send_date     date        not null,
  address       text        not null,
  list_id       integer     not null,
  subscriber_id integer     not null,
  -- The opt-out that caused it: 'blocklisted' or 'unsubscribed' with its list, as the rule reads it.
  reason        text        not null,
  run_id        bigint      not null,
  unsubscribed_at timestamptz not null
);
create index list_unsubscribes_address_idx on list_unsubscribes (address, list_id);
