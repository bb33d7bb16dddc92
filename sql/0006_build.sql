-- The build's push ledger: one row per (send date, address) the build reserved for a segment,
-- then pushed to Listmonk (or saw refused). It is the single source of truth for the daily cap
-- (reserved + pushed rows of a date, all segments), for cooldown (pushed or reserved on an
-- earlier date), and for crash-resume (reserved rows are pushed by the next run, never re-selected).
create table push_ledger (
  id            bigint generated always as identity primary key,
  send_date     date    not null,
  segment       text    not null,
  -- The normalized address (emails.address): Listmonk's identity for a subscriber.
  address       text    not null,
  email_id      bigint  not null,
  dot_number    bigint  not null,
  -- Provider at selection time (domain_providers), for the tier order and the status mix.
  provider      text,
  -- Order of selection within the date (best recipients first): the CSV and push order.
  rank          integer not null,
  -- Why the carrier was in the segment that day ("due 2026-12-31"), sent as a list attribute.
  note          text,
  -- reserved: counted against the cap, not yet confirmed by Listmonk.
  -- pushed:   Listmonk confirmed the address is on the list (created, added or already there).
  -- failed:   Listmonk refused or will not mail it (invalid, blocklisted, unsubscribed); not counted.
  status        text    not null default 'reserved' check (status in ('reserved', 'pushed', 'failed')),
  -- Listmonk's outcome word (created, added, already_member, blocklisted, unsubscribed, rejected, missing).
  outcome       text,
  error         text,
  run_id        bigint  not null,
  push_run_id   bigint,
  list_id       integer,
  subscriber_id integer,
  reserved_at   timestamptz not null default now(),
  pushed_at     timestamptz,
  -- One address goes to at most one segment per date.
  unique (send_date, address)
);
-- Cap accounting and resume: the rows of one date by status.
create index push_ledger_date_status_idx on push_ledger (send_date, status);
-- Cooldown: was this address pushed on an earlier date within N days?
create index push_ledger_address_idx on push_ledger (address, send_date) where status in ('reserved', 'pushed');
-- Blocklist sync: the Listmonk subscriber id of each address we ever pushed.
create index push_ledger_subscriber_idx on push_ledger (address) where subscriber_id is not null;

-- The Listmonk list (and campaign, with --send-hour) of each segment and date: makes both
-- idempotent across re-runs and lets `status` show what is scheduled.
create table build_lists (
  send_date        date        not null,
  segment          text        not null,
  list_id          integer     not null,
  list_name        text        not null,
  campaign_id      integer,
  campaign_name    text,
  campaign_send_at timestamptz,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  primary key (send_date, segment)
);

-- Suppressed addresses already blocklisted in Listmonk, so each is sent once.
create table listmonk_blocklist_sync (
  address       text        primary key,
  subscriber_id integer     not null,
  run_id        bigint      not null,
  synced_at     timestamptz not null default now()
);
