import type { ColumnType, Generated, Selectable } from 'kysely';

/** sql/0003_emails.sql. Column names are a contract with MX (#5) and the build (#6). */
export interface EmailsTable {
  id: Generated<number>;
  /** Normalized address (lower case, IDNA ASCII domain); for invalid tokens the cleaned token. */
  address: string;
  local_part: string | null;
  domain: string | null;
  valid: boolean;
  carrier_count: ColumnType<number, number | undefined, number>;
  normalizer_version: number;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}
export type Email = Selectable<EmailsTable>;

export interface CarrierEmailsTable {
  dot_number: number;
  email_id: number;
  /** Order of the address in the carrier's e-mail field, from 1. */
  position: number;
}

export interface EmailReasonsTable {
  email_id: number;
  /** invalid_syntax | typo_domain (the verdicts computed at normalization). */
  code: string;
  detail: string;
  since: ColumnType<Date, Date | string, Date | string>;
}

export interface EmailSourcesTable {
  dot_number: number;
  email_raw: string | null;
  normalizer_version: number;
  run_id: number;
  normalized_at: ColumnType<Date, Date | string, Date | string>;
}

export interface EmailTables {
  emails: EmailsTable;
  carrier_emails: CarrierEmailsTable;
  email_reasons: EmailReasonsTable;
  email_sources: EmailSourcesTable;
}
