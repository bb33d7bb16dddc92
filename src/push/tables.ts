import type { ColumnType, Generated } from 'kysely';
import type { DateString } from '../census/tables.ts';

/** sql/0006_build.sql; `released` from sql/0012_push_releases.sql. */
export type PushStatus = 'reserved' | 'pushed' | 'failed' | 'released';

export interface PushLedgerTable {
  id: Generated<number>;
  send_date: DateString;
  segment: string;
  address: string;
  email_id: number;
  dot_number: number;
  provider: string | null;
  rank: number;
  note: string | null;
  status: ColumnType<PushStatus, PushStatus | undefined, PushStatus>;
  outcome: string | null;
  error: string | null;
  run_id: number;
  push_run_id: number | null;
  list_id: number | null;
  subscriber_id: number | null;
  reserved_at: ColumnType<Date, Date | string | undefined, Date | string>;
  pushed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The first run that sent, or may have sent, the address to Listmonk (0012). */
  attempt_run_id: ColumnType<number | null, number | null | undefined, number | null>;
}

/** sql/0012_push_releases.sql (`excluded` from 0018): why a reservation stopped counting, with its evidence. */
export type ReleaseReason = 'config_error' | 'never_sent' | 'absent_from_list' | 'excluded';

export interface PushReleasesTable {
  id: Generated<number>;
  ledger_id: number;
  send_date: DateString;
  segment: string;
  address: string;
  reason: ReleaseReason;
  evidence: ColumnType<Record<string, unknown>, string, string>;
  reserved_run_id: number;
  run_id: number;
  released_at: ColumnType<Date, Date | string, Date | string>;
}

export interface BuildListsTable {
  send_date: DateString;
  segment: string;
  list_id: number;
  list_name: string;
  campaign_id: number | null;
  campaign_name: string | null;
  campaign_send_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ListmonkBlocklistSyncTable {
  address: string;
  subscriber_id: number;
  run_id: number;
  synced_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface BuildTables {
  push_ledger: PushLedgerTable;
  push_releases: PushReleasesTable;
  build_lists: BuildListsTable;
  listmonk_blocklist_sync: ListmonkBlocklistSyncTable;
}
