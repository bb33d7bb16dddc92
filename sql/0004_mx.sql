-- MX liveness and mailbox provider per recipient domain, written by `audience check-mx` (src/mx/).
-- One row per domain: the latest verdict and when to look again. The build reads it through the
-- mx_dead, mx_unknown and yahoo_family (by MX) rules; holds and ordering read domain_providers.
create table mx_domains (
  -- Lower case, IDNA ASCII, no trailing dot (the form of emails.domain).
  domain          text primary key check (domain = lower(domain) and domain !~ '\.$' and domain <> ''),
  -- deliverable: MX (or implicit MX) reaching a public address. dead: NXDOMAIN, null MX, no MX and
  -- no address, every MX host missing or non-public. unknown: SERVFAIL/REFUSED/timeout/network,
  -- never dead. unresolvable: unknown on mx.unresolvableAfterDays distinct days with no answer in
  -- between (treated like dead by the build, and re-checked like dead).
  verdict         text not null check (verdict in ('deliverable', 'dead', 'unknown', 'unresolvable')),
  -- Why: mx, implicit_mx, ip_literal_mx | nxdomain, null_mx, no_mx_no_address, mx_hosts_missing,
  -- mx_hosts_bogon, implicit_mx_bogon | servfail, refused, timeout, network, bad_rcode.
  reason          text not null,
  -- From all lowest-preference MX hosts (src/mx/providers.ts): google, microsoft365,
  -- outlook_consumer, yahoo, apple, zoho, godaddy, proofpoint, mimecast, barracuda, other, mixed.
  -- Null when there is no MX host to judge. An unknown verdict keeps the last known hosts/provider.
  provider        text,
  -- Every MX host by preference then name, and the preferences alongside (implicit MX: the domain, 0).
  mx_hosts        text[]  not null default '{}',
  mx_preferences  integer[] not null default '{}' check (cardinality(mx_preferences) = cardinality(mx_hosts)),
  -- Addresses of the MX hosts that were resolved.
  addresses       text[]  not null default '{}',
  ttl_seconds     integer,
  -- When the DNS was observed (kept by --import), and when the verdict must be checked again.
  checked_at      timestamptz not null,
  expires_at      timestamptz not null,
  -- When a dead/unresolvable verdict was first observed (the `since` of mx_dead); null otherwise.
  dead_since      timestamptz,
  -- The DNS evidence of a dead or unknown verdict: rcode and server, or the timeout.
  last_error      text,
  -- The running streak of unknown verdicts: when it started, on how many distinct UTC days a
  -- check returned unknown, and the last such day. Reset by any answer.
  unknown_since   timestamptz,
  unknown_days    integer not null default 0,
  last_unknown_day date,
  source          text not null default 'dns' check (source in ('dns', 'import')),
  run_id          bigint,
  updated_at      timestamptz not null default now()
);
create index mx_domains_expires_idx on mx_domains (expires_at);
create index mx_domains_provider_idx on mx_domains (provider);

-- Who runs the mailboxes of the big consumer domains, known without DNS, so holds and ordering
-- work before any check-mx run. A curated fact about the mailbox provider: it wins over the
-- provider inferred from MX hosts.
create table mx_provider_fallback (
  domain   text primary key check (domain = lower(domain)),
  provider text not null
);
insert into mx_provider_fallback (domain, provider)
select d, 'google' from unnest(array['gmail.com', 'googlemail.com']) as d
union all
select d, 'outlook_consumer' from unnest(array[
  'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'windowslive.com', 'passport.com',
  'hotmail.co.uk', 'hotmail.ca', 'hotmail.fr', 'hotmail.de', 'hotmail.it', 'hotmail.es',
  'live.co.uk', 'live.ca', 'live.fr', 'live.de', 'live.it', 'live.com.au', 'live.com.mx',
  'outlook.fr', 'outlook.de', 'outlook.it', 'outlook.es', 'outlook.co.uk', 'outlook.com.au']) as d
union all
select d, 'yahoo' from unnest(array[
  'yahoo.com', 'ymail.com', 'rocketmail.com', 'myyahoo.com', 'yahoo.ca', 'yahoo.co.uk', 'yahoo.com.mx',
  'aol.com', 'aim.com', 'verizon.net']) as d
union all
select d, 'apple' from unnest(array['icloud.com', 'me.com', 'mac.com']) as d
union all
select d, 'zoho' from unnest(array['zoho.com', 'zohomail.com']) as d;

-- The provider of every domain we know: the curated fallback first, else the MX-derived provider.
create view domain_providers as
select coalesce(f.domain, m.domain) as domain, coalesce(f.provider, m.provider) as provider
from mx_provider_fallback f
full join (select domain, provider from mx_domains where provider is not null) m on m.domain = f.domain;

comment on table mx_domains is 'MX verdict and provider per recipient domain (audience check-mx). expires_at drives re-checks; the build treats an expired deliverable verdict as mx_unknown.';
comment on view domain_providers is 'domain -> mailbox provider: mx_provider_fallback (curated consumer domains) over mx_domains.provider.';
