-- A digest of each carrier's loaded columns as the census ingest typed them (src/census/row-hash.ts):
-- the monthly refresh compares it with the digest of the file's row and stages only the carriers
-- whose row differs, instead of COPYing and comparing all two million (issue #15). Written by the
-- first load and the merge with the values it covers; null when unknown (rows loaded before this
-- column, a carrier a snapshot deactivated), and a null or different digest only means the row is
-- staged and compared column by column as before. Nullable without a default: adding it rewrites
-- nothing.
alter table carriers add column row_hash bigint;
