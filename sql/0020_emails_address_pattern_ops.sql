-- The unique key of emails.address compared byte by byte (text_pattern_ops) instead of under the
-- database collation. Why: a first census load builds this index over 1.5-3M addresses, and under
-- a collation other than C (C.UTF-8 and en_US.UTF-8 alike) every comparison of that sort is a
-- strcoll() call without abbreviated keys: about half of the whole emails index build. Nothing
-- needs the key's order: every query on it is an equality (`address = x`, `= any(...)`, the joins
-- of write-batch and judge, ON CONFLICT (address), which infers a unique index as it did the
-- constraint), and text_pattern_ops serves `=` (checked with EXPLAIN: index scans, arbiter index).
-- ORDER BY address still sorts under the column's collation, as before. Equality is the same
-- under both (the collation is deterministic), so the same addresses stay unique.
alter table emails drop constraint emails_address_key;
create unique index emails_address_key on emails (address text_pattern_ops);
