-- E-mail addresses normalized from carriers.email_raw by `audience normalize` (src/email/).
-- One row per normalized address, linked to every carrier that lists it. Rows are never deleted:
-- ids stay stable for other areas (push ledger, explain), and an address no carrier lists any more
-- simply has carrier_count = 0 (the build selects through carrier_emails).
create table emails (
  id                 bigint generated always as identity primary key,
  -- Normalized: lower case, IDNA ASCII domain, no trailing dot. Invalid tokens are stored too (the
  -- cleaned, lower-cased token, valid = false, an invalid_syntax reason) so `explain` can show them.
  address            text    not null unique,
  local_part         text,
  domain             text,
  valid              boolean not null,
  -- How many carriers list this address (kept by normalize for the addresses it touches):
  -- the shared_address rule compares it with email.sharedAddressThreshold.
  carrier_count      integer not null default 0,
  -- Version of the normalizer that judged this row (src/email/version.ts). A newer normalizer
  -- re-judges older rows, so a fixed validator or a new typo entry reaches every address.
  normalizer_version integer not null,
  created_at         timestamptz not null default now()
);
create index emails_domain_idx on emails (domain);

-- Which carriers list which address (position = order in the carrier's e-mail field, from 1).
create table carrier_emails (
  dot_number bigint  not null,
  email_id   bigint  not null references emails (id),
  position   integer not null,
  primary key (dot_number, email_id)
);
create index carrier_emails_email_idx on carrier_emails (email_id);

-- Static verdicts computed at normalization (invalid_syntax, typo_domain), with their evidence.
-- `since` is when normalize first found the reason; it survives re-runs.
create table email_reasons (
  email_id bigint      not null references emails (id),
  code     text        not null,
  detail   text        not null,
  since    timestamptz not null,
  primary key (email_id, code)
);

-- Normalize's state: the e-mail field each carrier was last normalized from. A carrier is
-- normalized again only when carriers.email_raw differs from this (anti-join) or the normalizer
-- version changed. Written in the same transaction as the links it produced.
create table email_sources (
  dot_number         bigint      primary key,
  email_raw          text,
  normalizer_version integer     not null,
  run_id             bigint      not null,
  normalized_at      timestamptz not null
);
