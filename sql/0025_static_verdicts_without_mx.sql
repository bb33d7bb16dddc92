-- The kept static verdicts (0024) no longer hold the MX rules' verdicts (mx_dead, yahoo_family by
-- MX): the nightly check-mx writes mx_domains every night, and with it among the kept set's
-- inputs the first plan or build of every day rebuilt the whole set (13.6 s at census scale) for
-- a few hundred changed domains. Those two rules are judged at run time instead, once per
-- distinct domain (static_domains), so a write to mx_domains no longer counts as a change of the
-- kept set's inputs.
drop trigger static_input_change on mx_domains;

-- What those run-time rules read: the few dead domains and the few hosted at Yahoo, by index,
-- instead of a scan of every verdict at each plan and build.
create index mx_domains_dead_idx on mx_domains (domain) where verdict in ('dead', 'unresolvable');
