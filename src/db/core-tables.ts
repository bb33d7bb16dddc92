import type { ColumnType, Generated, Selectable } from 'kysely';

export type RunStatus = 'running' | 'ok' | 'failed' | 'refused' | 'abandoned';
type Json = Record<string, unknown>;

export interface RunsTable {
  id: Generated<number>;
  stage: string;
  args: ColumnType<Json, Json | string | undefined, Json | string>;
  status: ColumnType<RunStatus, RunStatus | undefined, RunStatus>;
  started_at: ColumnType<Date, Date | string | undefined, never>;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  counts: ColumnType<Json, Json | string | undefined, Json | string>;
  error: string | null;
  pid: number | null;
  host: string | null;
}
export type Run = Selectable<RunsTable>;

export interface AudienceMigrationsTable {
  id: number;
  name: string;
  checksum: string;
  applied_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface CoreTables {
  runs: RunsTable;
  audience_migrations: AudienceMigrationsTable;
}
