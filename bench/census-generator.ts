/**
 * Writes a realistic FMCSA_CENSUS1 text file of any size (42 columns, every field quoted but
 * DOT_NUMBER, Windows-1252, CRLF, DD-MON-YY), deterministic for a given seed, streaming (flat
 * memory). Optionally a few quirk rows per 100k (the bad rows the ingest must reject) and a second
 * file with the same rows minus the quirks, for the `psql \copy` baseline, which stops at the
 * first bad row. Used by bench/ingest.bench.ts and the kill-and-resume test.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { mulberry32 as prng } from '../test/helpers/prng.ts';

export const CENSUS1_42_HEADER = [
  'DOT_NUMBER', 'LEGAL_NAME', 'DBA_NAME', 'CARRIER_OPERATION', 'HM_FLAG', 'PC_FLAG', 'PHY_STREET', 'PHY_CITY', 'PHY_STATE', 'PHY_ZIP',
  'PHY_COUNTRY', 'MAILING_STREET', 'MAILING_CITY', 'MAILING_STATE', 'MAILING_ZIP', 'MAILING_COUNTRY', 'TELEPHONE', 'FAX', 'EMAIL_ADDRESS',
  'MCS150_DATE', 'MCS150_MILEAGE', 'MCS150_MILEAGE_YEAR', 'ADD_DATE', 'OIC_STATE', 'NBR_POWER_UNIT', 'DRIVER_TOTAL', 'RECENT_MILEAGE',
  'RECENT_MILEAGE_YEAR', 'VMT_SOURCE_ID', 'PRIVATE_ONLY', 'AUTHORIZED_FOR_HIRE', 'EXEMPT_FOR_HIRE', 'PRIVATE_PROPERTY',
  'PRIVATE_PASSENGER_BUSINESS', 'PRIVATE_PASSENGER_NONBUSINESS', 'MIGRANT', 'US_MAIL', 'FEDERAL_GOVERNMENT', 'STATE_GOVERNMENT',
  'LOCAL_GOVERNMENT', 'INDIAN_TRIBE', 'OP_OTHER',
];

export interface GenerateOptions {
  rows: number;
  /** Quirk (bad) rows per 100,000; they replace good rows, so `rows` stays the line count. */
  badPer100k?: number;
  seed?: number;
  /** First DOT number; the rest follow with gaps, like the real numbering. */
  firstDot?: number;
  /** Also write the rows without the quirks here. */
  cleanPath?: string;
}

export interface GenerateResult {
  rows: number;
  bad: number;
  bytes: number;
}

const MON = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WORDS = ['EAGLE', 'PRAIRIE', 'SUMMIT', 'RIVER', 'LONE STAR', 'BLUE RIDGE', 'IRON', 'GOLDEN', 'FRONTIER', 'CASCADE', 'DELTA', 'HIGHWAY', 'NORTHERN', 'PIONEER', 'REDLINE', 'SILVER', 'TRIPLE J', 'MESA', 'CANYON', 'HARBOR'];
const KINDS = ['TRUCKING', 'FREIGHT', 'LOGISTICS', 'TRANSPORT', 'HAULING', 'EXPRESS', 'CARRIERS', 'CARTAGE', 'MOVING'];
const SUFFIX = ['LLC', 'INC', 'CORP', 'CO', 'LP', ''];
const PEOPLE = ['PEÑA', 'BÉLANGER', 'NUÑEZ', 'GARCÍA', 'MÜLLER', 'JOHNSON', 'SMITH', 'NGUYEN', 'PATEL', 'OBRIEN'];
const CITIES: [string, string, string][] = [
  ['AMARILLO', 'TX', '79101'], ['TULSA', 'OK', '74107'], ['BEMIDJI', 'MN', '56601'], ['KEARNEY', 'NE', '68845'], ['LAREDO', 'TX', '78040'],
  ['FRESNO', 'CA', '93701'], ['JOLIET', 'IL', '60431'], ['MEDFORD', 'NJ', '08055'], ['SAGINAW', 'MI', '48601-2210'], ['OGDEN', 'UT', '84401'],
];
const DOMAINS = ['GMAIL.COM', 'YAHOO.COM', 'EXAMPLE.COM', 'OUTLOOK.COM', 'EXAMPLE.NET', 'AOL.COM', 'HOTMAIL.COM', 'ROADRUNNER-FREIGHT.TEST'];

const q = (s: string | number) => `"${String(s).replace(/"/g, '""')}"`;

export function census1Row(dot: number, rnd: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const person = pick(PEOPLE);
  let legal = `${rnd() < 0.3 ? person + ' ' : ''}${pick(WORDS)} ${pick(KINDS)} ${pick(SUFFIX)}`.trim();
  if (rnd() < 0.01) legal = `${pick(WORDS)} "${pick(WORDS)}" ${pick(KINDS)}, ${pick(SUFFIX) || 'LLC'}`;
  const dba = rnd() < 0.27 ? `${pick(WORDS)} ${pick(KINDS)}` : '';
  const [city, state, zip] = pick(CITIES);
  const street = `${Math.floor(rnd() * 99999)} ${pick(WORDS)} ${rnd() < 0.5 ? 'RD' : 'AVE'}`;
  const phone = `${200 + Math.floor(rnd() * 799)}555${String(Math.floor(rnd() * 10000)).padStart(4, '0')}`;
  const email = rnd() < 0.76 ? `${pick(WORDS).replace(' ', '')}${Math.floor(rnd() * 1000)}@${pick(DOMAINS)}` : '';
  const date = (y0: number, y1: number) => {
    const y = y0 + Math.floor(rnd() * (y1 - y0 + 1));
    return `${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}-${pick(MON)}-${String(y % 100).padStart(2, '0')}`;
  };
  const pu = rnd() < 0.001 ? 1299987 : 1 + Math.floor(rnd() * (rnd() < 0.9 ? 5 : 200));
  const year = rnd() < 0.002 ? 9999 : 2015 + Math.floor(rnd() * 11);
  const mileage = Math.floor(rnd() * 300000);
  const yn = () => (rnd() < 0.1 ? 'Y' : 'N');
  const fields: (string | number)[] = [
    legal, dba, pick(['A', 'B', 'C', 'C']), rnd() < 0.01 ? 'Y' : 'N', rnd() < 0.02 ? 'Y' : 'N', street, city, state, zip, 'US',
    street, city, state, zip, 'US', phone, rnd() < 0.25 ? phone : '', email, rnd() < 0.08 ? '' : date(2008, 2026), mileage, year,
    date(1974, 2026), state, pu, pu + Math.floor(rnd() * 3), mileage, year, '1', yn(), yn(), yn(), yn(), yn(), yn(), yn(), yn(), yn(), yn(), yn(), yn(), 'N',
  ];
  return `${dot},${fields.map(q).join(',')}`;
}

/** The kinds of bad rows FMCSA files really have, in turn. */
function quirkRow(dot: number, rnd: () => number, i: number): string {
  const good = census1Row(dot, rnd);
  switch (i % 5) {
    case 0:
      return good.replace(/,"[^"]*"$/, ''); // a field short
    case 1:
      return good.replace(/"(\d\d)-([A-Z]{3})-(\d\d)"/, '"31-FEB-$3"'); // impossible date
    case 2:
      return good.replace(/^(\d+),"/, '$1,"BROKEN "QUOTE" '); // unescaped quotes
    case 3:
      return good.replace(/^\d+/, `${dot}X`); // bad DOT number
    default:
      return good.replace(/,"N"$/, ',"N'); // unterminated quote, swallows the line break
  }
}

async function write(out: WriteStream, s: string): Promise<void> {
  if (!out.write(s, 'latin1')) await once(out, 'drain');
}

/** Windows-1252 text as bytes: the generator only uses Latin-1 letters, which map 1:1. */
export async function generateCensus1(path: string, o: GenerateOptions): Promise<GenerateResult> {
  const rnd = prng(o.seed ?? 42);
  const out = createWriteStream(path);
  const clean = o.cleanPath ? createWriteStream(o.cleanPath) : null;
  const header = CENSUS1_42_HEADER.map(q).join(',') + '\r\n';
  await write(out, header);
  if (clean) await write(clean, header);
  const badEvery = o.badPer100k ? Math.floor(100_000 / o.badPer100k) : 0;
  let dot = o.firstDot ?? 1_000_000;
  let bad = 0;
  let bytes = header.length;
  let buf = '';
  let cleanBuf = '';
  for (let i = 1; i <= o.rows; i++) {
    dot += 1 + Math.floor(rnd() * 2);
    let line: string;
    if (badEvery && i % badEvery === 0) {
      line = quirkRow(dot, rnd, bad++);
    } else {
      line = census1Row(dot, rnd);
      cleanBuf += line + '\r\n';
    }
    buf += line + '\r\n';
    if (buf.length > 1 << 20) {
      bytes += buf.length;
      await write(out, buf);
      buf = '';
      if (clean) await write(clean, cleanBuf);
      cleanBuf = '';
    }
  }
  bytes += buf.length;
  await write(out, buf);
  out.end();
  await once(out, 'finish');
  if (clean) {
    await write(clean, cleanBuf);
    clean.end();
    await once(clean, 'finish');
  }
  return { rows: o.rows, bad, bytes };
}
