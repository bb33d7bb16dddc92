-- Carriers from the FMCSA census, keyed by USDOT number. Loaded by `audience ingest census`:
-- COPY into an unlogged staging table, then typed and merged here in set-based SQL. A re-ingest
-- writes a carrier only when one of its loaded columns differs (compared in the merge itself, so
-- a first load pays for no hash).
create table carriers (
  dot_number          bigint primary key check (dot_number > 0),
  legal_name          text,
  dba_name            text,
  -- active / inactive / pending. FMCSA_CENSUS1 lists active carriers only; the Company Census File
  -- says A/I/P. A --snapshot ingest marks carriers missing from the file inactive (never deletes).
  status              text not null check (status in ('active', 'inactive', 'pending')),
  carrier_operation   text,          -- A interstate, B intrastate hazmat, C intrastate non-hazmat
  hazmat              boolean,
  passenger           boolean,
  phy_street          text,
  phy_city            text,
  phy_state           text,
  phy_zip             text,          -- text: leading zeros and ZIP+4 are data
  phy_country         text,
  mail_street         text,
  mail_city           text,
  mail_state          text,
  mail_zip            text,
  mail_country        text,
  phone               text,          -- digits only, as a string
  email_raw           text,          -- the census e-mail field exactly as filed (normalized later)
  mcs150_date         date,
  mcs150_mileage      bigint,
  mcs150_mileage_year integer,
  add_date            date,
  power_units         integer,
  drivers             integer,
  -- Values that were sentinels or absurd in the source and were stored as null, e.g.
  -- {mcs150_mileage_year_sentinel, power_units_absurd}.
  data_flags          text[] not null default '{}',
  -- FMCSA's own test records (phone 2025555555, uat...@ addresses): never mailed.
  is_test_record      boolean not null default false,
  source_format       text not null,
  source_file         text not null,
  source_line         bigint not null,
  first_run_id        bigint not null,
  changed_run_id      bigint not null,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  deactivated_at      timestamptz
);
create index carriers_active_add_date_idx on carriers (add_date) where status = 'active';

-- Bad census rows, kept with their reason and raw text: nothing is lost.
create table census_rejects (
  id       bigint generated always as identity primary key,
  run_id   bigint not null,
  file     text   not null,
  line_no  bigint not null,
  reason   text   not null,
  raw      text   not null,
  created_at timestamptz not null default now()
);
create index census_rejects_run_idx on census_rejects (run_id, line_no);

