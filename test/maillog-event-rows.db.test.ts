import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinaryRows } from '../src/db/copy-binary.ts';
import { InternalError } from '../src/errors.ts';
import type { DeliveryEvent } from '../src/maillog/linker.ts';
import { scanFiles } from '../src/maillog/scan.ts';
import { EventRows, insertEvents } from '../src/maillog/write-batch.ts';
import { REPO_ROOT } from './helpers/samples.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

describe('binary COPY rows', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  it('every field type, NULL and the empty string, edge values, over several chunks', async () => {
    await sql`create table bin_target (n bigint, ts timestamptz, d date, s text, b boolean)`.execute(store.db);
    const rows = new BinaryRows();
    const want: { n: number; ts: string; d: string; s: string | null; b: boolean }[] = [];
    const edges = [0, -1, 1, 2 ** 32, -(2 ** 32) - 1, 2 ** 53 - 1, -(2 ** 53) + 1];
    // Past one chunk (1 MiB): rows must not be split between the chunks the store sends.
    for (let i = 0; i < 12_000; i++) {
      const n = edges[i % edges.length]! + (i % edges.length === 0 ? i : 0);
      const ts = Date.UTC(1999, 11, 31, 23, 59, 59, 999) + i * 86_399_123;
      const s = i % 5 === 0 ? null : i % 5 === 1 ? '' : `${'é✓'.repeat(i % 7)}row ${i} ${'x'.repeat(100)}`;
      rows.row(5);
      rows.int8(n);
      rows.timestamptz(ts);
      rows.date(Math.floor(ts / 86_400_000));
      rows.text(s);
      rows.bool(i % 2 === 0);
      want.push({ n, ts: new Date(ts).toISOString(), d: new Date(Math.floor(ts / 86_400_000) * 86_400_000).toISOString().slice(0, 10), s, b: i % 2 === 0 });
    }
    const chunks = rows.chunks();
    expect(chunks.length).toBeGreaterThan(1);
    expect(await store.copy({ table: 'bin_target', columns: ['n', 'ts', 'd', 's', 'b'], format: 'binary', encoding: 'UTF8' }, chunks)).toBe(12_000);
    const got = await sql<{ n: string; ts: string; d: string; s: string | null; b: boolean }>`
      select n::text as n, to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ts, d::text as d, s, b from bin_target order by bin_target.ts`.execute(store.db);
    expect(got.rows.map((r) => ({ ...r, n: Number(r.n) }))).toEqual(want);
  });

  it('text on either side of the short-value copy: ASCII, non-ASCII, NUL and lone surrogates read back alike', async () => {
    await sql`create table bin_text (i int, s text)`.execute(store.db);
    const rows = new BinaryRows();
    const values: string[] = [];
    // Lengths around the switch from the JavaScript copy to the encoder (32 units).
    for (const len of [1, 31, 32, 33, 200]) {
      const pad = (head: string) => (head + 'x'.repeat(len)).slice(0, Math.max(len, head.length));
      values.push(pad('ascii '), pad('é✓ '), pad('nul\0 '), pad('\0'), pad('lone \ud800 '), pad('x'.repeat(len - 1) + '\0'));
    }
    values.forEach((v, i) => {
      rows.row(2);
      rows.int4(i);
      rows.text(v);
    });
    await store.copy({ table: 'bin_text', columns: ['i', 's'], format: 'binary', encoding: 'UTF8' }, rows.chunks());
    const got = await sql<{ s: string }>`select s from bin_text order by i`.execute(store.db);
    // What PostgreSQL's text can hold: NUL and a lone surrogate become U+FFFD.
    expect(got.rows.map((r) => r.s)).toEqual(values.map((v) => v.replaceAll('\0', '\uFFFD').replaceAll('\ud800', '\uFFFD')));
  });

  it("a batch's events read back from delivery_events exactly as the linker made them", async () => {
    const scanned = await scanFiles([{ path: path.join(REPO_ROOT, 'data-samples/maillog/mail.log'), gz: false, live: false }], {
      keepEvents: true,
      campaignClients: new Map([['172.18.0.5', 'trucking']]),
      ownDomains: new Set(['firm-logistics.example']),
    });
    const odd: DeliveryEvent = {
      ...scanned.events[0]!,
      ts: Date.UTC(2026, 0, 1, 0, 0, 0, 7),
      day: '2025-12-31',
      recipient: 'josé@transportes-peña.example',
      reason: '550 5.1.1 “Unknown” — usuario desconocido, "quoted", comma, new\nline',
      origTo: null,
      dsn: null,
      stage: null,
      causeClass: 'mailbox_full',
      ownDomain: true,
      lineNo: 2 ** 40,
    };
    // An expired message whose recipients were never seen: no recipient, relay or dsn.
    const unseen: DeliveryEvent = { ...scanned.events[0]!, recipient: null, origTo: null, domain: null, relay: null, relayHost: null, provider: null, status: 'expired', dsn: null, class: 'expired', causeClass: null, stage: null, reason: '' };
    const events = [...scanned.events, odd, unseen];
    expect(scanned.events.length).toBeGreaterThanOrEqual(10);
    expect(events.some((e) => e.ownDomain) && events.some((e) => e.recipient === null) && events.some((e) => e.status === 'expired')).toBe(true);

    const rows = new EventRows(41, 0);
    rows.fileId = 17;
    for (const e of events) rows.push(e);
    await store.transactionWithCopy((_trx, copy) => insertEvents(copy, rows));

    const got = await sql<Record<string, unknown>>`
      select extract(epoch from ts) * 1000 as ts, day, host, transport, qid, recipient, orig_to, domain, relay, relay_host, relay_provider, status, dsn,
        class, cause_class, stage, reason, sender, client_ip, stream, own_domain, file_id, line_no, run_id
      from delivery_events order by id`.execute(store.db);
    expect(got.rows.map((r) => ({ ...r, ts: Number(r.ts) }))).toEqual(
      events.map((e) => ({
        ts: e.ts, day: e.day, host: e.host, transport: e.transport, qid: e.qid, recipient: e.recipient, orig_to: e.origTo, domain: e.domain,
        relay: e.relay, relay_host: e.relayHost, relay_provider: e.provider, status: e.status, dsn: e.dsn, class: e.class, cause_class: e.causeClass,
        stage: e.stage, reason: e.reason, sender: e.sender, client_ip: e.clientIp, stream: e.stream, own_domain: e.ownDomain, file_id: 17, line_no: e.lineNo, run_id: 41,
      })),
    );
    // What the scrub's summary and health marks take from the rows instead of the objects.
    expect(rows.days).toEqual(new Set(events.map((e) => e.day)));
    const byClass: Record<string, number> = {};
    for (const e of events) if (!e.ownDomain) byClass[e.class] = (byClass[e.class] ?? 0) + 1;
    expect(rows.byClass).toEqual(byClass);
  });

  it('a batch of events never spans two files', () => {
    const rows = new EventRows(1, 3);
    rows.fileId = 4;
    rows.push({ ts: 0, day: '1970-01-01', host: 'h', transport: 't', qid: 'Q', recipient: null, origTo: null, domain: null, relay: null, relayHost: null, provider: null, status: 'expired', dsn: null, class: 'expired', causeClass: null, stage: null, reason: '', sender: null, clientIp: null, stream: null, ownDomain: false, lineNo: 1 });
    rows.fileId = 4;
    expect(() => (rows.fileId = 5)).toThrow(InternalError);
  });
});
