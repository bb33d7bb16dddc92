/**
 * The typed scratch table the census scan COPies into (staging.ts creates it) and the carriers
 * columns it feeds (merge.ts, first-load.ts): its columns in the order the scanner and the row
 * typer (row-typer.ts) write them, with carriers' own SQL types. After the values, their digest
 * (row_hash) and the line's (line_hash, both row-hash.ts), which carriers keeps too but which are
 * no values of the census.
 */
import { FIELDS, type CarrierField } from './formats.ts';

/** Columns of the typed table that are copied into carriers, in order. */
export const CARRIER_VALUE_COLUMNS = [...(Object.keys(FIELDS) as CarrierField[]), 'data_flags', 'is_test_record'] as const;

/** Columns of the typed scratch table (the COPY target), in the order the scanner writes them. */
export const TYPED_COLUMNS = ['line_no', 'dot_number', ...CARRIER_VALUE_COLUMNS, 'row_hash', 'line_hash', 'reject', 'raw'] as const;

/** SQL type of each typed column (carriers' own types). */
export function typedColumnType(column: (typeof TYPED_COLUMNS)[number]): string {
  switch (column) {
    case 'line_no':
    case 'dot_number':
    case 'row_hash':
    case 'line_hash':
      return 'bigint';
    case 'data_flags':
      return 'text[]';
    case 'is_test_record':
      return 'boolean';
    case 'reject':
    case 'raw':
      return 'text';
    case 'mcs150_mileage_year':
    case 'power_units':
    case 'drivers':
      return 'integer';
    default:
      return { text: 'text', raw: 'text', digits: 'text', status: 'text', flag: 'boolean', xflag: 'boolean', date: 'date', int: 'bigint' }[FIELDS[column]];
  }
}
