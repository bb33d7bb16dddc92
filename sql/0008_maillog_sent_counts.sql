-- Sent mail counted at the grain its readers use, instead of one row per day, domain, transport and
-- stream (maillog_sent_daily): on a bulk night that grain is about one row per sent line (a
-- carrier's domain gets one or two messages a day), which made the sent counts the scrub's biggest
-- database cost. Its readers need only:
--   * daily health: sent per day (own mail apart) and per day and transport -> maillog_sent_counts;
--   * the domain-failure policy: whether a domain had a success since a moment -> the last success
--     per domain, maillog_sent_domains (mail to the firm's own domains is never judged, so not kept).
-- Counts add up and commit with the checkpoint that covers them; last_ts is a maximum, so writing it
-- twice changes nothing.
create table maillog_sent_counts (
  day        date    not null,
  transport  text    not null,
  stream     text    not null default '',
  own_domain boolean not null,
  sent       bigint  not null,
  primary key (day, transport, stream, own_domain)
);

create table maillog_sent_domains (
  domain  text        primary key,
  last_ts timestamptz not null
);

insert into maillog_sent_counts (day, transport, stream, own_domain, sent)
select day, transport, stream, own_domain, sum(sent) from maillog_sent_daily group by day, transport, stream, own_domain;
insert into maillog_sent_domains (domain, last_ts)
select domain, max(last_ts) from maillog_sent_daily where not own_domain group by domain;
drop table maillog_sent_daily;

-- Indexes every stored event paid for and no query reads: the policies scan the events whole
-- (suppressions group by recipient and domain), and nothing looks events up by recipient or by
-- domain. day (health of the stale days) and class+ts (the hold signals) stay.
drop index delivery_events_recipient_idx;
drop index delivery_events_domain_ts_idx;
