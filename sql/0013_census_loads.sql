-- One row per census file an ingest merged (issue #14): what was loaded, from which bytes, and how
-- recent its data is, so the next ingest can tell an older file from a newer one. Written in the
-- transaction that merges the file, so a row exists exactly when the file's carriers do.
--
-- data_date is the file's newest MCS-150 or ADD date not after the run's day: FMCSA adds carriers
-- and receives MCS-150 filings every day, so a full census's newest date is within days of its
-- cut, whatever the file is called or whenever it was copied. A date after the run's day is a typo
-- in the source and is left out (one row dated 2099 would otherwise make every later file "older").
-- Null when the file has no usable date (e.g. a header-only file).
create table census_loads (
  id              bigint generated always as identity primary key,
  run_id          bigint      not null,
  -- Base name, as carriers.source_file records it.
  file            text        not null,
  format          text        not null,
  -- sha256 and length of the census text as read (inside the .gz or .zip).
  sha256          text        not null check (sha256 ~ '^[0-9a-f]{64}$'),
  bytes           bigint      not null check (bytes >= 0),
  rows_read       bigint      not null check (rows_read >= 0),
  rows_accepted   bigint      not null check (rows_accepted >= 0),
  newest_mcs150   date,
  newest_add_date date,
  data_date       date,
  snapshot        boolean     not null,
  -- The operator's overrides of the freshness guards, kept with the load they let through.
  allowed_older   boolean     not null default false,
  forced_snapshot boolean     not null default false,
  loaded_at       timestamptz not null
);
create index census_loads_data_date_idx on census_loads (data_date);
