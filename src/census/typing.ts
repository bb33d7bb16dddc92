/**
 * Set-based typing of one staged census file: text columns f1..fN become the carriers columns
 * (dates, integers, flags, status, digits-only phone), sentinels become null with a data flag, FMCSA
 * test records are marked, and every row whose value cannot be typed gets a reject reason.
 * Reason codes added here: bad_date, bad_number, bad_flag, bad_status (after the scanner's
 * field_count, bad_dot_number, broken_quoting, undecodable_bytes), and duplicate_dot_number.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { CensusConfig } from './config.ts';
import { FIELDS, fieldKind, type CarrierField, type DetectedFormat } from './formats.ts';

/** Columns of the typed table that are copied into carriers, in order. */
export const CARRIER_VALUE_COLUMNS = [...(Object.keys(FIELDS) as CarrierField[]), 'data_flags', 'is_test_record'] as const;

export interface TypingOptions {
  staging: string;
  typed: string;
  /** The run's date lookup table (createDateKeys). */
  dates: string;
  detected: DetectedFormat;
  config: Pick<CensusConfig, 'absurdCount' | 'absurdMileage'>;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
export const stagingColumn = (position: number) => `f${position + 1}`;

/** Builds `create unlogged table <typed> as select ...` over the good rows of the staging table. */
export function typingSql(o: TypingOptions): string {
  const { format, positions, header } = o.detected;
  const inner: string[] = [`s.*`, `btrim(${stagingColumn(positions.dot_number!)})::bigint as dot_number`];
  const checks: string[] = [];
  const joins: string[] = [];
  for (const field of Object.keys(FIELDS) as CarrierField[]) {
    const pos = positions[field];
    const kind = fieldKind(format, field);
    if (pos === undefined) {
      inner.push(`${kind === 'status' ? `'active'::text` : kind === 'text' || kind === 'raw' || kind === 'digits' ? 'null::text' : kind === 'date' ? 'null::date' : kind === 'int' ? 'null::bigint' : 'null::boolean'} as v_${field}`);
      continue;
    }
    const f = stagingColumn(pos);
    const col = header[pos]!;
    const given = `(${f} is not null and btrim(${f}) <> '')`;
    switch (kind) {
      case 'text':
        inner.push(`nullif(btrim(${f}), '') as v_${field}`);
        break;
      case 'raw':
        // As filed: the e-mail stage normalizes it and must see the original spelling.
        inner.push(`nullif(${f}, '') as v_${field}`);
        break;
      case 'digits':
        inner.push(`nullif(case when ${f} ~ '^\\d*$' then ${f} else regexp_replace(${f}, '\\D', '', 'g') end, '') as v_${field}`);
        break;
      case 'int':
        inner.push(`case when ${f} ~ '^\\d{1,15}$' then ${f}::bigint when ${f} ~ '^\\s*\\d{1,15}\\s*$' then btrim(${f})::bigint end as v_${field}`);
        checks.push(`when ${given} and v_${field} is null then format('bad_number: %s %L', ${lit(col)}, ${f})`);
        break;
      case 'date': {
        const alias = `d${joins.length}`;
        joins.push(`left join ${o.dates} ${alias} on ${alias}.k = ${dateKey(f)}`);
        inner.push(`${alias}.d as v_${field}`);
        checks.push(`when ${given} and v_${field} is null then format('bad_date: %s %L', ${lit(col)}, ${f})`);
        break;
      }
      case 'flag':
        inner.push(`case lower(btrim(${f})) when 'y' then true when 'true' then true when 'n' then false when 'false' then false end as v_${field}`);
        checks.push(`when ${given} and v_${field} is null then format('bad_flag: %s %L (expected Y/N or true/false)', ${lit(col)}, ${f})`);
        break;
      case 'xflag':
        inner.push(`case upper(btrim(coalesce(${f}, ''))) when 'X' then true when '' then false end as v_${field}`);
        checks.push(`when v_${field} is null then format('bad_flag: %s %L (expected X or empty)', ${lit(col)}, ${f})`);
        break;
      case 'status':
        inner.push(`case upper(btrim(${f})) when 'A' then 'active' when 'I' then 'inactive' when 'P' then 'pending' end as v_${field}`);
        checks.push(`when v_${field} is null then format('bad_status: %s %L (expected A, I or P)', ${lit(col)}, ${f})`);
        break;
    }
  }
  const fieldCount = header.length;
  const rawRow = Array.from({ length: fieldCount }, (_, i) => `coalesce('"' || replace(f${i + 1}, '"', '""') || '"', '')`).join(', ');
  const absurd = o.config.absurdCount;
  const yearSentinel = `(v_mcs150_mileage_year in (0, 9999) or v_mcs150_mileage_year not between 1900 and 2100)`;
  const typedColumns = (Object.keys(FIELDS) as CarrierField[]).map((f) => {
    switch (f) {
      case 'mcs150_mileage_year':
        return `case when ${yearSentinel} then null else v_${f} end::integer as ${f}`;
      case 'mcs150_mileage':
        return `case when v_${f} > ${o.config.absurdMileage} then null else v_${f} end as ${f}`;
      case 'power_units':
      case 'drivers':
        return `case when v_${f} > ${absurd} then null else v_${f} end::integer as ${f}`;
      default:
        return `v_${f} as ${f}`;
    }
  });
  const flags = [
    `case when ${yearSentinel} then 'mcs150_mileage_year_sentinel' end`,
    `case when v_mcs150_mileage > ${o.config.absurdMileage} then 'mcs150_mileage_absurd' end`,
    `case when v_power_units > ${absurd} then 'power_units_absurd' end`,
    `case when v_drivers > ${absurd} then 'drivers_absurd' end`,
  ];
  // FMCSA's own test records (research/fmcsa.md §2.7): never mailed by any later stage.
  // The cheap ILIKE runs first so the regular expressions only see the few candidate rows.
  const testRecord = `(coalesce(v_phone = '2025555555', false)
      or coalesce(v_email_raw ilike '%uat%' and v_email_raw ~* '(^|[^a-z0-9._%+-])uat[a-z0-9._%+-]*@', false)
      or coalesce(v_email_raw ilike '%@dot.gov.test%', false)
      or coalesce(upper(v_legal_name) = 'FEDERAL MOTOR CARRIER SAFETY ADMINISTRATION', false))`;
  return `create unlogged table ${o.typed} as
with i as (
  -- offset 0 keeps this a subquery: each typed value is computed once, not once per reference.
  select ${inner.join(',\n    ')}
  from ${o.staging} s
  ${joins.join('\n  ')}
  where s.reject is null
  offset 0
), o as (
  select line_no, dot_number,
    ${typedColumns.join(',\n    ')},
    array_remove(array[${flags.join(', ')}], null)::text[] as data_flags,
    ${testRecord} as is_test_record,
    ${checks.length ? `case ${checks.join('\n      ')} end` : 'null::text'} as reject,
    ${rawRow.length ? `array_to_string(array[${rawRow}], ',')` : `''`} as raw_row
  from i
)
select line_no, dot_number, ${CARRIER_VALUE_COLUMNS.join(', ')},
  reject,
  case when reject is not null then raw_row end as raw
from o`;
}

/** Lookup key of a date field: the text upper-cased, a Company Census " HHMM" suffix dropped. */
function dateKey(f: string): string {
  return `case when length(${f}) = 13 and substr(${f}, 9, 1) = ' ' then left(${f}, 8) else upper(btrim(${f})) end`;
}

/**
 * Every valid date key a census may hold, with its day: DD-MON-YY for the hundred years the pivot
 * gives (YY <= pivot is 20YY), and YYYYMMDD from 1900 to 2099. Typing joins on it, which is far
 * cheaper per row than parsing text in SQL and cannot raise an error: a text absent from it (31-FEB-20,
 * 15-XYZ-19) is simply unparseable.
 */
export async function createDateKeys(db: Kysely<Database>, table: string, pivot: number, centuryOf: number): Promise<void> {
  const century = Math.floor(centuryOf / 100) * 100;
  const first = century - 100 + pivot + 1;
  await sql.raw(`create unlogged table ${table} (k text primary key, d date not null)`).execute(db);
  await sql`
    insert into ${sql.table(table)} (k, d)
    select upper(to_char(d, 'DD-MON-YY')), d::date
      from generate_series(make_date(${first}, 1, 1), make_date(${first + 99}, 12, 31), interval '1 day') d
    union all
    select to_char(d, 'YYYYMMDD'), d::date
      from generate_series(make_date(1900, 1, 1), make_date(2099, 12, 31), interval '1 day') d`.execute(db);
  await sql.raw(`analyze ${table}`).execute(db);
}

/** Types the staged rows; then, among DOT numbers the scanner saw twice, the last good line wins. */
export async function typeStagedFile(db: Kysely<Database>, o: TypingOptions, duplicateDots: Iterable<number>): Promise<void> {
  await sql.raw(typingSql(o)).execute(db);
  // Statistics for the merge's join with carriers (a CTAS leaves the table unanalyzed).
  await sql.raw(`analyze ${o.typed}`).execute(db);
  const dups = [...duplicateDots];
  if (!dups.length) return;
  await sql`
    with w as (
      select x.dot_number, max(x.line_no) as last_line
        from ${sql.table(o.typed)} x join unnest(${dups}::bigint[]) d(dot) on x.dot_number = d.dot
       where x.reject is null
       group by x.dot_number
    ), l as (
      select t.line_no, w.last_line
        from ${sql.table(o.typed)} t join w on w.dot_number = t.dot_number
       where t.reject is null and t.line_no < w.last_line
    )
    update ${sql.table(o.typed)} t
       set reject = 'duplicate_dot_number: superseded by line ' || l.last_line,
           raw = array_to_string(array[${sql.raw(rawColumns(o.detected.header.length))}], ',')
      from l join ${sql.table(o.staging)} s on s.line_no = l.line_no
     where t.line_no = l.line_no`.execute(db);
}

function rawColumns(n: number): string {
  return Array.from({ length: n }, (_, i) => `coalesce('"' || replace(s.f${i + 1}, '"', '""') || '"', '')`).join(', ');
}
