-- Bounce scrub (issue #4): what mail.log taught us. Filled by `audience scrub-bounces`, read by the
-- build (suppressions, holds), `explain` and `status`. Nothing here depends on other areas' tables.

-- One row per log file we have read, keyed by the hash of its first line: logrotate renames the
-- file (same inode) and later compresses it (new inode, same first line), so the content is the only
-- identity that survives rotation. offset/lines advance in the transaction that stores their events.
create table maillog_files (
  id               bigint generated always as identity primary key,
  first_line_hash  text        not null unique,
  inode            bigint      not null,
  path             text        not null,
  gz               boolean     not null,
  byte_offset      bigint      not null default 0 check (byte_offset >= 0),
  lines            bigint      not null default 0 check (lines >= 0),
  first_seen_at    timestamptz not null default now(),
  updated_at       timestamptz not null default now()
);

-- Messages still open when a batch was committed (client= seen, no `removed` yet): the linker's
-- state, saved with the checkpoint so a message whose lines straddle two runs is linked whole.
create table maillog_linker_state (
  id          integer primary key check (id = 1),
  state       jsonb       not null,
  updated_at  timestamptz not null default now()
);

-- Every outcome that is not `sent`: deferrals, bounces, expiries, with dsn, class and raw text.
-- `sent` outcomes are counted per day/domain in maillog_sent_daily instead (a healthy log is
-- almost all of them, and no policy needs them one by one).
create table delivery_events (
  id           bigint generated always as identity primary key,
  ts           timestamptz not null,
  day          date        not null,            -- ts in the firm's time zone (config timezone)
  host         text        not null,
  transport    text        not null,            -- syslog name + program: postfix/out05/smtp
  qid          text        not null,
  recipient    text,                            -- null: an expired message whose recipients we never saw
  orig_to      text,
  domain       text,
  relay        text,
  relay_host   text,
  relay_provider text,                          -- provider of the relay host (suffix table), null if unknown
  status       text        not null check (status in ('deferred', 'bounced', 'expired')),
  dsn          text,
  class        text        not null check (class in ('recipient_invalid', 'domain_dead', 'mailbox_full', 'reputation_block',
                 'content_spam', 'rate_limited', 'policy_auth', 'transient_network', 'expired', 'unknown')),
  cause_class  text,                            -- expired: class of the recipient's last deferral
  stage        text,                            -- SMTP stage of the reply: RCPT TO, end of DATA, greeting...
  reason       text        not null,            -- the raw text in parentheses
  sender       text,
  client_ip    text,
  stream       text,                            -- Listmonk stream of campaign mail (config campaignClients)
  own_domain   boolean     not null,            -- the firm's own mail: reported apart, never reputation
  file_id      bigint      not null references maillog_files (id),
  line_no      bigint      not null,
  run_id       bigint      not null
);
create index delivery_events_recipient_idx on delivery_events (recipient) where not own_domain;
create index delivery_events_domain_ts_idx on delivery_events (domain, ts) where not own_domain;
create index delivery_events_day_idx on delivery_events (day);
create index delivery_events_class_ts_idx on delivery_events (class, ts);

create table maillog_sent_daily (
  day        date    not null,
  domain     text    not null,
  transport  text    not null,
  stream     text    not null default '',
  own_domain boolean not null,
  sent       bigint  not null,
  last_ts    timestamptz not null,
  primary key (day, domain, transport, stream, own_domain)
);
create index maillog_sent_daily_domain_idx on maillog_sent_daily (domain, last_ts);

-- Suppressed addresses and domains (contract: kind, value, reason; active when lifted_at is null
-- and (expires_at is null or expires_at > now())). Lifting keeps the row: history is evidence.
create table suppressions (
  id          bigint generated always as identity primary key,
  kind        text        not null check (kind in ('address', 'domain')),
  value       text        not null check (value = lower(value)),
  reason      text        not null,             -- recipient_invalid, mailbox_full, expired_recipient, domain_dead, domain_failures, operator
  source      text        not null check (source in ('scrub', 'operator')),
  evidence    jsonb       not null,             -- {class, count, recipients, firstSeen, lastSeen, sample, ...}
  first_seen  timestamptz not null,
  last_seen   timestamptz not null,
  expires_at  timestamptz,
  lifted_at   timestamptz,
  lifted_by   text,
  lift_reason text,
  created_run_id bigint,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
-- At most one unlifted suppression per subject: the scrub updates it in place.
create unique index suppressions_current_idx on suppressions (kind, value) where lifted_at is null;

-- Holds stop the build from mailing a provider (or anyone: scope global). Contract: active when
-- lifted_at is null and until > now().
create table holds (
  id          bigint generated always as identity primary key,
  scope       text        not null check (scope in ('provider', 'global')),
  provider    text,                             -- null for global
  reason      text        not null,             -- reputation_block, rate_limited, content_spam, policy_auth, dkim_coverage, operator
  detail      text        not null,
  evidence    jsonb       not null,
  starts_at   timestamptz not null,
  until       timestamptz not null,
  lifted_at   timestamptz,
  lifted_by   text,
  lift_reason text,
  created_run_id bigint,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  check ((scope = 'global') = (provider is null))
);
create unique index holds_current_idx on holds (scope, coalesce(provider, ''), reason) where lifted_at is null;

-- Health per day (firm's time zone). campaign_messages/dkim_signed are added as messages close;
-- the other columns are recomputed from delivery_events and maillog_sent_daily (stale = true
-- marks days whose inputs changed since).
create table maillog_daily_health (
  day                date primary key,
  sent               bigint  not null default 0,
  deferred           bigint  not null default 0,
  bounced            bigint  not null default 0,
  expired            bigint  not null default 0,
  own_domain_sent    bigint  not null default 0,
  own_domain_failed  bigint  not null default 0,
  campaign_messages  bigint  not null default 0,
  dkim_signed        bigint  not null default 0,
  by_transport       jsonb   not null default '{}',
  by_class           jsonb   not null default '{}',
  top_deferrals      jsonb   not null default '[]',
  top_bounces        jsonb   not null default '[]',
  stale              boolean not null default true,
  updated_at         timestamptz not null default now()
);
