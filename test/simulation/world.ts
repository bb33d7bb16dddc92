/**
 * The simulated universe: receiving domains (with their MX verdicts, written as the CSV
 * `check-mx --import` reads), carriers, and the census files a month of FMCSA changes makes of
 * them (the 26-column FMCSA_CENSUS1 text of data-samples/census, Windows-1252, CRLF).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export type Rng = () => number;

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
export const chance = (rng: Rng, p: number): boolean => rng() < p;

export interface SimDomain {
  domain: string;
  verdict: 'deliverable' | 'dead';
  provider: string | null;
  /** MX hosts; two self-hosted domains share one server, for domain holds by mail server. */
  mx: string[];
  /** How many carriers use it, relatively. */
  weight: number;
}

/**
 * Google and Microsoft business domains, consumer mailboxes, self-hosted servers (two behind one
 * MX), the Yahoo family by list (yahoo.com, aol.com, verizon.net, sbcglobal.net: AT&T runs its own
 * MX, so only the list catches it) and by MX (a business domain hosted by Yahoo), and a dead one.
 */
export const DOMAINS: readonly SimDomain[] = [
  { domain: 'gmail.com', verdict: 'deliverable', provider: 'google', mx: ['gmail-smtp-in.l.google.com'], weight: 6 },
  { domain: 'roadrunner-freight.test', verdict: 'deliverable', provider: 'google', mx: ['smtp.google.com'], weight: 3 },
  { domain: 'prairie-logistics.test', verdict: 'deliverable', provider: 'google', mx: ['smtp.google.com'], weight: 3 },
  { domain: 'blue-ox-hauling.test', verdict: 'deliverable', provider: 'google', mx: ['smtp.google.com'], weight: 2 },
  { domain: 'lonestar-carriers.test', verdict: 'deliverable', provider: 'microsoft365', mx: ['lonestar-carriers-test.mail.protection.outlook.com'], weight: 3 },
  { domain: 'great-lakes-transport.test', verdict: 'deliverable', provider: 'microsoft365', mx: ['great-lakes-transport-test.mail.protection.outlook.com'], weight: 2 },
  { domain: 'hotmail.com', verdict: 'deliverable', provider: 'outlook_consumer', mx: ['hotmail-com.olc.protection.outlook.com'], weight: 3 },
  { domain: 'mesa-trucking.test', verdict: 'deliverable', provider: 'other', mx: ['mx.mesa-trucking.test'], weight: 2 },
  { domain: 'cascade-moving.test', verdict: 'deliverable', provider: 'other', mx: ['mail.smallhost.test'], weight: 2 },
  { domain: 'cascade-hauling.test', verdict: 'deliverable', provider: 'other', mx: ['mail.smallhost.test'], weight: 2 },
  { domain: 'delta-flatbed.test', verdict: 'deliverable', provider: 'other', mx: ['mx.delta-flatbed.test'], weight: 2 },
  { domain: 'ozark-reefer.test', verdict: 'deliverable', provider: 'other', mx: ['mx.ozark-reefer.test'], weight: 2 },
  { domain: 'yahoo.com', verdict: 'deliverable', provider: 'yahoo', mx: ['mta5.am0.yahoodns.net'], weight: 3 },
  { domain: 'aol.com', verdict: 'deliverable', provider: 'yahoo', mx: ['mx-aol.mail.gm0.yahoodns.net'], weight: 1 },
  { domain: 'verizon.net', verdict: 'deliverable', provider: 'yahoo', mx: ['mx-aol.mail.gm0.yahoodns.net'], weight: 1 },
  { domain: 'sbcglobal.net', verdict: 'deliverable', provider: 'other', mx: ['al-ip4-mx-vip1.prodigy.net'], weight: 1 },
  { domain: 'yahoo-hosted-freight.test', verdict: 'deliverable', provider: 'yahoo', mx: ['mx-biz.mail.am0.yahoodns.net'], weight: 1 },
  { domain: 'defunct-freight.test', verdict: 'dead', provider: null, mx: [], weight: 1 },
];

export const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);
export const DOMAIN_BY_NAME = new Map(DOMAINS.map((d) => [d.domain, d]));

/** The CSV of `check-mx --export`/`--import`, observed at `at`. */
export function writeMxCsv(file: string, at: Date): void {
  const lines = ['domain,verdict,reason,provider,mx,addresses,checked_at,expires_at,last_error'];
  DOMAINS.forEach((d, i) => {
    const mx = d.mx.map((h) => `10 ${h}`).join(';');
    const addr = d.verdict === 'dead' ? '' : `93.184.216.${10 + i}`;
    const expires = new Date(at.getTime() + 400 * 86_400_000).toISOString();
    lines.push([d.domain, d.verdict, d.verdict === 'dead' ? 'nxdomain' : 'mx', d.provider ?? '', mx, addr, at.toISOString(), expires, ''].join(','));
  });
  writeFileSync(file, lines.join('\n') + '\n');
}

export interface SimCarrier {
  dot: number;
  name: string;
  state: string;
  email: string;
  /** ISO dates. */
  mcs150: string;
  added: string;
  /** A mailbox that no longer exists: the MTA bounces it with 5.1.1. */
  deadMailbox: boolean;
}

const FIRST = ['j', 'm', 'r', 'd', 'k', 's', 't', 'a', 'l', 'c'];
const LAST = ['miller', 'garcia', 'nguyen', 'smith', 'patel', 'jones', 'brown', 'lopez', 'walker', 'young', 'hill', 'king'];
const NAMES = ['FREIGHT', 'HAULING', 'TRANSPORT', 'LOGISTICS', 'CARRIERS', 'TRUCKING', 'EXPRESS'];
const STATES = ['TX', 'OK', 'MN', 'MI', 'AR', 'IA', 'MO', 'KS', 'NE', 'IL'];

const addDays = (iso: string, n: number) => new Date(Date.parse(iso + 'T00:00:00Z') + n * 86_400_000).toISOString().slice(0, 10);

function weightedDomain(rng: Rng): SimDomain {
  const total = DOMAINS.reduce((n, d) => n + d.weight, 0);
  let x = rng() * total;
  for (const d of DOMAINS) if ((x -= d.weight) < 0) return d;
  return DOMAINS[0]!;
}

export function newAddress(rng: Rng, dot: number): string {
  return `${pick(rng, FIRST)}${pick(rng, LAST)}${dot % 1000}@${weightedDomain(rng).domain}`;
}

/**
 * A carrier of the census on `today`: most filed their MCS-150 years ago (overdue: the mcs150
 * segment), some filed this year (not due), and `recent` ones were added in the last weeks
 * (the new-carrier segment).
 */
export function newCarrier(rng: Rng, dot: number, today: string, recent: boolean): SimCarrier {
  const added = recent ? addDays(today, -1 - Math.floor(rng() * 20)) : addDays(today, -(1500 + Math.floor(rng() * 4000)));
  const mcs150 = recent ? added : chance(rng, 0.8) ? addDays(today, -(900 + Math.floor(rng() * 1200))) : addDays(today, -(20 + Math.floor(rng() * 120)));
  return {
    dot,
    name: `${pick(rng, LAST).toUpperCase()} ${pick(rng, NAMES)} LLC`,
    state: pick(rng, STATES),
    email: newAddress(rng, dot),
    mcs150,
    added,
    deadMailbox: chance(rng, 0.06),
  };
}

const MON = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
/** DD-MON-YY, as FMCSA writes dates. */
const fmcsaDate = (iso: string) => `${iso.slice(8, 10)}-${MON[Number(iso.slice(5, 7)) - 1]}-${iso.slice(2, 4)}`;

const HEADER =
  '"DOT_NUMBER","LEGAL_NAME","DBA_NAME","CARRIER_OPERATION","HM_FLAG","PC_FLAG","PHY_STREET","PHY_CITY","PHY_STATE","PHY_ZIP","PHY_COUNTRY","MAILING_STREET","MAILING_CITY","MAILING_STATE","MAILING_ZIP","MAILING_COUNTRY","TELEPHONE","FAX","EMAIL_ADDRESS","MCS150_DATE","MCS150_MILEAGE","MCS150_MILEAGE_YEAR","ADD_DATE","OIC_STATE","NBR_POWER_UNIT","DRIVER_TOTAL"';

/** One FMCSA_CENSUS1 26-column row, in the quoting of the real files. */
function censusRow(c: SimCarrier, i: number, upper: boolean): string {
  const street = `${100 + (i % 800)} INDUSTRIAL PKWY`;
  const email = upper ? c.email.toUpperCase() : c.email;
  const q = (s: string) => `"${s}"`;
  return [
    String(c.dot),
    q(c.name),
    q(''),
    q('A'),
    q('N'),
    q('N'),
    q(street),
    q('TULSA'),
    q(c.state),
    q('74107'),
    q('US'),
    q(street),
    q('TULSA'),
    q(c.state),
    q('74107'),
    q('US'),
    q(`806555${String(1000 + (c.dot % 9000)).padStart(4, '0')}`),
    q(''),
    q(email),
    q(fmcsaDate(c.mcs150)),
    q('120000'),
    q(c.mcs150.slice(0, 4)),
    q(fmcsaDate(c.added)),
    q(c.state),
    q(String(1 + (c.dot % 12))),
    q(String(1 + (c.dot % 14))),
  ].join(',');
}

export function writeCensusFile(dir: string, name: string, carriers: readonly SimCarrier[]): string {
  const file = path.join(dir, name);
  const lines = [HEADER, ...carriers.map((c, i) => censusRow(c, i, c.dot % 3 === 0))];
  writeFileSync(file, Buffer.from(lines.join('\r\n') + '\r\n', 'latin1'));
  return file;
}

/**
 * Next month's census: a few carriers gone (within the snapshot guard's share), some with a new
 * e-mail address, some filed their MCS-150, and new entrants.
 */
export function nextCensus(rng: Rng, carriers: readonly SimCarrier[], today: string, nextDot: () => number, maxGoneShare: number): SimCarrier[] {
  const maxGone = Math.floor(carriers.length * maxGoneShare * 0.8);
  let gone = 0;
  const out: SimCarrier[] = [];
  for (const c of carriers) {
    if (gone < maxGone && chance(rng, 0.03)) {
      gone++;
      continue;
    }
    if (chance(rng, 0.06)) out.push({ ...c, email: newAddress(rng, c.dot), deadMailbox: chance(rng, 0.06) });
    else if (chance(rng, 0.05)) out.push({ ...c, mcs150: addDays(today, -2 - Math.floor(rng() * 10)) });
    else out.push(c);
  }
  const fresh = 15 + Math.floor(rng() * 10);
  for (let i = 0; i < fresh; i++) out.push(newCarrier(rng, nextDot(), today, true));
  return out;
}
