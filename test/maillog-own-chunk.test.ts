import { describe, expect, it } from 'vitest';
import { Linker } from '../src/maillog/linker.ts';
import { LineParser } from '../src/maillog/parse.ts';
import { ownChunk, type ParsedChunk } from '../src/maillog/records.ts';
import { TraditionalClock, ZoneClock } from '../src/maillog/timestamp.ts';

/**
 * A chunk from the parse worker arrives as a structured clone; ownChunk rebuilds it in the shapes
 * of the main thread's parser (one object shape for the linker's loop). It must be the same chunk:
 * every field, every failed delivery's fields, every tag, in the same order, and it must link to
 * the very events and state.
 */
const TZ = 'Europe/Berlin';
const LOG = [
  'Nov 20 00:00:00 app1 postfix/smtpd[20001]: 1A2B3C4D21: client=unknown[172.18.0.5]',
  'Nov 20 00:00:01 app1 postfix/cleanup[1]: 1A2B3C4D21: info: header X-Listmonk-Campaign: 7 from unknown[172.18.0.5]',
  'Nov 20 00:00:02 app1 postfix/qmgr[1187]: 1A2B3C4D21: from=<bounces@firm-logistics.example>, size=20085, nrcpt=3 (queue active)',
  'Nov 20 00:00:03 app1 postfix/out05/smtp[4]: 1A2B3C4D21: to=<A@Gmail.com>, relay=x[1.2.3.4]:25, delay=1, delays=0/0/0/1, dsn=4.7.28, status=deferred (421 4.7.28 rate limited UnsolicitedRateLimitError)',
  'Nov 20 00:00:04 app2 postfix/smtp[5]: 1A2B3C4D21: to=<b@example.com>, orig_to=<B@example.com>, relay=none, delay=1, delays=0/0/1/0, dsn=5.1.2, status=bounced (Host or domain name not found. Name service error for name=example.com type=MX: Host not found)',
  'Nov 20 00:00:05 app1 postfix/smtp[6]: 1A2B3C4D21: to=<c@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)',
  'Nov 20 00:00:06 app1 postfix/local[7]: 1A2B3C4D21: to=<d@firm-logistics.example>, relay=local, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (unknown user)',
  'Nov 20 00:00:07 app1 postfix/qmgr[1187]: 1A2B3C4D21: removed',
].join('\n');

function parsed(): ParsedChunk {
  const parser = new LineParser();
  parser.beginFile(new TraditionalClock(new ZoneClock(TZ), new Date('2026-11-25T00:00:00Z')));
  const buf = Buffer.from(LOG + '\n', 'latin1');
  return parser.parseChunk({ buf, start: 0, end: buf.length - 1, ascii: true, endOffset: buf.length }, 1);
}

function linked(p: ParsedChunk) {
  const l = new Linker({ zone: new ZoneClock(TZ), campaignClients: new Map([['172.18.0.5', 'trucking']]), ownDomains: new Set(['firm-logistics.example']), maxOpen: 100, maxOpenAgeMs: 86_400_000 });
  l.apply(p);
  return { batch: l.takeBatch(), state: l.serialize() };
}

const keys = (o: object) => Object.keys(o);

describe('ownChunk: a chunk from the parse worker, in the main thread’s shapes', () => {
  it('is the chunk the worker sent, field by field and in the same field order', () => {
    const p = parsed();
    expect(p.failures.length).toBe(3);
    expect(p.hosts).toEqual(['app1', 'app2']);
    const own = ownChunk(structuredClone(p));
    expect(own).toEqual(p);
    expect(keys(own)).toEqual(keys(p));
    expect(keys(own.counts)).toEqual(keys(p.counts));
    own.failures.forEach((d, i) => expect(keys(d)).toEqual(keys(p.failures[i]!)));
    own.tags.forEach((t, i) => expect(keys(t)).toEqual(keys(p.tags[i]!)));
  });

  it('links to the events and state of the chunk itself', () => {
    const want = linked(parsed());
    const got = linked(ownChunk(structuredClone(parsed())));
    expect(got.batch.events.map((e) => e.status)).toEqual(['deferred', 'bounced', 'bounced']);
    expect(got).toEqual(want);
  });
});
