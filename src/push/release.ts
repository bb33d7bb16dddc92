/**
 * Reservations that stop counting. A reserved ledger row counts against its date's cap and, for
 * every date within the cooldown, as a contact: that is what lets a crash mid-push be finished by
 * a re-run without exceeding the cap or mailing anyone twice. But a row Listmonk never had is no
 * contact, and left reserved it keeps its person out of every build for a month. A row is
 * released (status `released`, sql/0012, one push_releases row of evidence) only when it is
 * proven that Listmonk never had it:
 *
 * - `config_error`: the push failed on a configuration or credentials error (Listmonk refused the
 *   credentials or a permission, or a setting is wrong), which no re-run fixes by itself, and this
 *   address's request never left or was refused by that error, and no earlier run had sent it.
 * - `never_sent`: its send date has passed (the injected clock, in the firm's zone) and no run
 *   ever sent it: nobody is left to finish it, and it was not mailed.
 * - `absent_from_list`: its send date has passed, a run may have sent it (a 5xx, a timeout, a
 *   crash after the request left), and the date's list read back from Listmonk does not hold it.
 *   One that the list does hold was accepted: it is recorded as pushed instead.
 *
 * A transient failure releases nothing while its date is ahead: Listmonk may have accepted the
 * request whose answer was lost, so the row stays reserved, counted, and a re-run for the date
 * completes exactly the reserved set (409 → already on the list, never twice).
 *
 * Releases happen outside the reservation lock: they only ever take rows out of what counts, so
 * a decision made meanwhile is at worst cautious. A push sends only the rows still reserved when
 * it marks them (push.ts), and builds run one at a time (the build stage's lock), so a row is
 * never released while a push of its date is under way.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { isAudienceError } from '../errors.ts';
import { canonicalEmail, ListmonkAuthError, ListmonkPermissionError, type ListmonkClient } from '../listmonk/index.ts';
import { recordOutcomes, type Outcome } from './ledger.ts';
import type { ReleaseReason } from './tables.ts';

/**
 * Whether a push that failed with `e` releases the reservations it never sent: a configuration or
 * credentials error (ListmonkAuthError and ConfigError are phase `config`) or a missing Listmonk
 * permission. A re-run fails the same way until a person changes something, and by then the
 * selection may differ, so holding the rows only keeps people out of other dates.
 */
export function releasesReservations(e: unknown): boolean {
  return e instanceof ListmonkPermissionError || (isAudienceError(e) && e.phase === 'config');
}

/**
 * Whether an address whose own request failed with `e` provably never reached its list: Listmonk
 * refused the credentials or the permission before acting (401/403), or dropped the list from the
 * subscription (a permission error too). Anything else (5xx, a timeout, a lost answer) may have
 * been accepted.
 */
export function provablyNotOnList(e: unknown): boolean {
  return e instanceof ListmonkAuthError || e instanceof ListmonkPermissionError;
}

export interface ReleaseContext {
  runId: number;
  now: Date;
}

/**
 * Releases the given reserved rows that no run ever sent (attempt_run_id null), each with its
 * evidence, in one statement; returns how many were released. Rows already pushed, refused,
 * released, or sent by some run are left as they are.
 */
export async function releaseUnsent(db: Kysely<Database>, ids: readonly number[], reason: ReleaseReason, evidence: Record<string, unknown>, at: ReleaseContext): Promise<number> {
  if (!ids.length) return 0;
  const r = await sql`
    with released as (
      update push_ledger l set status = 'released'
      where l.id = any(${[...ids]}::bigint[]) and l.status = 'reserved' and l.attempt_run_id is null
      returning l.id, l.send_date, l.segment, l.address, l.run_id)
    insert into push_releases (ledger_id, send_date, segment, address, reason, evidence, reserved_run_id, run_id, released_at)
    select id, send_date, segment, address, ${reason}, ${JSON.stringify(evidence)}::jsonb, run_id, ${at.runId}::bigint, ${at.now}::timestamptz
    from released`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export interface PastReservations {
  /** Released: never sent, or absent from the date's list when read back. */
  released: number;
  /** Found on the date's list when read back: recorded as pushed (or refused, when blocklisted). */
  confirmed: number;
  /** Could not be checked (no Listmonk, the list is gone, a read failed): still counted. */
  kept: number;
}

/** The summary line of settled past reservations, when there were any. */
export function pastReservationsLine(past: PastReservations): string | null {
  if (!past.released && !past.confirmed && !past.kept) return null;
  return `  reservations of past dates: ${past.released} released (never reached Listmonk), ${past.confirmed} confirmed on their lists, ${past.kept} still counted (not checked)`;
}

interface SentRow {
  id: number;
  address: string;
  send_date: string;
  segment: string;
  list_id: number | null;
  list_name: string | null;
}

/**
 * Settles the reservations of send dates before `today`: the unsent ones are released at once; the
 * ones some run sent are checked against the date's list in Listmonk when `reader` is given.
 * Returns the counts and a warning for what could not be settled.
 */
export async function settlePastReservations(
  db: Kysely<Database>,
  reader: ListmonkClient | null,
  p: ReleaseContext & { today: string },
): Promise<{ report: PastReservations; warnings: string[] }> {
  const report: PastReservations = { released: 0, confirmed: 0, kept: 0 };
  const warnings: string[] = [];
  const unsent = await sql`
    with released as (
      update push_ledger l set status = 'released'
      where l.status = 'reserved' and l.send_date < ${p.today}::date and l.attempt_run_id is null
      returning l.id, l.send_date, l.segment, l.address, l.run_id)
    insert into push_releases (ledger_id, send_date, segment, address, reason, evidence, reserved_run_id, run_id, released_at)
    select id, send_date, segment, address, 'never_sent',
           jsonb_build_object('sendDate', send_date, 'today', ${p.today}::date, 'detail', 'the send date passed and no run sent the address to Listmonk'),
           run_id, ${p.runId}::bigint, ${p.now}::timestamptz
    from released`.execute(db);
  report.released += Number(unsent.numAffectedRows ?? 0);

  const sent = (
    await sql<SentRow>`
      select l.id, l.address, l.send_date, l.segment, b.list_id, b.list_name
      from push_ledger l left join build_lists b on b.send_date = l.send_date and b.segment = l.segment
      where l.status = 'reserved' and l.send_date < ${p.today}::date
      order by l.send_date, l.segment, l.id`.execute(db)
  ).rows;
  if (!sent.length) return { report, warnings };
  const keep = (rows: SentRow[], why: string) => {
    report.kept += rows.length;
    const dates = [...new Set(rows.map((r) => r.send_date))].join(', ');
    warnings.push(`${rows.length} reservation(s) for ${dates} may have reached Listmonk and ${why}; they count as mailed (cap and cooldown) until then.`);
  };
  if (!reader) {
    keep(sent, 'Listmonk is not configured to check them: configure LISTMONK_URL, LISTMONK_API_USER and LISTMONK_API_TOKEN and run a build');
    return { report, warnings };
  }

  const byList = new Map<number, SentRow[]>();
  const listless = sent.filter((r) => r.list_id === null);
  // A run marks rows as sent only once the date's list is recorded, so a row without one is a
  // broken record; nothing tells whether it was mailed.
  if (listless.length) keep(listless, 'their date has no recorded list to read back');
  for (const r of sent) if (r.list_id !== null) (byList.get(r.list_id) ?? byList.set(r.list_id, []).get(r.list_id)!).push(r);
  if (!byList.size) return { report, warnings };

  let existing: Set<number>;
  try {
    existing = new Set((await reader.getAllLists()).map((l) => l.id));
  } catch (e) {
    if (e instanceof ListmonkAuthError) throw e;
    keep([...byList.values()].flat(), `Listmonk could not be read (${(e as Error).message.split('\n')[0]}); the next build checks again`);
    return { report, warnings };
  }
  for (const [listId, rows] of byList) {
    // Absent from a list that was deleted proves nothing: its campaign may have run before.
    if (!existing.has(listId)) {
      keep(rows, `their list #${listId} no longer exists in Listmonk, so whether they were mailed cannot be read`);
      continue;
    }
    let members;
    try {
      members = await reader.getListMembers(listId);
    } catch (e) {
      if (e instanceof ListmonkAuthError) throw e;
      keep(rows, `list #${listId} could not be read (${(e as Error).message.split('\n')[0]}); the next build checks again`);
      continue;
    }
    const onList = new Map(members.map((m) => [canonicalEmail(m.email), m]));
    const confirmed: Outcome[] = [];
    const absent: number[] = [];
    for (const r of rows) {
      const m = onList.get(canonicalEmail(r.address));
      if (!m) absent.push(r.id);
      else if (m.status === 'blocklisted')
        confirmed.push({ id: r.id, status: 'failed', outcome: 'blocklisted', error: 'blocklisted in Listmonk (found when its list was read back)', subscriberId: m.id });
      else confirmed.push({ id: r.id, status: 'pushed', outcome: 'read_back', error: null, subscriberId: m.id });
    }
    await recordOutcomes(db, p.runId, listId, confirmed, p.now);
    report.confirmed += confirmed.length;
    report.released += await releaseSent(db, absent, { listId, listName: rows[0]!.list_name, membersRead: members.length, readAt: p.now.toISOString() }, p);
  }
  return { report, warnings };
}

/** Releases reserved rows that a run may have sent, on the evidence of the list read back. */
async function releaseSent(db: Kysely<Database>, ids: readonly number[], evidence: Record<string, unknown>, at: ReleaseContext): Promise<number> {
  if (!ids.length) return 0;
  const r = await sql`
    with released as (
      update push_ledger l set status = 'released'
      where l.id = any(${[...ids]}::bigint[]) and l.status = 'reserved'
      returning l.id, l.send_date, l.segment, l.address, l.run_id, l.attempt_run_id)
    insert into push_releases (ledger_id, send_date, segment, address, reason, evidence, reserved_run_id, run_id, released_at)
    select id, send_date, segment, address, 'absent_from_list',
           ${JSON.stringify(evidence)}::jsonb || jsonb_build_object('sentByRun', attempt_run_id),
           run_id, ${at.runId}::bigint, ${at.now}::timestamptz
    from released`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
