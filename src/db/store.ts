/**
 * The store: one handle on PostgreSQL for the whole program. With DATABASE_URL it is a real server
 * (kysely + pg, COPY through pg-copy-streams); without it, an embedded PostgreSQL (PGlite) in
 * AUDIENCE_DATA_DIR, so a new user needs no server. Everything above this module is the same SQL
 * on both; the differences (COPY transport, locks, type parsers) are closed here.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { from as copyFromStdin, to as copyToStdout } from 'pg-copy-streams';
import { ExternalServiceError } from '../errors.ts';
import { decodeCp1252 } from '../text/cp1252.ts';
import { COPY_BINARY_HEADER, COPY_BINARY_TRAILER } from './copy-binary.ts';
import type { Database } from './database.ts';

export type CopyEncoding = 'UTF8' | 'WIN1252';

export interface CopyTarget {
  /** Table to load (optionally schema-qualified, already safe to inline). */
  table: string;
  columns: readonly string[];
  /**
   * 'csv' (the default): CSV records, no header. 'binary': rows of COPY's binary format
   * (copy-binary.ts) without its header and trailer, which the store adds to each COPY it issues.
   */
  format?: 'csv' | 'binary';
  /** Encoding of CSV bytes. PostgreSQL decodes them; on PGlite we decode in Node. Binary text is UTF-8. */
  encoding: CopyEncoding;
  /**
   * COPY ... FREEZE: rows written frozen, so their first reader does not rewrite every page to set
   * hint bits. Only for a table created or truncated in the same transaction (transactionWithCopy).
   */
  freeze?: boolean;
}

export interface Store {
  readonly kind: 'pg' | 'pglite';
  readonly db: Kysely<Database>;
  /**
   * Bulk-loads CSV or binary rows (target.format) into `target`. Every chunk must hold whole
   * records: PGlite loads chunk groups as separate COPY statements. Returns the number of rows copied.
   */
  copy(target: CopyTarget, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number>;
  /**
   * The rows of `query` in COPY's binary format (header, rows, trailer), as they arrive. On
   * PostgreSQL it reads on a connection of its own, outside any transaction, so a transaction may
   * COPY into its tables meanwhile; on PGlite, on its one session (inside the open transaction).
   * `settings` (PostgreSQL only) are set on that connection for this query and reset after it,
   * e.g. `{ jit: 'off' }` for a scan of a whole table whose JIT compilation costs more than it saves.
   */
  copyTo(query: string, settings?: Record<string, string>): AsyncIterable<Uint8Array>;
  /**
   * Runs `fn` in one transaction with a `copy` (as Store.copy) that loads on the transaction's own
   * connection, so the rows it copies commit or roll back with everything else `fn` does.
   */
  transactionWithCopy<T>(fn: (trx: Transaction<Database>, copy: Store['copy']) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` while holding the session-level advisory lock `name` (one per stage or resource),
   * so two processes never run it at once. With `wait: false`, returns `{ acquired: false }` at once
   * when another session holds it.
   */
  withLock<T>(name: string, fn: () => Promise<T>, opts?: { wait?: boolean }): Promise<{ acquired: true; value: T } | { acquired: false }>;
  /**
   * Runs a multi-statement SQL script (a migration) on `executor`, inside its transaction when it is
   * one. pg sends it with the simple query protocol; PGlite runs it with exec() on its one session.
   */
  runScript(executor: Kysely<Database>, script: string): Promise<void>;
  /** PGlite only: a gzipped tarball of the data dir (tests start each file from a migrated copy). */
  dumpDataDir?(): Promise<Blob>;
  close(): Promise<void>;
}

// int8 (counts, ids) as numbers on both backends: ours stay far below 2^53. Dates stay 'YYYY-MM-DD'
// strings: a census date is a calendar day, and a JS Date would shift it by the local offset.
const INT8 = 20;
const DATE = 1082;
const NUMERIC = 1700;

export interface OpenStoreOptions {
  url?: string | undefined;
  dataDir: string;
  /** PGlite only: start from a dumped data dir (tests load a migrated template this way). */
  loadDataDir?: Blob;
  /** PGlite only: keep the database in memory (tests). */
  inMemory?: boolean;
  /**
   * PGlite only: a data dir that holds no database yet starts as a copy of the migrated template
   * made at install (db/pglite-template.ts), when one matches; false creates it empty (initdb), as
   * a test of an older database needs. Default true.
   */
  fromTemplate?: boolean;
  poolSize?: number;
  /**
   * PostgreSQL only: give up connecting, and any statement, after this long. `doctor` sets them so
   * a server that accepts connections but never answers cannot hold a check (or the exit) forever.
   */
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  return opts.url ? openPg(opts.url, opts.poolSize ?? 8, opts) : openPglite(opts);
}

async function openPg(url: string, poolSize: number, limits: Pick<OpenStoreOptions, 'connectTimeoutMs' | 'statementTimeoutMs'> = {}): Promise<Store> {
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') => {
      if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v);
      if (oid === DATE) return (v: string) => v;
      return pg.types.getTypeParser(oid, format);
    },
  } as pg.CustomTypesConfig;
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types,
    application_name: 'audience',
    ...(limits.connectTimeoutMs ? { connectionTimeoutMillis: limits.connectTimeoutMs } : {}),
    ...(limits.statementTimeoutMs ? { statement_timeout: limits.statementTimeoutMs, query_timeout: limits.statementTimeoutMs + 1000 } : {}),
  });
  // An idle client that errors (server restart) must not crash the process; the next query reports it.
  pool.on('error', () => {});
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new ExternalServiceError(
      'postgresql',
      `cannot connect to PostgreSQL at ${redactUrl(url)}: ${(e as Error).message}. Check that the server runs and DATABASE_URL is right, or unset DATABASE_URL to use the embedded database.`,
      { cause: e, retryable: true },
    );
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });

  return {
    kind: 'pg',
    db,
    async copy(target, chunks) {
      const client = await pool.connect();
      try {
        return await copyOnClient(client, target, chunks);
      } finally {
        client.release();
      }
    },
    async *copyTo(query, settings) {
      const client = await pool.connect();
      let done = false;
      const names = Object.keys(settings ?? {});
      try {
        for (const name of names) await client.query('select set_config($1, $2, false)', [name, settings![name]]);
        // The reader is the slower side (it does something with each row): a deep buffer would only hold memory.
        const stream = client.query(copyToStdout(`COPY (${query}) TO STDOUT WITH (FORMAT binary)`, { highWaterMark: 1 << 20 }));
        for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
        for (const name of names) await client.query(`reset ${name}`);
        done = true;
      } finally {
        // Left early (the consumer stopped or failed), the COPY may still be running: don't reuse the connection.
        client.release(done ? undefined : new Error('COPY TO not read to its end'));
      }
    },
    async transactionWithCopy(fn) {
      const client = await pool.connect();
      // A Kysely over this one client (its release is ours to do), so the transaction and the COPY share it.
      const single = new Kysely<Database>({
        dialect: new PostgresDialect({ pool: { connect: async () => ({ query: client.query.bind(client), release() {} }), end: async () => {} } as never }),
      });
      let broken: Error | undefined;
      try {
        return await single.transaction().execute((trx) => fn(trx, (target, chunks) => copyOnClient(client, target, chunks)));
      } catch (e) {
        // A COPY cut off mid-stream can leave the connection unusable: don't hand it back to the pool.
        broken = e as Error;
        throw e;
      } finally {
        await single.destroy();
        client.release(broken);
      }
    },
    async withLock(name, fn, opts) {
      const client = await pool.connect();
      try {
        if (opts?.wait === false) {
          const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtext($1)) as ok', [name]);
          if (!r.rows[0]?.ok) return { acquired: false };
        } else {
          await client.query('select pg_advisory_lock(hashtext($1))', [name]);
        }
        try {
          return { acquired: true, value: await fn() };
        } finally {
          await client.query('select pg_advisory_unlock(hashtext($1))', [name]).catch(() => {});
        }
      } finally {
        client.release();
      }
    },
    async runScript(executor, script) {
      await sql.raw(script).execute(executor);
    },
    async close() {
      await db.destroy();
    },
  };
}

async function openPglite(opts: OpenStoreOptions): Promise<Store> {
  const [{ PGlite, types }, { PGliteDialect }] = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')]);
  const parsers = { [types.INT8]: Number, [types.NUMERIC]: Number, [types.DATE]: (v: string) => v };
  let dataDir: string | undefined;
  let loadDataDir = opts.loadDataDir;
  if (!opts.inMemory) {
    dataDir = path.resolve(opts.dataDir);
    // A new database starts as a copy of the migrated template made at install, when one matches.
    if (!loadDataDir && opts.fromTemplate !== false) loadDataDir = (await import('./pglite-template.ts')).templateFor(dataDir) ?? undefined;
    mkdirSync(dataDir, { recursive: true });
  }
  let pglite;
  try {
    pglite = await PGlite.create({ ...(dataDir ? { dataDir } : {}), ...(loadDataDir ? { loadDataDir } : {}), parsers });
  } catch (e) {
    throw new ExternalServiceError(
      'pglite',
      `cannot open the embedded database in ${dataDir}: ${(e as Error).message}. Is another audience process using it? Or set DATABASE_URL to use a PostgreSQL server.`,
      { cause: e },
    );
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  // PGlite is one session in this process: locks between processes are impossible (the data dir is
  // ours alone while open), and inside the process we serialize by name.
  const held = new Map<string, Promise<void>>();

  const store: Store = {
    kind: 'pglite',
    db,
    async transactionWithCopy(fn) {
      // One session: a COPY issued while kysely's transaction is open runs inside it.
      return db.transaction().execute((trx) => fn(trx, (target, chunks) => store.copy(target, chunks)));
    },
    async *copyTo(query) {
      const r = await pglite.query(`COPY (${query}) TO '/dev/blob' WITH (FORMAT binary)`);
      if (r.blob) yield new Uint8Array(await r.blob.arrayBuffer());
    },
    async copy(target, chunks) {
      const binary = target.format === 'binary';
      const copySql = `COPY ${target.table} (${target.columns.map(quoteIdent).join(', ')}) FROM '/dev/blob' WITH (FORMAT ${binary ? 'binary' : 'csv'}${target.freeze ? ', FREEZE' : ''})`;
      // PGlite's WASM build has no encoding conversion procs, so WIN1252 is decoded here.
      const win1252 = !binary && target.encoding === 'WIN1252';
      const maxBatch = 32 * 1024 * 1024;
      let parts: (string | Uint8Array)[] = [];
      let size = 0;
      let rows = 0;
      const flush = async () => {
        if (size === 0) return;
        // Each COPY statement reads a whole binary "file": header, rows, trailer.
        if (binary) parts = [COPY_BINARY_HEADER, ...parts, COPY_BINARY_TRAILER];
        const r = await pglite.query(copySql, [], { blob: new Blob(parts as ConstructorParameters<typeof Blob>[0]) });
        rows += r.affectedRows ?? 0;
        parts = [];
        size = 0;
      };
      for await (const chunk of chunks) {
        const part = win1252 ? decodeCp1252(chunk) : chunk;
        parts.push(part);
        size += chunk.byteLength;
        if (size >= maxBatch) await flush();
      }
      await flush();
      return rows;
    },
    async withLock(name, fn, opts) {
      const prev = held.get(name);
      if (prev && opts?.wait === false) return { acquired: false };
      // Register before fn starts: fn may ask for the same lock synchronously.
      let release!: () => void;
      const mine = new Promise<void>((r) => (release = r));
      held.set(name, mine);
      try {
        if (prev) await prev;
        return { acquired: true, value: await fn() };
      } finally {
        release();
        if (held.get(name) === mine) held.delete(name);
      }
    },
    async runScript(_executor, script) {
      await pglite.exec(script);
    },
    async dumpDataDir() {
      return pglite.dumpDataDir('gzip');
    },
    async close() {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
  return store;
}

/**
 * Bytes a COPY may have queued ahead of the socket. pg-copy-streams acknowledges a chunk only when
 * the socket has drained it, so with the default 16 KB the producer (the census scanner) stopped
 * while the server parsed each chunk, and the two took turns instead of running on both cores:
 * 9.8 s instead of 6.8 s for the 2.1M-row census.
 */
const COPY_AHEAD_BYTES = 16 << 20;

async function copyOnClient(client: pg.PoolClient, target: CopyTarget, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
  const binary = target.format === 'binary';
  const format = binary ? 'FORMAT binary' : `FORMAT csv, ENCODING '${target.encoding}'`;
  const copySql = `COPY ${target.table} (${target.columns.map(quoteIdent).join(', ')}) FROM STDIN WITH (${format}${target.freeze ? ', FREEZE' : ''})`;
  const stream = client.query(copyFromStdin(copySql, { highWaterMark: COPY_AHEAD_BYTES }));
  await pipeline(Readable.from(binary ? framed(chunks) : chunks, { objectMode: false }), stream);
  return Number(stream.rowCount ?? 0);
}

/** Binary rows between the format's header and trailer: the whole input of one COPY. */
async function* framed(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield COPY_BINARY_HEADER;
  yield* chunks;
  yield COPY_BINARY_TRAILER;
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}
