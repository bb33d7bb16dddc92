/**
 * Child process of `npm run bench:mx`: a local DNS server on 127.0.0.1 that answers every query
 * after the configured latency, in its own process so that serving does not eat the client's
 * event loop. Args: N LATENCY_MS. Sends {address} to the parent once listening.
 *
 * dns2's server encodes every reply bit by bit (and collects garbage accordingly): at 1,280
 * queries/s it adds tens of milliseconds of its own, and the benchmark would measure the server.
 * So the replies (dns2 Packets, built from the same zones as the tests use, glue included as a
 * recursive resolver sends it) are encoded once at start-up, and each query only gets its id,
 * RD bit and the delay. Unknown names get NXDOMAIN.
 */
import dgram from 'node:dgram';
import dns2 from 'dns2';
import { benchZones } from './mx-bench-zones.ts';
import type { ZoneEntry } from '../test/helpers/dns-server.ts';

const { Packet } = dns2;
type Packet = InstanceType<typeof dns2.Packet>;
const [n, latencyMs] = process.argv.slice(2).map(Number) as [number, number];
const zones = new Map<string, ZoneEntry>(Object.entries(benchZones(n)));

function encodeReply(name: string, type: number): Buffer {
  const req = new Packet();
  req.questions.push({ name, type, class: Packet.CLASS.IN } as Packet['questions'][number]);
  const res = Packet.createResponseFromRequest(req);
  res.header.ra = 1;
  const q = req.questions[0]!;
  const entry = zones.get(name);
  if (!entry) res.header.rcode = 3;
  else if (entry.rcode !== undefined) res.header.rcode = entry.rcode;
  else if (type === Packet.TYPE.MX) {
    for (const [priority, exchange] of entry.MX ?? []) {
      res.answers.push(Packet.createResourceFromQuestion(q, { type: Packet.TYPE.MX, ttl: 300, priority, exchange: exchange === '.' ? '' : exchange }));
      for (const address of zones.get(exchange)?.A ?? [])
        res.additionals.push(Packet.createResourceFromQuestion({ ...q, name: exchange, type: Packet.TYPE.A }, { type: Packet.TYPE.A, ttl: 300, address }));
    }
  } else if (type === Packet.TYPE.A) {
    for (const address of entry.A ?? []) res.answers.push(Packet.createResourceFromQuestion(q, { type: Packet.TYPE.A, ttl: 300, address }));
  }
  return res.toBuffer();
}

// Every name the benchmark can ask, for MX and A, encoded once.
const replies = new Map<string, Buffer>();
for (const name of zones.keys()) for (const type of [Packet.TYPE.MX, Packet.TYPE.A]) replies.set(`${type} ${name}`, encodeReply(name, type));

/** The question of a raw query: lower-cased name and type (labels from offset 12, no compression in queries). */
function question(msg: Buffer): { name: string; type: number } | null {
  const labels: string[] = [];
  let off = 12;
  while (off < msg.length) {
    const len = msg[off]!;
    if (len === 0) break;
    if (len > 63) return null;
    labels.push(msg.toString('latin1', off + 1, off + 1 + len).toLowerCase());
    off += 1 + len;
  }
  if (off + 3 > msg.length) return null;
  return { name: labels.join('.'), type: msg.readUInt16BE(off + 1) };
}

const socket = dgram.createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  const q = question(msg);
  if (!q) return;
  const cached = replies.get(`${q.type} ${q.name}`) ?? encodeReply(q.name, q.type);
  const reply = Buffer.from(cached);
  reply.writeUInt16BE(msg.readUInt16BE(0), 0); // the query's id
  reply[2] = (reply[2]! & ~0x01) | (msg[2]! & 0x01); // echo RD
  setTimeout(() => socket.send(reply, rinfo.port, rinfo.address), latencyMs);
});
socket.bind(0, '127.0.0.1', () => process.send!({ address: `127.0.0.1:${socket.address().port}` }));
process.on('disconnect', () => socket.close(() => process.exit(0)));
