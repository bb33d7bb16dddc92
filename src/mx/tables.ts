import type { ColumnType, Generated, Selectable } from 'kysely';

export type MxVerdict = 'deliverable' | 'dead' | 'unknown' | 'unresolvable';
type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** sql/0004_mx.sql. */
export interface MxDomainsTable {
  domain: string;
  verdict: MxVerdict;
  reason: string;
  provider: string | null;
  mx_hosts: ColumnType<string[], string[] | undefined, string[]>;
  mx_preferences: ColumnType<number[], number[] | undefined, number[]>;
  addresses: ColumnType<string[], string[] | undefined, string[]>;
  ttl_seconds: number | null;
  checked_at: Timestamp;
  expires_at: Timestamp;
  dead_since: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_error: string | null;
  unknown_since: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  unknown_days: Generated<number>;
  /** 'YYYY-MM-DD' (the store parses dates to strings). */
  last_unknown_day: ColumnType<string | null, string | null | undefined, string | null>;
  source: Generated<'dns' | 'import'>;
  run_id: number | null;
  updated_at: Generated<Date>;
}
export type MxDomainRow = Selectable<MxDomainsTable>;

export interface MxProviderFallbackTable {
  domain: string;
  provider: string;
}

/** A view: read only. */
export interface DomainProvidersView {
  domain: ColumnType<string, never, never>;
  provider: ColumnType<string, never, never>;
}

export interface MxTables {
  mx_domains: MxDomainsTable;
  mx_provider_fallback: MxProviderFallbackTable;
  domain_providers: DomainProvidersView;
}
