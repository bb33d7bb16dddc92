-- The build's ranking key (src/build/rank-key.ts): within a provider tier, addresses are taken in
-- the order of a 60-bit hash of the address (the first 15 hex digits of its md5), rotated by the
-- send date's own hash. The order is stable for a date (a re-run picks the same people) and starts
-- elsewhere on every date. Indexing the address hash lets the build walk addresses in that order
-- from the date's starting point and stop after the few thousand it needs, instead of hashing and
-- sorting the whole audience of the segments (a million rows at census scale) under the cap lock.
-- The expression must stay identical to RANK_HASH in src/build/rank-key.ts for the index to serve.
create index emails_rank_hash_idx on emails ((('x' || left(md5(address), 15))::bit(60)::bigint));
