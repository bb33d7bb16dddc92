/** Kysely types of sql/0011_opt_outs.sql (the migration is the truth; these follow it). */
import type { ColumnType, Generated } from 'kysely';

export type OptOutKind = 'blocklisted' | 'unsubscribed';
export type OptOutSource = 'sync' | 'push';

export interface OptOutsTable {
  id: Generated<number>;
  address: string;
  kind: OptOutKind;
  list_id: number | null;
  list_name: string | null;
  subscriber_id: number | null;
  source: OptOutSource;
  seen_at: ColumnType<Date, Date | string, Date | string>;
  run_id: number;
  lifted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  lifted_by: string | null;
  lift_reason: string | null;
  lift_run_id: number | null;
}

/** sql/0018: an address we took off one of our later lists in Listmonk because it opted out. */
export interface ListUnsubscribesTable {
  ledger_id: number;
  send_date: ColumnType<string, string, string>;
  address: string;
  list_id: number;
  subscriber_id: number;
  reason: string;
  run_id: number;
  unsubscribed_at: ColumnType<Date, Date | string, Date | string>;
}

export interface OptOutTables {
  opt_outs: OptOutsTable;
  list_unsubscribes: ListUnsubscribesTable;
}
