/**
 * The census formats we accept, recognized by their header and mapped by column name (never by
 * position: FMCSA's column sets drift between years and exports, and unknown columns are ignored).
 */
import { parse } from 'csv-parse/sync';
import type { CopyEncoding } from '../db/store.ts';
import { InputError } from '../errors.ts';

export type CensusFormatId = 'fmcsa_census1' | 'fmcsa_census1_socrata' | 'company_census';

/** How a source column becomes a typed carriers column (the SQL lives in typing.ts). */
export type FieldKind = 'text' | 'raw' | 'digits' | 'int' | 'date' | 'flag' | 'xflag' | 'status';

/** carriers columns filled from the file, with their kind. */
export const FIELDS = {
  legal_name: 'text',
  dba_name: 'text',
  status: 'status',
  carrier_operation: 'text',
  hazmat: 'flag',
  passenger: 'flag',
  phy_street: 'text',
  phy_city: 'text',
  phy_state: 'text',
  phy_zip: 'text',
  phy_country: 'text',
  mail_street: 'text',
  mail_city: 'text',
  mail_state: 'text',
  mail_zip: 'text',
  mail_country: 'text',
  phone: 'digits',
  email_raw: 'raw',
  mcs150_date: 'date',
  mcs150_mileage: 'int',
  mcs150_mileage_year: 'int',
  add_date: 'date',
  power_units: 'int',
  drivers: 'int',
} as const satisfies Record<string, FieldKind>;
export type CarrierField = keyof typeof FIELDS;

/**
 * Longest value (bytes between the quotes) accepted for each text field; a longer one rejects the
 * row as `field_too_long`. A census field travels to Listmonk as a subscriber attribute: a value
 * of a million characters is an attack or a broken export, never a carrier's name. The limits are
 * twice the widths of FMCSA's own layout (L&I "Carrier" dataset definitions: legal name 120, DBA
 * name 60, street 50, city 30, state 2, country 2, ZIP 10, telephone 14), so a real value never
 * comes near them, with floors for short codes (a spelled-out country, an operation code). E-mail:
 * RFC 5321 allows 254 characters per address and filers type several in the box, so 1024. Typed
 * fields (dates, numbers, flags, status) are bounded by their typing and have no limit here.
 */
export const FIELD_MAX_BYTES: Partial<Record<CarrierField, number>> = {
  legal_name: 240,
  dba_name: 120,
  carrier_operation: 8,
  phy_street: 100,
  phy_city: 64,
  phy_state: 8,
  phy_zip: 20,
  phy_country: 32,
  mail_street: 100,
  mail_city: 64,
  mail_state: 8,
  mail_zip: 20,
  mail_country: 32,
  phone: 32,
  email_raw: 1024,
};

export interface CensusFormat {
  id: CensusFormatId;
  /** Bytes of the file; PostgreSQL COPY decodes them. */
  encoding: CopyEncoding;
  /** Source column (upper-cased header name) of each carriers field; absent fields load as null. */
  columns: Partial<Record<CarrierField, string>>;
  /** Kind overrides where a format spells a field differently (Company Census: passenger is CRGO_PASSENGERS = 'X'). */
  kinds?: Partial<Record<CarrierField, FieldKind>>;
}

const CENSUS1_COLUMNS: CensusFormat['columns'] = {
  legal_name: 'LEGAL_NAME',
  dba_name: 'DBA_NAME',
  carrier_operation: 'CARRIER_OPERATION',
  hazmat: 'HM_FLAG',
  passenger: 'PC_FLAG',
  phy_street: 'PHY_STREET',
  phy_city: 'PHY_CITY',
  phy_state: 'PHY_STATE',
  phy_zip: 'PHY_ZIP',
  phy_country: 'PHY_COUNTRY',
  mail_street: 'MAILING_STREET',
  mail_city: 'MAILING_CITY',
  mail_state: 'MAILING_STATE',
  mail_zip: 'MAILING_ZIP',
  mail_country: 'MAILING_COUNTRY',
  phone: 'TELEPHONE',
  email_raw: 'EMAIL_ADDRESS',
  mcs150_date: 'MCS150_DATE',
  mcs150_mileage: 'MCS150_MILEAGE',
  mcs150_mileage_year: 'MCS150_MILEAGE_YEAR',
  add_date: 'ADD_DATE',
  power_units: 'NBR_POWER_UNIT',
  drivers: 'DRIVER_TOTAL',
};

export const FORMATS: Record<CensusFormatId, CensusFormat> = {
  // FMCSA_CENSUS1_<YYYYMon>.txt: 26 columns until 2020, 42 since 2024; active carriers only.
  fmcsa_census1: { id: 'fmcsa_census1', encoding: 'WIN1252', columns: CENSUS1_COLUMNS },
  // Its Socrata mirror (kjg3-diqy): the same names lower-cased, true/false flags, UTF-8.
  fmcsa_census1_socrata: { id: 'fmcsa_census1_socrata', encoding: 'UTF8', columns: CENSUS1_COLUMNS },
  // Company Census File (az4n-8mr2): every MCMIS entity with STATUS_CODE A/I/P, UTF-8.
  company_census: {
    id: 'company_census',
    encoding: 'UTF8',
    columns: {
      ...CENSUS1_COLUMNS,
      status: 'STATUS_CODE',
      hazmat: 'HM_IND',
      passenger: 'CRGO_PASSENGERS',
      mail_street: 'CARRIER_MAILING_STREET',
      mail_city: 'CARRIER_MAILING_CITY',
      mail_state: 'CARRIER_MAILING_STATE',
      mail_zip: 'CARRIER_MAILING_ZIP',
      mail_country: 'CARRIER_MAILING_COUNTRY',
      phone: 'PHONE',
      power_units: 'POWER_UNITS',
      drivers: 'TOTAL_DRIVERS',
    },
    kinds: { passenger: 'xflag' },
  },
};

export interface DetectedFormat {
  format: CensusFormat;
  /** Header names as written in the file. */
  header: string[];
  /** Zero-based position of each mapped field in the file (DOT_NUMBER included). */
  positions: Partial<Record<CarrierField | 'dot_number', number>>;
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Parses the header line (BOM and CR already allowed) and recognizes the format. */
export function detectFormat(headerLine: Buffer, file: string): DetectedFormat {
  let bytes = headerLine;
  if (bytes.subarray(0, 3).equals(UTF8_BOM)) bytes = bytes.subarray(3);
  let header: string[];
  try {
    const rows = parse(bytes.toString('latin1'), { relax_column_count: false, trim: true }) as string[][];
    header = rows[0] ?? [];
  } catch (e) {
    throw new InputError(`${file}: the first line is not a CSV header (${(e as Error).message}). Pass an FMCSA census file (FMCSA_CENSUS1_*.txt, its Socrata export, or the Company Census File).`);
  }
  const upper = header.map((h) => h.toUpperCase());
  const has = (name: string) => upper.includes(name);
  if (!has('DOT_NUMBER'))
    throw new InputError(
      `${file}: no DOT_NUMBER column in the header (${header.slice(0, 6).join(', ')}${header.length > 6 ? ', ...' : ''}). Pass an FMCSA census file: FMCSA_CENSUS1_*.txt, its Socrata export (kjg3-diqy), or the Company Census File (az4n-8mr2).`,
    );
  let id: CensusFormatId;
  if (has('STATUS_CODE') && (has('POWER_UNITS') || has('HM_IND'))) id = 'company_census';
  else if (has('NBR_POWER_UNIT') || has('TELEPHONE') || has('HM_FLAG')) id = header.every((h) => h === h.toLowerCase()) ? 'fmcsa_census1_socrata' : 'fmcsa_census1';
  else
    throw new InputError(
      `${file}: the header has DOT_NUMBER but matches no known census format (FMCSA_CENSUS1 has NBR_POWER_UNIT/TELEPHONE/HM_FLAG; the Company Census File has STATUS_CODE and POWER_UNITS). Check that this is a census file.`,
    );
  const format = FORMATS[id];
  const positions: DetectedFormat['positions'] = { dot_number: upper.indexOf('DOT_NUMBER') };
  for (const [field, column] of Object.entries(format.columns) as [CarrierField, string][]) {
    const at = upper.indexOf(column);
    if (at >= 0) positions[field] = at;
  }
  if (positions.legal_name === undefined) throw new InputError(`${file}: no LEGAL_NAME column in the header. A census file without carrier names cannot be loaded.`);
  return { format, header, positions };
}

export function fieldKind(format: CensusFormat, field: CarrierField): FieldKind {
  return format.kinds?.[field] ?? FIELDS[field];
}
