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
  /**
   * Next month's file of the same census: the same rows (same seed and options) but for shares
   * `gone` left out, `changed` written anew (other values, e-mail included), and `added` new
   * carriers after the last DOT number. Decided by a PRNG of `seed` of its own.
   */
  refresh?: { seed: number; changed: number; added: number; gone: number };
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

/**
 * An e-mail field as filers type it: mostly one address of its own (about 1.5M distinct among 2.1M
 * rows, as in the real file), some shared by many carriers (a filing agent's), and about 0.5%
 * malformed or several in one box, so the normalizer's slow paths are timed too.
 */
function censusEmail(rnd: () => number, pick: <T>(xs: readonly T[]) => T): string {
  const r = rnd();
  const mailbox = `${pick(WORDS).replace(' ', '')}${Math.floor(rnd() * 1_000_000)}`;
  if (r < 0.03) return `COMPLIANCE${Math.floor(rnd() * 2000)}@FILING-AGENT.TEST`;
  if (r < 0.031) return `${mailbox}${pick(DOMAINS)}`; // the @ forgotten
  if (r < 0.032) return `${mailbox}@${pick(DOMAINS)}; OFFICE${Math.floor(rnd() * 1000)}@${pick(DOMAINS)}`;
  if (r < 0.033) return `${pick(PEOPLE)} <${mailbox}@${pick(DOMAINS)}>`;
  if (r < 0.034) return `mailto:${mailbox}@${pick(DOMAINS)}.`;
  if (r < 0.035) return `${mailbox}@GMAIL.CON`;
  return `${mailbox}@${pick(DOMAINS)}`;
}

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
  const email = rnd() < 0.76 ? censusEmail(rnd, pick) : '';
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

/** Windows-1252 text as bytes: the generator only uses Latin-1 letters, which map 1:1. */
export async function generateCensus1(path: string, o: GenerateOptions): Promise<GenerateResult> {
  return generateRows(path, o, CENSUS1_42_HEADER.map(q).join(',') + '\r\n', census1Row, quirkRow, 'latin1');
}

/** The Company Census File's 147 columns in FMCSA's order (data-samples/census/Company_Census_File_sample.csv). */
export const COMPANY_CENSUS_HEADER = [
  'MCS150_DATE', 'ADD_DATE', 'STATUS_CODE', 'DOT_NUMBER', 'DUN_BRADSTREET_NO', 'PHY_OMC_REGION', 'SAFETY_INV_TERR', 'CARRIER_OPERATION', 'BUSINESS_ORG_ID',
  'MCS150_MILEAGE', 'MCS150_MILEAGE_YEAR', 'MCS151_MILEAGE', 'TOTAL_CARS', 'MCS150_UPDATE_CODE_ID', 'PRIOR_REVOKE_FLAG', 'PRIOR_REVOKE_DOT_NUMBER', 'PHONE',
  'FAX', 'CELL_PHONE', 'COMPANY_OFFICER_1', 'COMPANY_OFFICER_2', 'BUSINESS_ORG_DESC', 'TRUCK_UNITS', 'POWER_UNITS', 'BUS_UNITS', 'FLEETSIZE', 'REVIEW_ID',
  'RECORDABLE_CRASH_RATE', 'MAIL_NATIONALITY_INDICATOR', 'PHY_NATIONALITY_INDICATOR', 'PHY_BARRIO', 'MAIL_BARRIO', 'CARSHIP', 'DOCKET1PREFIX', 'DOCKET1',
  'DOCKET2PREFIX', 'DOCKET2', 'DOCKET3PREFIX', 'DOCKET3', 'POINTNUM', 'TOTAL_INTRASTATE_DRIVERS', 'MCSIPSTEP', 'MCSIPDATE', 'HM_Ind',
  'INTERSTATE_BEYOND_100_MILES', 'INTERSTATE_WITHIN_100_MILES', 'INTRASTATE_BEYOND_100_MILES', 'INTRASTATE_WITHIN_100_MILES', 'TOTAL_CDL', 'TOTAL_DRIVERS',
  'AVG_DRIVERS_LEASED_PER_MONTH', 'CLASSDEF', 'LEGAL_NAME', 'DBA_NAME', 'PHY_STREET', 'PHY_CITY', 'PHY_COUNTRY', 'PHY_STATE', 'PHY_ZIP', 'PHY_CNTY',
  'CARRIER_MAILING_STREET', 'CARRIER_MAILING_STATE', 'CARRIER_MAILING_CITY', 'CARRIER_MAILING_COUNTRY', 'CARRIER_MAILING_ZIP', 'CARRIER_MAILING_CNTY',
  'CARRIER_MAILING_UND_DATE', 'DRIVER_INTER_TOTAL', 'EMAIL_ADDRESS', 'REVIEW_TYPE', 'REVIEW_DATE', 'SAFETY_RATING', 'SAFETY_RATING_DATE', 'UNDELIV_PHY',
  'CRGO_GENFREIGHT', 'CRGO_HOUSEHOLD', 'CRGO_METALSHEET', 'CRGO_MOTOVEH', 'CRGO_DRIVETOW', 'CRGO_LOGPOLE', 'CRGO_BLDGMAT', 'CRGO_MOBILEHOME', 'CRGO_MACHLRG',
  'CRGO_PRODUCE', 'CRGO_LIQGAS', 'CRGO_INTERMODAL', 'CRGO_PASSENGERS', 'CRGO_OILFIELD', 'CRGO_LIVESTOCK', 'CRGO_GRAINFEED', 'CRGO_COALCOKE', 'CRGO_MEAT',
  'CRGO_GARBAGE', 'CRGO_USMAIL', 'CRGO_CHEM', 'CRGO_DRYBULK', 'CRGO_COLDFOOD', 'CRGO_BEVERAGES', 'CRGO_PAPERPROD', 'CRGO_UTILITY', 'CRGO_FARMSUPP',
  'CRGO_CONSTRUCT', 'CRGO_WATERWELL', 'CRGO_CARGOOTHR', 'CRGO_CARGOOTHR_DESC', 'OWNTRUCK', 'OWNTRACT', 'OWNTRAIL', 'OWNCOACH', 'OWNSCHOOL_1_8',
  'OWNSCHOOL_9_15', 'OWNSCHOOL_16', 'OWNBUS_16', 'OWNVAN_1_8', 'OWNVAN_9_15', 'OWNLIMO_1_8', 'OWNLIMO_9_15', 'OWNLIMO_16', 'TRMTRUCK', 'TRMTRACT', 'TRMTRAIL',
  'TRMCOACH', 'TRMSCHOOL_1_8', 'TRMSCHOOL_9_15', 'TRMSCHOOL_16', 'TRMBUS_16', 'TRMVAN_1_8', 'TRMVAN_9_15', 'TRMLIMO_1_8', 'TRMLIMO_9_15', 'TRMLIMO_16',
  'TRPTRUCK', 'TRPTRACT', 'TRPTRAIL', 'TRPCOACH', 'TRPSCHOOL_1_8', 'TRPSCHOOL_9_15', 'TRPSCHOOL_16', 'TRPBUS_16', 'TRPVAN_1_8', 'TRPVAN_9_15', 'TRPLIMO_1_8',
  'TRPLIMO_9_15', 'TRPLIMO_16', 'DOCKET1_STATUS_CODE', 'DOCKET2_STATUS_CODE', 'DOCKET3_STATUS_CODE',
];

const COL = new Map(COMPANY_CENSUS_HEADER.map((c, i) => [c, i]));
const CARGO = COMPANY_CENSUS_HEADER.filter((c) => c.startsWith('CRGO_') && c !== 'CRGO_CARGOOTHR_DESC');
const csvField = (s: string) => (/[",\r\n]/.test(s) ? q(s) : s);

/**
 * One Company Census row as FMCSA ships it (UTF-8, fields quoted only when they must be,
 * YYYYMMDD dates, some with " HHMM", STATUS_CODE A/I/P; about 450 bytes, as the 2 GB file of 4.4M rows).
 */
export function companyCensusRow(dot: number, rnd: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const v: string[] = new Array<string>(COMPANY_CENSUS_HEADER.length).fill('');
  const set = (c: string, x: string | number) => (v[COL.get(c)!] = csvField(String(x)));
  const ymd = (y0: number, y1: number) => {
    const y = y0 + Math.floor(rnd() * (y1 - y0 + 1));
    return `${y}${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`;
  };
  const status = rnd() < 0.45 ? 'A' : rnd() < 0.9 ? 'I' : 'P';
  const [city, state, zip] = pick(CITIES);
  const street = `${Math.floor(rnd() * 99999)} ${pick(WORDS)} ${rnd() < 0.5 ? 'RD' : 'AVE'}`;
  const pu = rnd() < 0.001 ? 1299987 : 1 + Math.floor(rnd() * (rnd() < 0.9 ? 5 : 200));
  const drivers = pu + Math.floor(rnd() * 3);
  const phone = `${200 + Math.floor(rnd() * 799)}555${String(Math.floor(rnd() * 10000)).padStart(4, '0')}`;
  set('MCS150_DATE', rnd() < 0.08 ? '' : ymd(2008, 2026) + (rnd() < 0.4 ? ' 0000' : ''));
  set('ADD_DATE', ymd(1974, 2026));
  set('STATUS_CODE', status);
  set('DOT_NUMBER', dot);
  set('PHY_OMC_REGION', 1 + Math.floor(rnd() * 4));
  set('SAFETY_INV_TERR', state);
  set('CARRIER_OPERATION', pick(['A', 'B', 'C', 'C']));
  set('BUSINESS_ORG_ID', 1 + Math.floor(rnd() * 3));
  set('MCS150_MILEAGE', Math.floor(rnd() * 300000));
  set('MCS150_MILEAGE_YEAR', rnd() < 0.002 ? 9999 : 2015 + Math.floor(rnd() * 11));
  set('PHONE', phone);
  if (rnd() < 0.25) set('FAX', phone);
  if (rnd() < 0.3) set('CELL_PHONE', `${200 + Math.floor(rnd() * 799)}555${String(Math.floor(rnd() * 10000)).padStart(4, '0')}`);
  set('COMPANY_OFFICER_1', `${pick(PEOPLE)} ${pick(PEOPLE)}`);
  if (rnd() < 0.3) set('COMPANY_OFFICER_2', `${pick(PEOPLE)} ${pick(PEOPLE)}`);
  set('BUSINESS_ORG_DESC', pick(['CORPORATION', 'SOLE PROPRIETORSHIP', 'LIMITED LIABILITY COMPANY', 'PARTNERSHIP']));
  set('TRUCK_UNITS', pu);
  set('POWER_UNITS', pu);
  set('BUS_UNITS', 0);
  set('FLEETSIZE', pick(['A', 'B', 'C', 'D', 'E', 'K']));
  set('MAIL_NATIONALITY_INDICATOR', 'U');
  set('PHY_NATIONALITY_INDICATOR', 'U');
  set('DOCKET1PREFIX', 'MC');
  set('DOCKET1', Math.floor(rnd() * 1_500_000));
  set('HM_Ind', rnd() < 0.01 ? 'Y' : 'N');
  set('INTERSTATE_BEYOND_100_MILES', drivers);
  set('TOTAL_CDL', drivers);
  set('TOTAL_DRIVERS', drivers);
  set('CLASSDEF', pick(['AUTHORIZED FOR HIRE', 'PRIVATE PROPERTY', 'EXEMPT FOR HIRE', 'AUTHORIZED FOR HIRE;PRIVATE PROPERTY']));
  let legal = `${rnd() < 0.3 ? pick(PEOPLE) + ' ' : ''}${pick(WORDS)} ${pick(KINDS)} ${pick(SUFFIX)}`.trim();
  if (rnd() < 0.01) legal = `${pick(WORDS)} "${pick(WORDS)}" ${pick(KINDS)}, ${pick(SUFFIX) || 'LLC'}`;
  set('LEGAL_NAME', legal);
  if (rnd() < 0.27) set('DBA_NAME', `${pick(WORDS)} ${pick(KINDS)}`);
  set('PHY_STREET', street);
  set('PHY_CITY', city);
  set('PHY_COUNTRY', 'US');
  set('PHY_STATE', state);
  set('PHY_ZIP', zip);
  set('PHY_CNTY', String(1 + Math.floor(rnd() * 200)).padStart(3, '0'));
  set('CARRIER_MAILING_STREET', street);
  set('CARRIER_MAILING_STATE', state);
  set('CARRIER_MAILING_CITY', city);
  set('CARRIER_MAILING_COUNTRY', 'US');
  set('CARRIER_MAILING_ZIP', zip);
  set('CARRIER_MAILING_CNTY', String(1 + Math.floor(rnd() * 200)).padStart(3, '0'));
  set('DRIVER_INTER_TOTAL', drivers);
  if (rnd() < 0.68) set('EMAIL_ADDRESS', censusEmail(rnd, pick).toLowerCase());
  if (rnd() < 0.2) {
    set('REVIEW_TYPE', 'C');
    set('REVIEW_DATE', ymd(1995, 2025));
    set('SAFETY_RATING', pick(['S', 'C', 'U']));
    set('SAFETY_RATING_DATE', ymd(1995, 2025));
  }
  for (const c of CARGO) if (rnd() < 0.12) set(c, 'X');
  set('OWNTRUCK', Math.floor(pu / 2));
  set('OWNTRACT', pu - Math.floor(pu / 2));
  set('OWNTRAIL', pu);
  set('DOCKET1_STATUS_CODE', status === 'I' ? 'I' : 'A');
  return v.join(',');
}

/** The kinds of bad rows of a Company Census File, in turn. */
function companyQuirkRow(dot: number, rnd: () => number, i: number): string {
  const good = companyCensusRow(dot, rnd);
  switch (i % 4) {
    case 0:
      return good.replace(/,[^,]*$/, ''); // a field short
    case 1:
      return good.replace(/^\d{8}/, '20250231'); // impossible date
    case 2:
      return good.replace(`,${dot},`, `,${dot}X,`); // bad DOT number
    default:
      return good.replace(/^([^,]*,[^,]*,)[AIP],/, '$1Z,'); // unknown status
  }
}

/** A Company Census File (UTF-8 with its BOM, CRLF), deterministic and streaming, like generateCensus1. */
export async function generateCompanyCensus(path: string, o: GenerateOptions): Promise<GenerateResult> {
  return generateRows(path, o, '\ufeff' + COMPANY_CENSUS_HEADER.join(',') + '\r\n', companyCensusRow, companyQuirkRow, 'utf8');
}

async function generateRows(
  path: string,
  o: GenerateOptions,
  header: string,
  row: (dot: number, rnd: () => number) => string,
  quirk: (dot: number, rnd: () => number, i: number) => string,
  encoding: BufferEncoding,
): Promise<GenerateResult> {
  const rnd = prng(o.seed ?? 42);
  const out = createWriteStream(path);
  const clean = o.cleanPath ? createWriteStream(o.cleanPath) : null;
  const put = async (w: WriteStream, s: string) => {
    if (!w.write(s, encoding)) await once(w, 'drain');
  };
  await put(out, header);
  if (clean) await put(clean, header);
  const badEvery = o.badPer100k ? Math.floor(100_000 / o.badPer100k) : 0;
  let dot = o.firstDot ?? 1_000_000;
  let bad = 0;
  let bytes = Buffer.byteLength(header, encoding);
  let buf = '';
  let cleanBuf = '';
  const month = o.refresh ? prng(o.refresh.seed) : null;
  const { changed = 0, added = 0, gone = 0 } = o.refresh ?? {};
  const total = o.rows + Math.round(o.rows * added);
  for (let i = 1; i <= total; i++) {
    dot += 1 + Math.floor(rnd() * 2);
    let line: string;
    if (i <= o.rows && badEvery && i % badEvery === 0) line = quirk(dot, rnd, bad++);
    else {
      line = row(dot, rnd);
      if (month && i <= o.rows) {
        const fate = month();
        if (fate < gone) continue;
        if (fate < gone + changed) line = row(dot, month);
      }
      cleanBuf += line + '\r\n';
    }
    buf += line + '\r\n';
    if (buf.length > 1 << 20) {
      bytes += Buffer.byteLength(buf, encoding);
      await put(out, buf);
      buf = '';
      if (clean) await put(clean, cleanBuf);
      cleanBuf = '';
    }
  }
  bytes += Buffer.byteLength(buf, encoding);
  await put(out, buf);
  out.end();
  await once(out, 'finish');
  if (clean) {
    await put(clean, cleanBuf);
    clean.end();
    await once(clean, 'finish');
  }
  return { rows: total, bad, bytes };
}
