/**
 * One DNS query over TCP, with a deadline. dns2 2.4.0's TCPClient has no timeout and never exposes
 * its socket, so a server that accepts and then stays silent would pin the query (and the run)
 * forever. This sends the same wire format (dns2's Packet, RFC 1035 §4.2.2 length prefix) on a
 * socket we own and destroy when the deadline passes.
 */
import { randomInt } from 'node:crypto';
import net from 'node:net';
import dns2 from 'dns2';

const { Packet } = dns2;
type Packet = InstanceType<typeof dns2.Packet>;

export class TcpQueryTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

export function tcpQuery(host: string, port: number, name: string, type: keyof typeof Packet.TYPE, timeoutMs: number): Promise<Packet> {
  const query = new Packet();
  query.header.id = randomInt(0x10000);
  query.header.rd = 1;
  query.questions.push({ name, type: Packet.TYPE[type], class: Packet.CLASS.IN } as Packet['questions'][number]);
  const body = query.toBuffer();
  const frame = Buffer.alloc(2 + body.length);
  frame.writeUInt16BE(body.length, 0);
  body.copy(frame, 2);

  return new Promise<Packet>((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buffered: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (err: Error | null, packet?: Packet) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(packet!);
    };
    const timer = setTimeout(() => finish(new TcpQueryTimeout(`DNS query over TCP timed out after ${timeoutMs}ms`)), timeoutMs);
    socket.on('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      // A server may pipeline other replies on the connection: skip any whose id is not ours.
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        if (buffered.length < 2 + len) return;
        const message = buffered.subarray(2, 2 + len);
        buffered = buffered.subarray(2 + len);
        let reply: Packet;
        try {
          reply = Packet.parse(message);
        } catch (e) {
          finish(new Error(`unparseable DNS reply over TCP: ${(e as Error).message}`));
          return;
        }
        if (reply.header.id === query.header.id) {
          finish(null, reply);
          return;
        }
      }
    });
    socket.on('error', (e) => finish(e));
    socket.on('end', () => finish(new Error('the DNS server closed the TCP connection without a reply')));
  });
}
