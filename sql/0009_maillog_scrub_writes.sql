-- Cheaper writes for the scrub's batches (each batch is one transaction with its checkpoint).

-- The linker's open messages are saved with every checkpoint and only ever read back whole by the
-- linker (JSON.parse in Node): jsonb made the server parse and re-encode about a megabyte per batch
-- on a bulk night, and the default storage compressed it. Plain text, stored uncompressed, costs
-- a copy.
alter table maillog_linker_state alter column state type text using state::text;
alter table maillog_linker_state alter column state set storage external;

-- The last success per domain, as each batch found it: appended by COPY (no index, no conflict to
-- resolve per row) with the checkpoint that covers it, and folded into maillog_sent_domains (keeping
-- the later time) at the start of the run's final transaction, before any policy reads it. A run
-- killed before its fold leaves rows here that the next run folds: a maximum, so nothing counts twice.
create table maillog_sent_domain_log (
  domain  text        not null,
  last_ts timestamptz not null
);
