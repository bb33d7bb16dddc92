/**
 * One CSV field (RFC 4180, as COPY ... CSV and Listmonk's importer read it): quoted only when it
 * holds a quote, comma, CR or LF. A character scan, not a regex: the scrub writes millions of
 * fields, and a regex test per field was a measurable part of a batch's client time.
 *
 * This is the exact form, for files read by programs (the Listmonk import CSV of `build --out`):
 * the value is the data, byte for byte.
 */
export function csvField(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 34 || c === 44 || c === 10 || c === 13) return '"' + v.replaceAll('"', '""') + '"';
  }
  return v;
}

/**
 * Whether a spreadsheet would read a cell starting with this character as a formula: = + - @,
 * TAB and CR (OWASP, "CSV Injection").
 */
function formulaStart(c: number): boolean {
  return c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13;
}

/** Whether `s` is apostrophes (maybe none) then a formula character: the values that get one more apostrophe. */
function needsApostrophe(s: string): boolean {
  let i = 0;
  while (s.charCodeAt(i) === 39) i++;
  return i < s.length && formulaStart(s.charCodeAt(i));
}

/**
 * One CSV field of a file meant for people (rejects, the MX export), who open such files in a
 * spreadsheet: a value starting with = + - @ TAB or CR gets a leading apostrophe and quotes, as
 * OWASP recommends, so `=HYPERLINK(...)` from a census row or a DNS answer is shown as text,
 * never run. (A value that already starts with apostrophes before such a character gets one more,
 * so readPeopleCsvField gives every value back exactly.) Everything else is csvField's exact form.
 */
export function peopleCsvField(v: string | number): string {
  const s = String(v);
  if (needsApostrophe(s)) return '"\'' + s.replaceAll('"', '""') + '"';
  return csvField(s);
}

/** A field read back from a file written with peopleCsvField (check-mx --import): the apostrophe it added is dropped. */
export function readPeopleCsvField(v: string): string {
  return v.charCodeAt(0) === 39 && needsApostrophe(v) ? v.slice(1) : v;
}
