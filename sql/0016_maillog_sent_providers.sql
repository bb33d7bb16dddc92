-- Successes per day and receiving provider, for the deliverability report's delivery rate per
-- provider (`audience report`, issue #19): no earlier table keeps them. Outside the firm's own
-- domains; the day is in the firm's time zone. The provider is the relay host's by the MX suffix
-- table (google, microsoft365, outlook_consumer, yahoo, apple, ...); when the relay is no known
-- provider's, `yahoo` if the recipient's domain is on the Yahoo-family list (AT&T's domains have
-- MX hosts of their own), else `other`. Per provider rather than per domain: a carrier's domain
-- gets one or two messages a day, and a row per sent line is what 0008 removed.
--
-- Added up by the bounce scrub batch by batch, in the transaction that advances the checkpoint
-- covering them (like maillog_sent_counts), so a re-run or a crash never counts twice. Days
-- scrubbed before this migration have no rows here: the report says so rather than guessing.
create table maillog_sent_providers (
  day      date   not null,
  provider text   not null,
  sent     bigint not null check (sent >= 0),
  primary key (day, provider)
);
