-- The run ledger: every stage run records when it started and ended, how it ended, its counts and
-- its error, so operators can see what ran (`audience status`, or psql: select * from runs).
create table runs (
  id          bigint generated always as identity primary key,
  stage       text        not null,
  args        jsonb       not null default '{}',
  status      text        not null default 'running'
              check (status in ('running', 'ok', 'failed', 'refused', 'abandoned')),
  started_at  timestamptz not null default now(),
  finished_at timestamptz,
  counts      jsonb       not null default '{}',
  error       text,
  pid         integer,
  host        text
);
create index runs_stage_started_idx on runs (stage, started_at desc);

comment on table runs is 'One row per stage run (ingest, normalize, scrub-bounces, check-mx, build...). status running + no live process = crashed (marked abandoned by the next run of the stage).';
