/**
 * The ranking key of an address on a send date: within a provider tier, addresses are taken in the
 * order of a 60-bit hash of the address rotated by the date's own hash, i.e. from the date's
 * starting point around the circle of address hashes. Stable for a date (a re-run picks the same
 * people), a different starting point every date, and — unlike hashing address and date together —
 * served by an index on the address hash alone (sql/0007_build_rank_hash.sql), so the build can
 * read addresses in key order and stop after the few thousand it needs.
 */
import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';

/** 2^60: the size of the hash circle. */
export const RANK_SPACE = 1n << 60n;

/**
 * The address hash as SQL over `emails e`. Raw text on purpose: it must match the expression of
 * emails_rank_hash_idx exactly (a bound parameter in place of `15` would not match the index).
 */
export const RANK_HASH: RawBuilder<number> = sql<number>`(('x' || left(md5(e.address), 15))::bit(60)::bigint)`;

/** The same hash in TypeScript (first 15 hex digits of md5), as a decimal string for a bigint parameter. */
export function rankHash(text: string): bigint {
  return BigInt('0x' + createHash('md5').update(text).digest('hex').slice(0, 15));
}

/** The date's starting point on the circle. */
export function rankStart(date: string): string {
  return rankHash(date).toString();
}

/** SQL: the key of hash `h` on the date whose starting point is `start`, (h − start) mod 2^60. */
export function rankKey(h: RawBuilder<unknown>, start: string): RawBuilder<string> {
  return sql<string>`(case when ${h} >= ${start}::bigint then ${h} - ${start}::bigint else ${h} - ${start}::bigint + ${RANK_SPACE.toString()}::bigint end)`;
}
