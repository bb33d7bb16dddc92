import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/census/formats.ts';
import { openCensusFile, splitHeader } from '../../src/census/input.ts';
import { InputError } from '../../src/errors.ts';
import { describeWithSamples, REPO_ROOT, samplePath } from '../helpers/samples.ts';

const sample = (f: string) => path.join(REPO_ROOT, 'data-samples/census', f);
const fixture = (f: string) => path.join(REPO_ROOT, 'test/fixtures/census', f);
const firstLine = (file: string) => readFileSync(file).subarray(0, readFileSync(file).indexOf(0x0a)).toString('latin1').replace(/\r$/, '');

async function readAll(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c);
  return Buffer.concat(parts);
}

describe('census format detection by header', () => {
  it('FMCSA_CENSUS1 text, 42 and 26 columns: Windows-1252, columns found by name', () => {
    const d42 = detectFormat(Buffer.from(firstLine(sample('FMCSA_CENSUS1_2026Nov.txt'))), 'x');
    expect(d42.format.id).toBe('fmcsa_census1');
    expect(d42.format.encoding).toBe('WIN1252');
    expect(d42.header).toHaveLength(42);
    expect(d42.positions).toMatchObject({ dot_number: 0, legal_name: 1, hazmat: 4, phone: 16, email_raw: 18, power_units: 24, drivers: 25 });
    const d26 = detectFormat(Buffer.from(firstLine(sample('FMCSA_CENSUS1_2020Aug_26col.txt'))), 'x');
    expect(d26.format.id).toBe('fmcsa_census1');
    expect(d26.header).toHaveLength(26);
  });

  it('the Socrata export: lower-case names, fax moved last, UTF-8', () => {
    const d = detectFormat(Buffer.from(firstLine(sample('kjg3-diqy_socrata_export.csv'))), 'x');
    expect(d.format.id).toBe('fmcsa_census1_socrata');
    expect(d.format.encoding).toBe('UTF8');
    expect(d.positions.email_raw).toBe(17);
  });

  it('the Company Census File: BOM, 147 columns, HM_Ind, CARRIER_MAILING_*, STATUS_CODE', () => {
    const d = detectFormat(Buffer.from(firstLine(sample('Company_Census_File_sample.csv')), 'latin1'), 'x');
    expect(d.format.id).toBe('company_census');
    expect(d.header).toHaveLength(147);
    expect(d.header[0]).toBe('MCS150_DATE');
    expect(d.positions).toMatchObject({ dot_number: 3, status: 2, hazmat: 43 });
    expect(d.header[d.positions.mail_city!]).toBe('CARRIER_MAILING_CITY');
  });

  it('unknown columns are ignored and order does not matter', () => {
    const d = detectFormat(Buffer.from('"EXTRA","LEGAL_NAME","DOT_NUMBER","NBR_POWER_UNIT"'), 'x');
    expect(d.positions).toMatchObject({ dot_number: 2, legal_name: 1, power_units: 3 });
    expect(d.positions.email_raw).toBeUndefined();
  });

  it('refuses files that are not a census, saying what to pass', () => {
    expect(() => detectFormat(Buffer.from('name,email'), 'people.csv')).toThrow(InputError);
    expect(() => detectFormat(Buffer.from('name,email'), 'people.csv')).toThrow(/no DOT_NUMBER column.*Pass an FMCSA census file/);
    expect(() => detectFormat(Buffer.from('DOT_NUMBER,FOO'), 'x')).toThrow(/matches no known census format/);
    expect(() => detectFormat(Buffer.from('DOT_NUMBER,TELEPHONE'), 'x')).toThrow(/no LEGAL_NAME/);
  });
});

describeWithSamples('census format detection on the real headers (../shared/samples/fmcsa)', () => {
  it('recognizes the 2024 42-column header, the kjg3-diqy rows and the az4n-8mr2 header', () => {
    expect(detectFormat(readFileSync(samplePath('fmcsa/fmcsa_census1_txt_header_42col_2024Jun.csv')), 'x').format.id).toBe('fmcsa_census1');
    expect(detectFormat(Buffer.from(firstLine(samplePath('fmcsa/sms_input_census_kjg3-diqy_2025-08_100rows.csv'))), 'x').format.id).toBe('fmcsa_census1_socrata');
    expect(detectFormat(Buffer.from(firstLine(samplePath('fmcsa/fmcsa_census1_txt_2020_raw_rows.txt'))), 'x').header).toHaveLength(26);
    const company = detectFormat(readFileSync(samplePath('fmcsa/company_census_az4n-8mr2_header_147col.csv')), 'x');
    expect(company.format.id).toBe('company_census');
    expect(company.header).toHaveLength(147);
  });
});

describe('census input: packaging and the header line', () => {
  const plain = readFileSync(sample('FMCSA_CENSUS1_2026Nov.txt'));

  it('reads .gz and the FMCSA zip (the census file next to its README) to the same bytes as the plain file', async () => {
    expect((await readAll((await openCensusFile(fixture('FMCSA_CENSUS1_2026Nov.txt.gz'))).stream)).equals(plain)).toBe(true);
    const zip = await openCensusFile(fixture('FMCSA_CENSUS1_2026Nov.zip'));
    expect(zip.entry).toBe('FMCSA_CENSUS1_2026Nov.txt');
    expect((await readAll(zip.stream)).equals(plain)).toBe(true);
  });

  it('refuses a zip with several census files, and a missing file, saying what to do', async () => {
    await expect(openCensusFile(fixture('two_census_files.zip'))).rejects.toThrow(/found 2.*Unzip it and pass the census file itself/);
    await expect(openCensusFile(fixture('nope.txt'))).rejects.toThrow(/no such file/);
  });

  it('splits the header off across chunk boundaries, CRLF included', async () => {
    const bytes = Buffer.from('"DOT_NUMBER","LEGAL_NAME"\r\n1,"A"\r\n');
    const pieces = Array.from(bytes).map((b) => Buffer.from([b]));
    const { header, rest } = await splitHeader(Readable.from(pieces), 'x');
    expect(header.toString()).toBe('"DOT_NUMBER","LEGAL_NAME"');
    expect((await readAll(rest)).toString()).toBe('1,"A"\r\n');
    await expect(splitHeader(Readable.from([]), 'empty.txt')).rejects.toThrow(/empty/);
  });
});
