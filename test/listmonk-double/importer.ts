/**
 * The importer of the double: one import per process;
 * none → importing → finished | failed; a DELETE while importing → stopping → finished; a DELETE
 * otherwise resets to none. Rows are committed in batches of 10,000 (`imported` moves in those
 * steps); a database error on a row rolls back its batch and fails the import. Blocklisted
 * subscribers stay blocklisted, with the new subscriptions unsubscribed.
 */
import { parse } from 'csv-parse/sync';
import type { Model, SubscriptionStatus } from './model.ts';

export type ImportState = 'none' | 'importing' | 'stopping' | 'finished' | 'failed';

export interface ImportSession {
  mode: 'subscribe' | 'blocklist';
  delim: string;
  lists: number[];
  subStatus: SubscriptionStatus;
  overwriteUserinfo: boolean;
  overwriteSubStatus: boolean;
  filename: string;
  csv: string;
}

export const COMMIT_BATCH = 10_000;

export class Importer {
  status: { name: string; total: number; imported: number; status: ImportState } = { name: '', total: 0, imported: 0, status: 'none' };
  logs: string[] = [];
  /** Test hooks: pause between batches (observe `importing`), hold until released, fail a row. */
  batchDelayMs = 5;
  held = false;
  failAtRow: number | null = null;
  private stopRequested = false;
  private release: (() => void) | null = null;

  constructor(
    private readonly model: Model,
    private readonly validEmail: (e: string) => string,
  ) {}

  get busy(): boolean {
    return this.status.status === 'importing' || this.status.status === 'stopping';
  }

  start(s: ImportSession): void {
    this.status = { name: s.filename, total: 0, imported: 0, status: 'importing' };
    this.logs = [`processing '${s.filename}'`];
    this.stopRequested = false;
    void this.run(s);
  }

  /** DELETE /api/import/subscribers. */
  stop(): void {
    if (this.status.status !== 'importing') {
      this.status = { name: '', total: 0, imported: 0, status: 'none' };
      this.logs = [];
      return;
    }
    this.stopRequested = true;
    this.status.status = 'stopping';
  }

  releaseHold(): void {
    this.held = false;
    this.release?.();
  }

  /** A process restart loses the importer's state (it lives in memory). */
  reset(): void {
    this.status = { name: '', total: 0, imported: 0, status: 'none' };
    this.logs = [];
    this.stopRequested = true;
    this.releaseHold();
  }

  private async run(s: ImportSession): Promise<void> {
    const name = s.filename;
    let records: string[][];
    try {
      records = parse(s.csv, { delimiter: s.delim, relax_column_count: true, skip_empty_lines: false, bom: true }) as string[][];
    } catch (e) {
      return this.finish(name, 'failed', `error reading CSV: ${(e as Error).message}`);
    }
    const header = (records.shift() ?? []).map((h) => h.replace(/[^\x20-\x7e]/g, '').trim().toLowerCase());
    this.status.total = records.length;
    const col = (n: string) => header.indexOf(n);
    if (col('email') < 0) return this.finish(name, 'failed', "'email' column not found");

    for (let from = 0; from < records.length; from += COMMIT_BATCH) {
      await this.pause();
      if (this.stopRequested) {
        if (this.status.name === name) this.finish(name, 'finished', 'stop request received');
        return;
      }
      const batch = records.slice(from, from + COMMIT_BATCH);
      const undo = this.snapshot();
      for (let i = 0; i < batch.length; i++) {
        const row = batch[i]!;
        const line = from + i + 2;
        if (this.failAtRow === from + i + 1) {
          this.restore(undo); // the uncommitted batch rolls back
          return this.finish(name, 'failed', `error importing line ${line}: pq: simulated database error`);
        }
        if (row.length < header.length) {
          this.logs.push(`skipping line ${line}: row has fewer columns than the header`);
          continue;
        }
        let email: string;
        try {
          email = this.validEmail(row[col('email')] ?? '');
        } catch (e) {
          this.logs.push(`skipping line ${line}: ${(e as Error).message}`);
          continue;
        }
        let attribs: Record<string, unknown> = {};
        const rawAttr = col('attributes') >= 0 ? (row[col('attributes')] ?? '') : '';
        if (rawAttr.trim()) {
          try {
            attribs = JSON.parse(rawAttr) as Record<string, unknown>;
          } catch {
            this.logs.push(`line ${line}: invalid JSON attributes; imported without them`);
          }
        }
        const nm = col('name') >= 0 ? (row[col('name')] ?? '').trim() : '';
        this.upsert(s, email, nm || email.slice(0, email.indexOf('@')), attribs);
      }
      this.status.imported += batch.length;
      if (this.batchDelayMs > 0) await new Promise((r) => setTimeout(r, this.batchDelayMs));
    }
    this.finish(name, 'finished', `imported ${this.status.imported} records`);
  }

  private upsert(s: ImportSession, email: string, name: string, attribs: Record<string, unknown>): void {
    let sub = this.model.findByEmail(email);
    if (s.mode === 'blocklist') {
      sub ??= this.model.addSubscriber({ email, name, attribs });
      this.model.blocklist(sub.id);
      return;
    }
    if (!sub) sub = this.model.addSubscriber({ email, name, attribs, status: 'enabled' });
    else if (s.overwriteUserinfo) Object.assign(sub, { name, attribs });
    for (const listId of s.lists) {
      const status: SubscriptionStatus = sub.status === 'blocklisted' ? 'unsubscribed' : s.subStatus;
      const existing = this.model.subscriptions.get(sub.id)?.get(listId);
      this.model.subscribe(sub.id, listId, existing && !s.overwriteSubStatus ? undefined : status, status);
    }
  }

  private async pause(): Promise<void> {
    if (!this.held) return;
    await new Promise<void>((r) => (this.release = r));
    this.release = null;
  }

  private finish(name: string, st: 'finished' | 'failed', log: string): void {
    if (this.status.name !== name) return; // reset meanwhile
    this.status.status = st;
    this.logs.push(log);
  }

  private snapshot() {
    return {
      subscribers: new Map([...this.model.subscribers].map(([k, v]) => [k, { ...v }])),
      subscriptions: new Map([...this.model.subscriptions].map(([k, v]) => [k, new Map(v)])),
    };
  }

  private restore(s: ReturnType<Importer['snapshot']>): void {
    this.model.subscribers = s.subscribers;
    this.model.subscriptions = s.subscriptions;
    this.model.reindex();
  }
}
