-- Opt-outs read back from Listmonk (issue #14): an address blocklisted in Listmonk, or unsubscribed
-- from a list this project created (or from any list, with listmonk.optOutScope = 'all'), is never
-- pushed again: the rule opted_out reads this table. Listmonk keeps unsubscribes per list and every
-- send date gets new lists, so without this an unsubscribed carrier would be put on the next list
-- once the cooldown passed.
--
-- One row per piece of evidence, keyed by (address, kind, list). Rows are only ever inserted (a
-- re-read of the same evidence changes nothing) and lifted (`audience unsuppress ADDRESS`): a lifted
-- row stays as history and, keeping its key, is never recorded again from the same evidence; new
-- evidence (another list, a later push that Listmonk refused) is a new, active row.
create table opt_outs (
  id            bigint generated always as identity primary key,
  -- The normalized address (emails.address), as the rules match candidates.
  address       text        not null check (address = lower(address)),
  kind          text        not null check (kind in ('blocklisted', 'unsubscribed')),
  -- The Listmonk list of the unsubscribed subscription, or the list a refused push was for; null
  -- for a blocklisting read by the sync (it holds on every list).
  list_id       integer,
  list_name     text,
  subscriber_id integer,
  -- sync: read from Listmonk (sync-listmonk, or a build's own read); push: Listmonk answered
  -- blocklisted or unsubscribed when a build put the address on a list.
  source        text        not null check (source in ('sync', 'push')),
  seen_at       timestamptz not null,
  run_id        bigint      not null,
  lifted_at     timestamptz,
  lifted_by     text,
  lift_reason   text,
  lift_run_id   bigint
);
create unique index opt_outs_evidence_idx on opt_outs (address, kind, coalesce(list_id, 0));
-- The rule's probe: the active opt-outs of a candidate address.
create index opt_outs_active_idx on opt_outs (address) where lifted_at is null;
