-- A failed push releases its reservations (issue #14). A reserved row counts against its date's cap
-- and, for every date within the cooldown, as a contact; a push that provably never reached
-- Listmonk must stop counting, or a run that failed on wrong credentials keeps its people out of
-- every build for a month. A row is released (status 'released', no longer counted anywhere) only
-- with evidence that Listmonk never had it:
--   config_error      the run failed on a configuration or credentials error (Listmonk refused
--                     them, or a permission is missing) and this address's request was never sent,
--                     or was refused by that error; and no earlier run had sent it;
--   never_sent        its send date has passed and no run ever sent it to Listmonk;
--   absent_from_list  its send date has passed, a run may have sent it, and the date's list read
--                     back from Listmonk does not hold it.
-- A transient failure (5xx, timeout, a crash) releases nothing: Listmonk may have accepted the
-- request, so the row stays reserved and a re-run for the date completes it.
alter table push_ledger drop constraint push_ledger_status_check;
alter table push_ledger add constraint push_ledger_status_check check (status in ('reserved', 'pushed', 'failed', 'released'));

-- The first run that sent, or may have sent, the address to Listmonk: set before its request, and
-- cleared by that run when the request provably never left (the push stopped before it, or it was
-- refused outright). Null on a reserved row means Listmonk never saw it.
alter table push_ledger add column attempt_run_id bigint;

-- One row per release, kept when a later build of the same date takes the address again (the
-- ledger row is reused: one row per date and address).
create table push_releases (
  id              bigint generated always as identity primary key,
  ledger_id       bigint      not null,
  send_date       date        not null,
  segment         text        not null,
  address         text        not null,
  reason          text        not null check (reason in ('config_error', 'never_sent', 'absent_from_list')),
  -- What proves it: the error and its status, or the list read back (id, name, members read).
  evidence        jsonb       not null,
  -- The run that reserved the row, and the run that released it.
  reserved_run_id bigint      not null,
  run_id          bigint      not null,
  released_at     timestamptz not null
);
create index push_releases_date_idx on push_releases (send_date);
create index push_releases_address_idx on push_releases (address);
-- Reservations of dates that have passed, for the build's reconciliation (send_date < today).
create index push_ledger_reserved_date_idx on push_ledger (send_date) where status = 'reserved';
