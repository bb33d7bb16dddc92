/**
 * The first normalize's COPY begun while the census first load finishes, on PostgreSQL only.
 *
 * Why: after the byte pass the census load's transaction still rejects, checks and builds the
 * carriers' indexes (seconds of server work), and the normalize stage after it then COPies the
 * e-mail rows and builds their indexes and keys, one statement after the other on one connection:
 * the second core and the CLI waited. The e-mail tables hold no key to carriers, so their load
 * need not wait: once the e-mail thread is done, a transaction on a connection of its own empties
 * them, COPies the addresses and the links and builds their indexes and key, while the server
 * finishes carriers on the other connection. What names the normalize run (email_sources' run and
 * time, email_reasons' time, the ledger row) waits for that run: the normalize stage finishes this
 * transaction (first-normalize.ts, `complete`), so its rows and its ledger row commit together.
 *
 * Crash safety: this transaction commits only inside the normalize stage, which runs only once
 * the census load committed; a census load that fails gives it up (rolled back), and so does a
 * process that dies. So the e-mail tables are never filled without their carriers, and a crash
 * leaves either nothing or loaded carriers with empty e-mail tables, which the next normalize
 * fills by reading carriers back. Same rows as first-normalize.ts's one-connection path, which
 * PGlite (one session) keeps: the same steps in the same order (test/email-census-pass.db.test.ts).
 *
 * While it waits, the e-mail tables stay locked. A normalize stage that does not come (a job
 * stopped between its stages; another process's normalize holding the stage lock, itself waiting
 * on these tables) would hold them for good: unclaimed UNCLAIMED_MS after the census commit, the
 * transaction is given up, and a normalize that comes later loads the rows from the spool again.
 */
import { sql } from 'kysely';
import type { StageContext } from '../context.ts';
import type { Store } from '../db/store.ts';
import type { RunHandle } from '../runs.ts';
import { copyPreparedLinks, emailTablesEmpty, emptyForLoad, loadAddresses, loadStateRows, stepTimer, type EarlyLoad, type Finish, type FirstNormalizeResult } from './first-normalize.ts';
import type { FinishedPass } from './normalize-pass.ts';
import type { Spool } from './row-spool.ts';

/**
 * How long the loaded tables wait for the normalize stage after the census load committed. The
 * job's next stage claims them within milliseconds; a process that ends without it waits this
 * long for the connection to close.
 */
const UNCLAIMED_MS = 10_000;

interface Claim {
  ctx: StageContext;
  run: RunHandle;
  finish: Finish;
}

/** Thrown inside the transaction to roll it back when the load is given up. */
class GivenUp extends Error {}

type Outcome = { result: FirstNormalizeResult | null } | { error: unknown; inFirstPart: boolean };

export class EarlyEmailLoad implements EarlyLoad {
  private claimed!: (c: Claim | null) => void;
  private readonly claim = new Promise<Claim | null>((resolve) => (this.claimed = resolve));
  private readonly outcome: Promise<Outcome>;
  private decided = false;
  private timer: NodeJS.Timeout | null = null;

  private constructor(ctx: StageContext, finished: Promise<FinishedPass | null>, spool: Spool) {
    const store = ctx.store;
    let inFirstPart = true;
    this.outcome = store
      .transactionWithCopy(async (trx, copy) => {
        const pass = await finished;
        if (!pass) throw new GivenUp('the e-mail thread failed');
        const t0 = Date.now();
        await sql`set local synchronous_commit = off`.execute(trx);
        // It may wait, idle, for the census load to commit and the normalize run to come: a
        // server's idle_in_transaction_session_timeout must not end it then (UNCLAIMED_MS bounds the wait).
        await sql`set local idle_in_transaction_session_timeout = 0`.execute(trx);
        if (!(await emailTablesEmpty(trx))) return null;
        const tables = await emptyForLoad(trx);
        const step = stepTimer(ctx);
        const rows = await copyPreparedLinks(copy, pass, spool, step);
        await loadAddresses(trx, copy, store.kind, tables, rows, step);
        ctx.out.debug(`normalize: addresses and links loaded on a second connection in ${((Date.now() - t0) / 1000).toFixed(1)} s, waiting for the normalize run`);
        const claim = await this.claim;
        if (!claim) throw new GivenUp('given up');
        inFirstPart = false;
        claim.ctx.out.info('normalize: the e-mail tables are empty: the rows made while the census loaded, with COPY (addresses and links loaded meanwhile)');
        const result = await loadStateRows(claim.ctx, trx, copy, tables, rows, claim.run, stepTimer(claim.ctx));
        await claim.finish(trx, result);
        return result;
      })
      .then(
        (result): Outcome => ({ result }),
        (error: unknown): Outcome => ({ error, inFirstPart }),
      );
  }

  /**
   * Starts the load on its own connection (PostgreSQL only): it waits for `finished`, the e-mail
   * thread's rows in `spool`, then loads until the normalize run claims it.
   */
  static start(ctx: StageContext, finished: Promise<FinishedPass | null>, spool: Spool): EarlyEmailLoad {
    return new EarlyEmailLoad(ctx, finished, spool);
  }

  /** The census load committed: the normalize stage has UNCLAIMED_MS to claim the load. */
  awaitClaim(): void {
    if (this.decided || this.timer) return;
    this.timer = setTimeout(() => void this.giveUp(), UNCLAIMED_MS);
    this.timer.unref();
  }

  async complete(ctx: StageContext, run: RunHandle, finish: Finish): Promise<FirstNormalizeResult | null | undefined> {
    if (!this.decide({ ctx, run, finish })) {
      await this.outcome;
      return undefined;
    }
    const o = await this.outcome;
    if ('result' in o) return o.result;
    // Given up, or failed before the run claimed it: the normalize stage loads the rows itself,
    // and meets the same failure again if it was not the connection's.
    if (o.inFirstPart) {
      if (!(o.error instanceof GivenUp)) ctx.out.debug(`normalize: the load begun on a second connection failed (${(o.error as Error).message}); loading again`);
      return undefined;
    }
    throw o.error;
  }

  /** Rolls the load back (nothing is committed), and waits until its connection is free. */
  async giveUp(): Promise<void> {
    this.decide(null);
    await this.outcome;
  }

  /** The claim, once: the run's or null (given up). False when it was decided before. */
  private decide(c: Claim | null): boolean {
    if (this.timer) clearTimeout(this.timer);
    if (this.decided) return false;
    this.decided = true;
    this.claimed(c);
    return true;
  }
}

/** An early load makes sense only with a second connection. */
export const canLoadEarly = (store: Store): boolean => store.kind === 'pg';
