/**
 * The string path of the parser: a line whose header is not the standard shape is decoded and read
 * whole by parseLine (line.ts), then decided here with the same tests the byte path (parse.ts)
 * makes on the bytes. Kept whole as the reference the byte path must equal (LineParser.bytePath
 * false sends every line here), and it is where every delivery line that is not a plain success
 * is read and classified.
 */
import { ChunkBuilder } from './chunk-builder.ts';
import { classifyCached } from './classify.ts';
import { cleanAddress, parseDelivery } from './delivery.ts';
import { TS_RFC3339, TS_TRADITIONAL } from './header.ts';
import { parseLine, queueIdOf } from './line.ts';
import { RELAY_CODE_SHIFT, relayValue } from './outcome-provider.ts';
import { DELIVERY_AGENTS, POSTFIX_PROGRAMS } from './prefilter.ts';
import { failedDelivery, F_EXPIRED, F_RELAY_LOCAL, R_CAMPAIGN, R_CLIENT, R_DKIM, R_FAILED, R_PICKUP, R_QUEUED, R_REMOVED, R_SENT } from './records.ts';

/** What a kept line is, decided by either path before its fields are read. */
export const A_DELIVERY = 1;
export const A_REMOVED = 2;
export const A_QUEUED = 3;
export const A_CLIENT = 4;
export const A_PICKUP = 5;
export const A_CAMPAIGN = 6;
export const A_DKIM = 7;

export class StringPathParser extends ChunkBuilder {
  /** The string path: parseLine, then the same decisions as the byte path (kept whole as the reference). */
  protected handle(raw: string, lineNo: number): void {
    const l = parseLine(raw);
    if (typeof l === 'string') {
      this.skip(l, lineNo);
      return;
    }
    if (!POSTFIX_PROGRAMS.has(l.program)) {
      this.skip('foreign', lineNo);
      return;
    }
    const msg = l.message;
    const qid = queueIdOf(msg);
    if (!qid) {
      if (msg.startsWith('NOQUEUE: reject:')) this.counts.rejected++;
      return;
    }
    const body = msg.slice(qid.length + 2);
    const prog = l.program;
    let act: number;
    if (DELIVERY_AGENTS.has(prog)) {
      if (!body.startsWith('to=')) return;
      act = A_DELIVERY;
    } else
      switch (prog) {
        case 'qmgr':
        case 'oqmgr':
          if (body === 'removed') act = A_REMOVED;
          else if (body.startsWith('from=')) act = A_QUEUED;
          else return;
          break;
        case 'smtpd':
          if (body.startsWith('client=')) act = A_CLIENT;
          else {
            if (body.startsWith('reject:')) this.counts.rejected++;
            return;
          }
          break;
        case 'pickup':
          if (!body.startsWith('uid=')) return;
          act = A_PICKUP;
          break;
        case 'cleanup':
          if (body.startsWith('info: header X-Listmonk-Campaign:')) act = A_CAMPAIGN;
          else {
            if (body.startsWith('reject:')) this.counts.rejected++;
            return;
          }
          break;
        case 'opendkim':
          if (!body.startsWith('DKIM-Signature field added')) return;
          act = A_DKIM;
          break;
        case 'postsuper':
          if (!body.startsWith('removed')) return;
          act = A_REMOVED;
          break;
        default:
          return;
      }
    this.hostId = this.hostIdOf(l.host);
    this.tagId = this.tagIdOf(l.tag, l.instance, l.program);
    this.tsKind = l.tsKind === 'rfc3339' ? TS_RFC3339 : l.tsKind === 'traditional' ? TS_TRADITIONAL : 0;
    this.tsRaw = l.tsRaw;
    this.tsBuf = null;
    this.qBuf = null;
    this.qStr = qid;
    if (act === A_DELIVERY) this.delivery(body, lineNo);
    else this.act(act, body, lineNo);
  }

  /** The record of a kept line other than a delivery attempt (its queue id is the line's). */
  protected act(act: number, body: string, lineNo: number): void {
    switch (act) {
      case A_REMOVED:
        this.record(R_REMOVED, 0, lineNo);
        return;
      case A_DKIM:
        this.record(R_DKIM, 0, lineNo);
        return;
      case A_PICKUP:
        this.record(R_PICKUP, this.timeOf(), lineNo);
        return;
      case A_CAMPAIGN:
        this.record(R_CAMPAIGN, this.timeOf(), lineNo);
        return;
      case A_QUEUED: {
        const ts = this.timeOf();
        // from=<sender>, size=…, nrcpt=… (queue active) | status=expired, returned to sender
        const gt = body.indexOf('>');
        this.record(R_QUEUED | (body.includes('status=expired') || body.includes('status=force-expired') ? F_EXPIRED : 0), ts, lineNo);
        if (body.charCodeAt(5) === 60 && gt > 0) this.field(body.slice(6, gt).toLowerCase());
        return;
      }
      case A_CLIENT: {
        const ts = this.timeOf();
        // client=NAME[IP][, sasl_method=…]
        const b = body.indexOf('[');
        const e = body.indexOf(']', b);
        this.record(R_CLIENT, ts, lineNo);
        if (b > 0 && e > b) this.field(body.slice(b + 1, e));
        return;
      }
    }
  }

  /** A sent recipient: its time is read now (a record in line order, like every other). */
  protected sent(to: string, kind: number, lineNo: number): void {
    this.record(kind, this.timeOf(), lineNo);
    this.field(to);
  }

  /** R_SENT with the flags of a delivery line's relay value (relayValue()): local, or its provider code. */
  protected sentKind(relay: string): number {
    return relay === 'local' ? R_SENT | F_RELAY_LOCAL : R_SENT | (this.relayCodes.of(relay) << RELAY_CODE_SHIFT);
  }

  protected delivery(body: string, lineNo: number): void {
    const st = body.indexOf(', status=sent ');
    if (st > 0) {
      // A success needs only its recipient: no key=value parse, no classification.
      const gt = body.charCodeAt(3) === 60 ? body.indexOf('>', 4) + 1 : body.indexOf(',', 3);
      const to = cleanAddress(body.slice(3, gt > 0 ? gt : st));
      if (to) {
        this.sent(to, this.sentKind(relayValue(body)), lineNo);
        return;
      }
    }
    const d = parseDelivery(body);
    if (!d) {
      this.skip('malformed', lineNo);
      return;
    }
    if (d.status === 'deliverable' || d.status === 'undeliverable') {
      // Address-verification probes, not deliveries.
      this.counts.probes++;
      return;
    }
    if (d.status === 'sent') {
      // The relay as the fast paths read it (the first `, relay=`), so every path gives one answer.
      this.sent(d.to, this.sentKind(relayValue(body)), lineNo);
      return;
    }
    const ts = this.timeOf();
    const c = classifyCached(d.status, d.dsn, d.reason);
    this.record(R_FAILED, ts, lineNo);
    this.failures.push(failedDelivery(d.to, d.origTo, d.relay, d.dsn, d.status, d.reason, c.class));
  }
}
