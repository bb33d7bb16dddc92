-- Carriers from the FMCSA census, keyed by USDOT number. Loaded by `audience ingest census`:
-- COPY into an unlogged staging table, then typed and merged here in set-based SQL.
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
  -- md5 over the business fields: a re-ingest updates a carrier only when this changes.
  row_hash            text not null,
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

-- Census dates as calendar days, or null when the text is not a real date, so the ingest can tell
-- a bad value (reject) from an empty one (null) in set-based SQL without raising errors.
-- YYYYMMDD with an optional " HHMM" (Company Census File), DD-MON-YY (FMCSA_CENSUS1: YY <= pivot
-- is 20YY, else 19YY). Written without make_date() on unchecked values: an error would abort the
-- whole statement, and constant folding may evaluate a branch early.
create function census_make_date(y integer, m integer, d integer) returns date
language sql immutable parallel safe as $$
  select case
    when y between 1 and 9999 and m between 1 and 12
     and d between 1 and case
       when m = 2 then case when (y % 4 = 0 and y % 100 <> 0) or y % 400 = 0 then 29 else 28 end
       when m in (4, 6, 9, 11) then 30
       else 31 end
    then make_date(y, m, d)
  end
$$;

create function census_date(v text, pivot integer) returns date
language sql immutable parallel safe as $$
  select case
    when v ~ '^\d{8}( \d{4})?$' then
      census_make_date(substr(v, 1, 4)::integer, substr(v, 5, 2)::integer, substr(v, 7, 2)::integer)
    when v ~* '^\d{2}-(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)-\d{2}$' then
      census_make_date(
        case when substr(v, 8, 2)::integer <= pivot then 2000 else 1900 end + substr(v, 8, 2)::integer,
        (strpos('JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC', upper(substr(v, 4, 3))) + 2) / 3,
        substr(v, 1, 2)::integer)
  end
$$;
