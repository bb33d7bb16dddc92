/**
 * Pushes the date's reserved ledger rows to Listmonk, one list per segment, and records each
 * address's outcome as Listmonk confirms it. Reserved rows of any run are pushed: a crashed run's
 * reservations already count against the cap, so finishing them is the only way to keep it exact.
 * Listmonk calls are idempotent (409 → look up → add to list), so an address confirmed by Listmonk
 * just before a crash is found on the list again, never duplicated.
 *
 * Before the first subscriber request the rows are marked as sent by this run (attempt_run_id);
 * when the push fails, the rows whose request provably never left (the push stopped before their
 * turn, or Listmonk refused the credentials or permission) are unmarked, and on a configuration
 * or credentials failure the unsent rows are released (release.ts). On any other failure they
 * stay reserved for the re-run.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { isAudienceError } from '../errors.ts';
import { ListmonkApiError, type ListmonkClient, type OptOutSighting, type PushOutcome, type SubscriberInput } from '../listmonk/index.ts';
import { recordOptOuts } from '../optouts/record.ts';
import { recordOutcomes, reservedRows, saveList, type Outcome, type PushRow } from './ledger.ts';
import { listName } from './names.ts';
import { provablyNotOnList, releasesReservations, releaseUnsent } from './release.ts';

export interface PushInput {
  date: string;
  runId: number;
  listPrefix: string;
  batchSize: number;
  /** When Listmonk's refusals are seen (the opt-outs they become). */
  now: Date;
  /** Reserved rows not to push (excluded when judged again, possibly sent already: rejudge.ts); they stay reserved. */
  withhold?: ReadonlySet<number>;
}

export interface PushReport {
  lists: Record<string, { id: number; name: string }>;
  pushed: number;
  failed: number;
}

export function subscriberOf(row: PushRow, runId: number): SubscriberInput {
  return {
    email: row.address,
    name: row.legal_name ?? row.dba_name ?? '',
    attribs: {
      dot_number: row.dot_number,
      legal_name: row.legal_name,
      dba_name: row.dba_name,
      state: row.state,
      power_units: row.power_units,
      mcs150_date: row.mcs150_date,
      add_date: row.add_date,
      segment: row.segment,
      segment_note: row.note,
      run_id: runId,
    },
  };
}

const ON_LIST = new Set(['created', 'added', 'already_member']);

function toOutcome(id: number, o: PushOutcome): Outcome {
  const ok = ON_LIST.has(o.status);
  return { id, status: ok ? 'pushed' : 'failed', outcome: o.status, error: ok ? null : (o.message ?? `Listmonk reports the subscriber ${o.status}`), subscriberId: o.subscriberId };
}

/** Listmonk's refusals that are the recipient's choice: opt-outs, never pushed again. */
const OPTED_OUT = new Set(['blocklisted', 'unsubscribed']);

/**
 * Buffers outcomes and writes them in batches, one statement per batch, one batch at a time, so
 * the push never waits on the database and the database never sees a write per address. A
 * blocklisted or unsubscribed answer is recorded as an opt-out in the same batch.
 */
class OutcomeWriter {
  private buf: { row: Outcome; push: PushOutcome }[] = [];
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  constructor(
    private readonly db: Kysely<Database>,
    private readonly p: PushInput,
    private readonly list: { id: number; name: string },
  ) {}
  add(row: Outcome, push: PushOutcome): void {
    this.buf.push({ row, push });
    if (this.buf.length >= this.p.batchSize) this.kick();
  }
  private kick(): void {
    const batch = this.buf;
    this.buf = [];
    const optOuts: OptOutSighting[] = batch
      .filter((b) => OPTED_OUT.has(b.push.status) && b.push.subscriberId !== null)
      .map((b) => ({ email: b.push.email, subscriberId: b.push.subscriberId!, kind: b.push.status as 'blocklisted' | 'unsubscribed', listId: this.list.id, listName: this.list.name }));
    this.chain = this.chain
      .then(async () => {
        await recordOutcomes(this.db, this.p.runId, this.list.id, batch.map((b) => b.row), this.p.now);
        await recordOptOuts(this.db, optOuts, { source: 'push', runId: this.p.runId, now: this.p.now });
      })
      .catch((e) => {
        this.failure ??= e;
      });
  }
  async close(): Promise<void> {
    this.kick();
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }
}

export async function pushReserved(db: Kysely<Database>, lm: ListmonkClient, p: PushInput, onProgress?: (done: number, total: number) => void): Promise<PushReport> {
  // The server version (a round trip, needed before any other call) is detected while the ledger
  // is read: neither waits for the other. pushRows awaits it, inside the failure handling.
  const version = lm.version();
  version.catch(() => {});
  const rows = (await reservedRows(db, p.date)).filter((r) => !p.withhold?.has(r.id!));
  // Which rows might Listmonk have: settled ones got an outcome; a failed one may have been
  // accepted unless its error proves otherwise; the rest were never sent.
  const settled = new Set<number>();
  const mayHave = new Set<number>();
  try {
    await version;
    return await pushRows(db, lm, p, rows, settled, mayHave, onProgress);
  } catch (e) {
    const notes: string[] = [];
    let released = 0;
    let left = 0;
    try {
      const notSent = rows.filter((r) => !settled.has(r.id!) && !mayHave.has(r.id!)).map((r) => r.id!);
      await unmarkUnsent(db, notSent, p.runId);
      if (releasesReservations(e)) released = await releaseUnsent(db, rows.map((r) => r.id!), 'config_error', failureEvidence(e, p.runId), { runId: p.runId, now: p.now });
      left = await stillReserved(db, rows.map((r) => r.id!));
    } catch (bookkeeping) {
      // The rows then stay reserved, counted: the safe side. The push's own error is the one to
      // report.
      notes.push(`The ledger could not be updated after the failure (${(bookkeeping as Error).message}): ${p.date}'s reservations stay counted; re-run \`audience build --date ${p.date}\`.`);
    }
    if (isAudienceError(e)) {
      // Appended in place: the error's class carries the exit code (a credentials error is 2).
      if (released)
        notes.push(
          `${released} reservation(s) for ${p.date} released: Listmonk never had them, so they count toward neither the cap nor the cooldown; fix the error above, then \`audience build --date ${p.date}\` selects again.`,
        );
      if (left)
        notes.push(
          `${left} address(es) stay reserved for ${p.date} (they count against its cap and as contacts${released ? ': Listmonk may have accepted them' : ''}); re-run \`audience build --date ${p.date}\` to finish the push.`,
        );
      if (notes.length) e.message = `${e.message}\n${notes.join('\n')}`;
    }
    throw e;
  }
}

async function pushRows(
  db: Kysely<Database>,
  lm: ListmonkClient,
  p: PushInput,
  rows: PushRow[],
  settled: Set<number>,
  mayHave: Set<number>,
  onProgress?: (done: number, total: number) => void,
): Promise<PushReport> {
  const bySegment = new Map<string, PushRow[]>();
  for (const r of rows) (bySegment.get(r.segment) ?? bySegment.set(r.segment, []).get(r.segment)!).push(r);

  const report: PushReport = { lists: {}, pushed: 0, failed: 0 };
  // Every segment's list first, at once (each is a few sequential round trips of its own).
  const segments = [...bySegment.keys()];
  const lists = await Promise.all(
    segments.map(async (segment) => {
      const list = await lm.ensureList(listName(p.listPrefix, segment, p.date), {
        tags: [p.listPrefix, segment, p.date].filter(Boolean),
        description: `audience build: segment ${segment} for ${p.date}`,
      });
      await saveList(db, p.date, segment, list.id, list.name);
      return list;
    }),
  );
  segments.forEach((segment, k) => (report.lists[segment] = { id: lists[k]!.id, name: lists[k]!.name }));
  // Recorded before any subscriber request, after the lists: a row marked sent always has a list
  // to read back once its date has passed. Only rows still reserved are sent: one settled or
  // released since the ledger was read is not ours to push.
  const sending = await markSent(db, rows.map((r) => r.id!), p.runId);
  for (const [segment, segRows] of bySegment) bySegment.set(segment, segRows.filter((r) => sending.has(r.id!)));

  // Then every segment's addresses at once: the client's concurrency bound is shared, so the
  // slots freed by the last addresses of one segment go to the next instead of idling while a
  // segment drains. Each segment has its own list, hence its own outcome writer.
  let done = 0;
  const results = await Promise.allSettled(
    segments.map(async (segment, k) => {
      const listId = lists[k]!.id;
      const segRows = bySegment.get(segment)!;
      const idByEmail = new Map(segRows.map((r) => [r.address, r.id!]));
      const writer = new OutcomeWriter(db, p, { id: listId, name: lists[k]!.name });
      try {
        await lm.pushSubscribers(
          listId,
          segRows.map((r) => subscriberOf(r, p.runId)),
          {
            // One call per address: each outcome is exact and lands in the ledger as it happens,
            // which is what makes a crash mid-push resumable without guessing.
            strategy: 'api',
            onOutcome: (o) => {
              const id = idByEmail.get(o.email);
              if (id === undefined) return;
              settled.add(id);
              const out = toOutcome(id, o);
              if (out.status === 'pushed') report.pushed++;
              else report.failed++;
              writer.add(out, o);
              onProgress?.(++done, sending.size);
            },
            onFailure: (email, e) => {
              const id = idByEmail.get(email);
              if (id !== undefined && !provablyNotOnList(e)) mayHave.add(id);
            },
          },
        );
      } catch (e) {
        // What Listmonk confirmed before the failure is still recorded.
        await writer.close().catch(() => {});
        throw e;
      }
      await writer.close();
    }),
  );
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return report;
}

/**
 * Marks rows as sent by this run, before their requests leave (an earlier run's mark stays: it may
 * have sent them), and returns the ids still reserved.
 */
async function markSent(db: Kysely<Database>, ids: readonly number[], runId: number): Promise<Set<number>> {
  if (!ids.length) return new Set();
  const r = await sql<{ id: number }>`update push_ledger set attempt_run_id = coalesce(attempt_run_id, ${runId}::bigint)
    where id = any(${[...ids]}::bigint[]) and status = 'reserved' returning id`.execute(db);
  return new Set(r.rows.map((x) => x.id));
}

async function stillReserved(db: Kysely<Database>, ids: readonly number[]): Promise<number> {
  if (!ids.length) return 0;
  const r = await sql<{ n: number }>`select count(*)::int as n from push_ledger where id = any(${[...ids]}::bigint[]) and status = 'reserved'`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/** Clears this run's mark from rows whose request never left (or was refused outright). */
async function unmarkUnsent(db: Kysely<Database>, ids: readonly number[], runId: number): Promise<void> {
  if (!ids.length) return;
  await sql`update push_ledger set attempt_run_id = null
    where id = any(${[...ids]}::bigint[]) and status = 'reserved' and attempt_run_id = ${runId}::bigint`.execute(db);
}

function failureEvidence(e: unknown, runId: number): Record<string, unknown> {
  const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
  return {
    run: runId,
    error: e instanceof Error ? e.name : typeof e,
    ...(e instanceof ListmonkApiError ? { status: e.status, request: `${e.method} ${e.path}` } : {}),
    message,
  };
}
