-- DKIM coverage per stream (issue #17). maillog.campaignClients maps the client IPs that inject
-- campaign mail (the Listmonk containers on the Docker bridge) to streams such as trucking and
-- healthcare; mail marked only by Listmonk's X-Listmonk-Campaign header is stream 'listmonk'.
-- Sent counts (maillog_sent_counts) and delivery_events already carry the stream; the campaign
-- messages and how many opendkim signed were kept per day only (maillog_daily_health), so one
-- stream whose signing broke hid behind a healthy one.
--
-- Added to by the bounce scrub as messages close, in the batch transaction that advances the
-- checkpoint (like maillog_daily_health's counters). Days scrubbed before this migration have no
-- rows here: the log lines are not kept, so their split cannot be recovered.
create table maillog_stream_daily (
  day               date   not null,
  stream            text   not null,
  campaign_messages bigint not null default 0,
  dkim_signed       bigint not null default 0,
  primary key (day, stream)
);
