-- The digest of the census line each carrier's row was typed from, in what its typing depended on
-- (src/census/row-hash.ts: the scanner's and typer's version, the format, encoding and header, the
-- typing settings). A monthly refresh compares it with the digest of each line of the new file and
-- leaves an equal line out without typing it, the ~95% of a month's lines that did not change
-- (issue #15). Written with row_hash, cleared with it; null when unknown (rows loaded before this
-- column), which only means the line is typed and compared by row_hash as before. Nullable without
-- a default: adding it rewrites nothing.
alter table carriers add column line_hash bigint;
