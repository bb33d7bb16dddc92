/**
 * A real DNS server on 127.0.0.1 for the MX tests and the benchmark: dns2's server in-process, UDP
 * and TCP on the same port (a truncated UDP reply sends the client to TCP on that port). Zones are
 * plain data: per name, its records by type, or a behaviour (an rcode, a delay, silence).
 * Unknown names get NXDOMAIN; a known name without records of the asked type gets NODATA + SOA.
 * Broken resolvers for the canary tests: `startDnsServer({})` knows no name (NXDOMAIN for
 * everything, as a captive resolver answers), `wildcard` answers every unknown name (a resolver
 * that rewrites NXDOMAIN), `breakAfter` answers properly N times and then NXDOMAIN or nothing.
 */
import dns2 from 'dns2';

const { Packet } = dns2;
type Packet = InstanceType<typeof dns2.Packet>;

export interface ZoneEntry {
  MX?: ReadonlyArray<readonly [priority: number, exchange: string]>;
  A?: readonly string[];
  AAAA?: readonly string[];
  /** Answer every query for this name with this rcode (2 SERVFAIL, 5 REFUSED...). */
  rcode?: number;
  /** Answer after this many milliseconds. */
  delayMs?: number;
  /** Never answer (the client must time out). */
  silent?: boolean;
  /** Answer over UDP but never over TCP (a truncated answer whose TCP retry hangs). */
  silentOverTcp?: boolean;
  ttl?: number;
}
export type Zones = Record<string, ZoneEntry>;

export interface DnsServerOptions {
  /** Delay every answer (the benchmark's 50 ms resolver). */
  delayMs?: number;
  /** Put the MX hosts' A/AAAA records in the additional section, as recursive resolvers do. */
  glue?: boolean;
  /** A server that never answers anything (a dead resolver). */
  silent?: boolean;
  /** Answers unknown names with this entry instead of NXDOMAIN (an NXDOMAIN-rewriting resolver). */
  wildcard?: ZoneEntry;
  /** After this many answered queries, every query gets NXDOMAIN, or no answer at all. */
  breakAfter?: { answers: number; then: 'nxdomain' | 'silent' };
}

export interface QueryLogEntry {
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

export interface TestDnsServer {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:PORT`, the form --dns takes. */
  readonly address: string;
  readonly queries: QueryLogEntry[];
  close(): Promise<void>;
}

const TYPE_NAMES = new Map<number, string>(Object.entries(Packet.TYPE).map(([k, v]) => [v as number, k]));

export async function startDnsServer(zones: Zones, opts: DnsServerOptions = {}): Promise<TestDnsServer> {
  const lowered = new Map(Object.entries(zones).map(([k, v]) => [k.toLowerCase(), v]));
  const queries: QueryLogEntry[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let answered = 0;
  let broken: 'nxdomain' | 'silent' | null = null;

  const handle = (transport: 'udp' | 'tcp') => (request: Packet, send: (r: Packet) => Promise<Buffer>) => {
    const q = request.questions[0];
    if (!q) return;
    const name = q.name.toLowerCase();
    queries.push({ name, type: TYPE_NAMES.get(q.type) ?? String(q.type), transport });
    if (!broken && opts.breakAfter && answered >= opts.breakAfter.answers) broken = opts.breakAfter.then;
    if (broken === 'silent') return;
    const entry = broken ? undefined : (lowered.get(name) ?? opts.wildcard);
    if (entry?.silent || opts.silent || (transport === 'tcp' && entry?.silentOverTcp)) return;
    answered++;
    const res = Packet.createResponseFromRequest(request);
    res.header.aa = 1;
    res.header.ra = 1;
    if (!entry) res.header.rcode = 3;
    else if (entry.rcode !== undefined) res.header.rcode = entry.rcode;
    else fill(res, q, entry, lowered, opts.glue ?? false);
    const delay = (entry?.delayMs ?? 0) + (opts.delayMs ?? 0);
    const reply = () => void send(res).catch(() => {});
    if (delay > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        reply();
      }, delay);
      timers.add(t);
    } else reply();
  };

  let udp: InstanceType<typeof dns2.UDPServer> | undefined;
  let port = 0;
  let tcp: InstanceType<typeof dns2.TCPServer> | undefined;
  // TCP must listen on the UDP port: pick a free UDP port, then take the same TCP port (retry on a clash).
  // A closed dgram socket cannot bind again (ERR_SOCKET_DGRAM_NOT_RUNNING), so each attempt gets a new one.
  for (let attempt = 0; attempt < 20 && !tcp; attempt++) {
    const socket = dns2.createUDPServer(handle('udp') as never);
    socket.on('requestError', () => {});
    await socket.listen(0, '127.0.0.1');
    port = socket.address().port;
    const candidate = dns2.createTCPServer(handle('tcp') as never);
    candidate.on('requestError', () => {});
    const ok = await new Promise<boolean>((resolve) => {
      candidate.once('error', () => resolve(false));
      candidate.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      tcp = candidate;
      udp = socket;
    } else await new Promise<void>((r) => socket.close(() => r()));
  }
  if (!tcp || !udp) throw new Error('could not bind the test DNS server on 127.0.0.1');
  const udpServer = udp;
  const tcpServer = tcp;

  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    queries,
    async close() {
      for (const t of timers) clearTimeout(t);
      await Promise.all([new Promise<void>((r) => udpServer.close(() => r())), new Promise<void>((r) => tcpServer.close(() => r()))]);
    },
  };
}

function fill(res: Packet, q: Packet['questions'][number], entry: ZoneEntry, zones: Map<string, ZoneEntry>, glue: boolean): void {
  const ttl = entry.ttl ?? 300;
  const rr = (fields: Partial<Packet['answers'][number]>) => Packet.createResourceFromQuestion(q, { ttl, ...fields });
  if (q.type === Packet.TYPE.MX) {
    for (const [priority, exchange] of entry.MX ?? []) {
      // `.` is the null MX; dns2 encodes the root as an empty name.
      res.answers.push(rr({ type: Packet.TYPE.MX, priority, exchange: exchange === '.' ? '' : exchange }));
      const target = zones.get(exchange.toLowerCase());
      if (glue && target && !target.rcode && !target.silent) {
        for (const address of target.A ?? [])
          res.additionals.push(Packet.createResourceFromQuestion({ ...q, name: exchange, type: Packet.TYPE.A }, { type: Packet.TYPE.A, ttl, address }));
      }
    }
  } else if (q.type === Packet.TYPE.A) {
    for (const address of entry.A ?? []) res.answers.push(rr({ type: Packet.TYPE.A, address }));
  } else if (q.type === Packet.TYPE.AAAA) {
    for (const address of entry.AAAA ?? []) res.answers.push(rr({ type: Packet.TYPE.AAAA, address }));
  }
  if (!res.answers.length) {
    res.authorities.push(
      Packet.createResourceFromQuestion(
        { ...q, type: Packet.TYPE.SOA },
        { type: Packet.TYPE.SOA, ttl: 60, primary: 'ns.test', admin: 'hostmaster.test', serial: 1, refresh: 3600, retry: 600, expiration: 86400, minimum: 60 },
      ),
    );
  }
}
