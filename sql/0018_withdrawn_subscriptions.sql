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

-- 2. An address already pushed onto a later date's list (an analyst built ahead) that then opted
--    out, bounced into a suppression, lost its MX or fell under a provider hold was never pushed
--    again, but that list's campaign, already filled, still mailed it. Now the opt-out read
--    (sync-listmonk, and every build) takes every address a protecting rule excludes now off our
--    lists of today and later in Listmonk (unsubscribe from that list, not a blocklisting in a
--    Listmonk other streams share), and records each withdrawal here, once: a re-run withdraws
--    nothing twice, and the opt-out sync does not take our own unsubscribe for an opt-out of the
--    recipient's (it would outlive a hold, or come back after `audience unsuppress`).
create table list_unsubscribes (
  ledger_id     bigint      primary key,  -- push_ledger.id (ledger rows are never deleted)
  send_date     date        not null,
  address       text        not null,
  list_id       integer     not null,
  subscriber_id integer     not null,
  -- The rule codes that excluded it when it was withdrawn, comma-separated (e.g. 'provider_hold').
  reason        text        not null,
  run_id        bigint      not null,
  unsubscribed_at timestamptz not null
);
create index list_unsubscribes_address_idx on list_unsubscribes (address, list_id);
