import type { ColumnType, Generated, Selectable } from 'kysely';

export type CarrierStatus = 'active' | 'inactive' | 'pending';
/** A calendar day as 'YYYY-MM-DD' (the store parses `date` columns to strings). */
export type DateString = string;

export interface CarriersTable {
  dot_number: number;
  legal_name: string | null;
  dba_name: string | null;
  status: CarrierStatus;
  carrier_operation: string | null;
  hazmat: boolean | null;
  passenger: boolean | null;
  phy_street: string | null;
  phy_city: string | null;
  phy_state: string | null;
  phy_zip: string | null;
  phy_country: string | null;
  mail_street: string | null;
  mail_city: string | null;
  mail_state: string | null;
  mail_zip: string | null;
  mail_country: string | null;
  phone: string | null;
  email_raw: string | null;
  mcs150_date: DateString | null;
  mcs150_mileage: number | null;
  mcs150_mileage_year: number | null;
  add_date: DateString | null;
  power_units: number | null;
  drivers: number | null;
  data_flags: ColumnType<string[], string[] | undefined, string[]>;
  is_test_record: ColumnType<boolean, boolean | undefined, boolean>;
  /** Digest of the loaded columns (sql/0021, src/census/row-hash.ts); null when unknown. */
  row_hash: ColumnType<number | null, number | null | undefined, number | null>;
  /** Digest of the census line the row was typed from, in its typing context (sql/0023); null when unknown. */
  line_hash: ColumnType<number | null, number | null | undefined, number | null>;
  source_format: string;
  source_file: string;
  source_line: number;
  first_run_id: number;
  changed_run_id: number;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  deactivated_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}
export type Carrier = Selectable<CarriersTable>;

export interface CensusRejectsTable {
  id: Generated<number>;
  run_id: number;
  file: string;
  line_no: number;
  reason: string;
  raw: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

/** One census file merged (sql/0012): what the freshness guard compares the next file with. */
export interface CensusLoadsTable {
  id: Generated<number>;
  run_id: number;
  file: string;
  format: string;
  sha256: string;
  bytes: number;
  rows_read: number;
  rows_accepted: number;
  newest_mcs150: DateString | null;
  newest_add_date: DateString | null;
  data_date: DateString | null;
  snapshot: boolean;
  allowed_older: ColumnType<boolean, boolean | undefined, boolean>;
  forced_snapshot: ColumnType<boolean, boolean | undefined, boolean>;
  loaded_at: ColumnType<Date, Date | string, Date | string>;
}
export type CensusLoad = Selectable<CensusLoadsTable>;

export interface CensusTables {
  carriers: CarriersTable;
  census_rejects: CensusRejectsTable;
  census_loads: CensusLoadsTable;
}
