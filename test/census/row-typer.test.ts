import { describe, expect, it } from 'vitest';
import { detectFormat, FIELD_MAX_BYTES } from '../../src/census/formats.ts';
import { RowTyper } from '../../src/census/row-typer.ts';
import { TYPED_COLUMNS } from '../../src/census/typed-columns.ts';
import { CensusScanner } from '../../src/census/scanner.ts';
import { decodeCp1252 } from '../../src/text/cp1252.ts';

const HEADER = '"DOT_NUMBER","LEGAL_NAME","DBA_NAME","TELEPHONE","EMAIL_ADDRESS","MCS150_DATE","ADD_DATE","MCS150_MILEAGE","MCS150_MILEAGE_YEAR","NBR_POWER_UNIT","DRIVER_TOTAL","HM_FLAG","PC_FLAG"';

/** Types `line` as the 2nd line of a census file with HEADER; returns the typed columns by name, or the reject. */
function typed(line: string, o: { pivot?: number; header?: string } = {}) {
  const detected = detectFormat(Buffer.from(o.header ?? HEADER), 'test.txt');
  const writer = new RowTyper({ detected, config: { absurdCount: 100_000, absurdMileage: 1_000_000_000 }, pivot: o.pivot ?? 26, year: 2026 });
  const scanner = new CensusScanner({ fieldCount: detected.header.length, dotIndex: 0, encoding: 'WIN1252', firstLine: 2, writer });
  const out = Buffer.concat([...scanner.push(Buffer.from(`${line}\n`, 'latin1')), ...scanner.end()]).toString('latin1').trimEnd();
  const values = splitCsv(out);
  expect(values).toHaveLength(TYPED_COLUMNS.length);
  const row = Object.fromEntries(TYPED_COLUMNS.map((c, i) => [c, values[i]]));
  return row;
}

/** CSV fields as COPY reads them: null (unquoted empty) vs '' (quoted empty) kept apart. */
function splitCsv(line: string): (string | null)[] {
  const out: (string | null)[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
      i++;
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      out.push(end === i ? null : line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

const row = (fields: Partial<Record<'dot' | 'name' | 'dba' | 'phone' | 'email' | 'mcs' | 'add' | 'miles' | 'year' | 'units' | 'drivers' | 'hm' | 'pc', string>>) =>
  [fields.dot ?? '7', fields.name ?? '"ACME"', fields.dba ?? '""', fields.phone ?? '""', fields.email ?? '""', fields.mcs ?? '""', fields.add ?? '""', fields.miles ?? '""', fields.year ?? '""', fields.units ?? '""', fields.drivers ?? '""', fields.hm ?? '"N"', fields.pc ?? '"N"'].join(',');

describe('RowTyper: the SQL typing rules, at byte level', () => {
  it('trims names (spaces only), keeps quotes and commas, and leaves the e-mail field as filed', () => {
    const r = typed(row({ name: '"  ACME ""BIG"", LLC  "', dba: '"   "', email: '" Ops@Acme.TEST "' }));
    expect(r).toMatchObject({ line_no: '2', dot_number: '7', legal_name: 'ACME "BIG", LLC', dba_name: null, email_raw: ' Ops@Acme.TEST ', status: 'active', reject: null, raw: null });
  });

  it('dates: DD-MON-YY through the pivot window, any case, YYYYMMDD; impossible days are rejected with the value quoted', () => {
    expect(typed(row({ mcs: '"29-feb-24"', add: '"01-JAN-27"' }))).toMatchObject({ mcs150_date: '2024-02-29', add_date: '1927-01-01' });
    expect(typed(row({ mcs: '"31-DEC-26"' }), { pivot: 30 })).toMatchObject({ mcs150_date: '2026-12-31' });
    expect(typed(row({ mcs: '"01-JAN-31"' }), { pivot: 30 })).toMatchObject({ mcs150_date: '1931-01-01' });
    expect(typed(row({ mcs: '" 20240229 "' }))).toMatchObject({ mcs150_date: '2024-02-29' });
    for (const [v, shown] of [['"29-FEB-23"', "'29-FEB-23'"], ['"1-JAN-20"', "'1-JAN-20'"], ['"18991231"', "'18991231'"], ['"O\'NEIL"', "'O''NEIL'"], ['"C:\\\\X"', "E'C:\\\\\\\\X'"]] as const) {
      const r = typed(row({ mcs: v }));
      expect(r.reject).toBe(`bad_date: MCS150_DATE ${shown}`);
      expect(r.dot_number).toBe('7');
      expect(r.raw).toContain('ACME');
    }
  });

  it('integers: surrounding whitespace allowed, 16 digits or letters rejected, blanks null', () => {
    expect(typed(row({ units: '" 12 "', drivers: '"\t3\t"', miles: '""' }))).toMatchObject({ power_units: '12', drivers: '3', mcs150_mileage: null });
    expect(typed(row({ units: '"TWELVE"' })).reject).toBe("bad_number: NBR_POWER_UNIT 'TWELVE'");
    expect(typed(row({ miles: '"1234567890123456"' })).reject).toBe("bad_number: MCS150_MILEAGE '1234567890123456'");
  });

  it('sentinels become null with data flags, in a fixed order', () => {
    const r = typed(row({ year: '"9999"', miles: '"9500000000"', units: '"100001"', drivers: '"5"' }));
    expect(r).toMatchObject({ mcs150_mileage_year: null, mcs150_mileage: null, power_units: null, drivers: '5', data_flags: '{mcs150_mileage_year_sentinel,mcs150_mileage_absurd,power_units_absurd}' });
    expect(typed(row({ year: '"0"' })).data_flags).toBe('{mcs150_mileage_year_sentinel}');
    expect(typed(row({ year: '"2024"' }))).toMatchObject({ mcs150_mileage_year: '2024', data_flags: '{}' });
  });

  it('flags: Y/N and true/false in any case; anything else is rejected; blank is null', () => {
    expect(typed(row({ hm: '" y "', pc: '"FALSE"' }))).toMatchObject({ hazmat: 't', passenger: 'f' });
    expect(typed(row({ hm: '""' })).hazmat).toBeNull();
    expect(typed(row({ hm: '"X"' })).reject).toBe("bad_flag: HM_FLAG 'X' (expected Y/N or true/false)");
  });

  it('phone keeps digits only; FMCSA test records are marked by phone, uat address, dot.gov.test or the agency name', () => {
    expect(typed(row({ phone: '"(806) 555-1001"' }))).toMatchObject({ phone: '8065551001', is_test_record: 'f' });
    expect(typed(row({ phone: '"202-555-5555"' })).is_test_record).toBe('t');
    expect(typed(row({ email: '"x; UATtester9@fmcsa.test"' })).is_test_record).toBe('t');
    expect(typed(row({ email: '"kuat@example.com"' })).is_test_record).toBe('f');
    expect(typed(row({ email: '"someone@DOT.GOV.TEST"' })).is_test_record).toBe('t');
    expect(typed(row({ name: '" federal motor carrier safety administration "' })).is_test_record).toBe('t');
  });

  it('Company Census: STATUS_CODE A/I/P and the X cargo flag', () => {
    const header = '"DOT_NUMBER","LEGAL_NAME","STATUS_CODE","POWER_UNITS","HM_IND","CRGO_PASSENGERS"';
    expect(typed('7,"A","i","1","N",""', { header })).toMatchObject({ status: 'inactive', passenger: 'f', hazmat: 'f' });
    expect(typed('7,"A","P","1","Y","x"', { header })).toMatchObject({ status: 'pending', passenger: 't' });
    expect(typed('7,"A","","1","N",""', { header }).reject).toBe("bad_status: STATUS_CODE '' (expected A, I or P)");
    expect(typed('7,"A",,"1","N",""', { header }).reject).toBe('bad_status: STATUS_CODE NULL (expected A, I or P)');
    expect(typed('7,"A","A","1","N","Y"', { header }).reject).toBe("bad_flag: CRGO_PASSENGERS 'Y' (expected X or empty)");
  });
});

describe('RowTyper: field lengths (FIELD_MAX_BYTES)', () => {
  it('rejects a text field longer than its limit as field_too_long, naming the column and the limit; a value at the limit is kept', () => {
    expect(typed(row({ name: `"${'N'.repeat(1_000_000)}"` })).reject).toMatch(/^field_too_long: LEGAL_NAME is 1000000 bytes, at most 240$/);
    expect(typed(row({ dba: `"${'D'.repeat(FIELD_MAX_BYTES.dba_name! + 1)}"` })).reject).toBe(`field_too_long: DBA_NAME is ${FIELD_MAX_BYTES.dba_name! + 1} bytes, at most ${FIELD_MAX_BYTES.dba_name}`);
    expect(typed(row({ email: `"${'a@b.co;'.repeat(200)}"` })).reject).toMatch(/^field_too_long: EMAIL_ADDRESS is 1400 bytes, at most 1024$/);
    expect(typed(row({ phone: `"${'5'.repeat(40)}"` })).reject).toMatch(/^field_too_long: TELEPHONE/);
    const longest = 'L'.repeat(FIELD_MAX_BYTES.legal_name!);
    expect(typed(row({ name: `"${longest}"` })).legal_name).toBe(longest);
  });

  it('the limits are well above the widths of FMCSA\'s own layout', () => {
    // L&I "Carrier" dataset definitions: legal name 120, DBA 60, street 50, city 30, ZIP 10, phone 14.
    const layout = { legal_name: 120, dba_name: 60, phy_street: 50, mail_street: 50, phy_city: 30, mail_city: 30, phy_zip: 10, mail_zip: 10, phone: 14 } as const;
    for (const [field, width] of Object.entries(layout)) expect(FIELD_MAX_BYTES[field as keyof typeof layout]!, field).toBeGreaterThanOrEqual(2 * width);
    expect(FIELD_MAX_BYTES.email_raw).toBeGreaterThanOrEqual(4 * 254);
  });
});

describe('decodeCp1252', () => {
  it('maps 0x80-0x9F to their Windows-1252 characters (Node 20 TextDecoder does not)', () => {
    expect(decodeCp1252(Buffer.from([0x4f, 0x92, 0x4e, 0x45, 0x49, 0x4c, 0x20, 0x80, 0x20, 0x93, 0x41, 0x94, 0x20, 0xd1]))).toBe('O\u2019NEIL \u20ac \u201cA\u201d \u00d1');
    expect(decodeCp1252(Buffer.from('plain'))).toBe('plain');
  });
});
