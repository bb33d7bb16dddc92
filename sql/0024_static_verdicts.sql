-- The static verdicts kept between runs (issue #15): what the exclusion rules that read only the
-- e-mail and carrier data say of every address (src/rules/static-verdicts.ts), so `plan` and the
-- build's counts judge the date-dependent rules alone at run time instead of every rule over the
-- whole census-scale audience.
--
-- The change marker. A transaction that writes a table the static rules (or the kept copy of the
-- carriers' segment columns) read adds one to a counter, in that transaction: the sum of the
-- counters changes exactly when such a write commits, so a kept set is used only while the sum is
-- the one it was built at. A trigger, not a call in each stage: it sees every writer (a stage, a
-- test's fixture, an operator's psql) and cannot be forgotten by the next one. Statement-level,
-- so a COPY of millions of rows or a batch insert fires it once, not once per row; and it counts
-- once per transaction (a transaction-local setting remembers it did; a rolled-back savepoint
-- forgets it with its count): updating one row at every statement of a long transaction grew its
-- chain of versions, each update walking it (measured: 20,000 one-row inserts in one
-- transaction, 0.16 s bare, 8.4 s counting each, 0.2 s counting once). One counter per server
-- process (pg_backend_pid): a process runs one transaction at a time, so two transactions never
-- wait on the same counter row (one shared row would make a census load and a check-mx batch
-- wait on each other until commit, and could join a deadlock). The rows stay few (one per server
-- process that ever wrote); their sum only grows.
create table static_input_changes (
  backend_pid integer primary key,
  changes bigint not null
);

create function note_static_input_change() returns trigger language plpgsql as $$
begin
  if current_setting('audience.static_input_noted', true) = 'on' then
    return null;
  end if;
  perform set_config('audience.static_input_noted', 'on', true);
  insert into static_input_changes as s (backend_pid, changes) values (pg_backend_pid(), 1)
  on conflict (backend_pid) do update set changes = s.changes + 1;
  return null;
end
$$;

create trigger static_input_change after insert or update or delete or truncate on emails
  for each statement execute function note_static_input_change();
create trigger static_input_change after insert or update or delete or truncate on email_reasons
  for each statement execute function note_static_input_change();
create trigger static_input_change after insert or update or delete or truncate on carrier_emails
  for each statement execute function note_static_input_change();
create trigger static_input_change after insert or update or delete or truncate on carriers
  for each statement execute function note_static_input_change();
create trigger static_input_change after insert or update or delete or truncate on mx_domains
  for each statement execute function note_static_input_change();

-- The kept set: a cache, rebuilt whole from the tables above in one transaction when its marker is
-- not the current one. Unlogged (no WAL for a million rows a rebuild), so after a server crash all
-- three are empty: no state row, so the next run rebuilds.
create unlogged table static_verdicts_state (
  id boolean primary key default true check (id),
  -- sum(static_input_changes.changes) read before the build read the data.
  input_changes bigint not null,
  -- The runs of the stages that write those tables (a second witness: ids and finished count).
  runs_mark text not null,
  -- Hash of the static rules' SQL and parameters, the allowlist and the layout (config and code).
  fingerprint text not null,
  built_at timestamptz not null,
  addresses integer not null,
  links integer not null
);

-- One row per carrier_emails link: the carrier's columns the segments read, the address's domain,
-- and the reason codes the static rules give the address (bit i: REASON_CODES[i]; 0 = none).
-- `shared`: the address has other links (its segment days are the union over its carriers).
create unlogged table static_links (
  email_id bigint not null,
  dot_number bigint not null,
  status text not null,
  add_date date,
  mcs150_date date,
  domain text,
  codes integer not null,
  shared boolean not null
);

-- Every distinct domain of emails, with its number of addresses: the domain rules judged at run
-- time (suppressed domains, holds, MX unknown) go over these instead of the audience's addresses.
create unlogged table static_domains (
  domain text primary key,
  n integer not null
);
