/**
 * Wire conventions of the double: success is 200 `{"data": …}`, errors
 * are `{"message": …}` with the status; JSON bodies need a JSON content type (415 otherwise);
 * pagination with `page`/`per_page` (default 20, no upper bound, `all` → every row, per_page 0).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (m: string) => new HttpError(400, m);

export interface Paging {
  page: number;
  perPage: number;
  offset: number;
  /** null: no LIMIT (per_page=all). */
  limit: number | null;
}

/** knadh/paginator with AllowAll: true and default 20. */
export function paging(q: URLSearchParams): Paging {
  const page = Math.max(1, Number.parseInt(q.get('page') ?? '1', 10) || 1);
  const pp = q.get('per_page');
  if (pp === 'all') return { page: 1, perPage: 0, offset: 0, limit: null };
  const n = Number.parseInt(pp ?? '', 10);
  const perPage = Number.isFinite(n) && n > 0 ? n : 20;
  return { page, perPage, offset: (page - 1) * perPage, limit: perPage };
}

export function slice<T>(rows: T[], p: Paging): T[] {
  return p.limit === null ? rows : rows.slice(p.offset, p.offset + p.limit);
}

/** `order` must be exactly lowercase `asc`/`desc`; anything else (e.g. `ASC`) means desc. */
export function sortRows<T>(rows: T[], field: string | null, allowed: string[], fallback: string, order: string | null, key: (r: T, f: string) => string | number): T[] {
  const f = field && allowed.includes(field) ? field : fallback;
  const dir = order === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = key(a, f);
    const y = key(b, f);
    return (x < y ? -1 : x > y ? 1 : 0) * dir;
  });
}

/** echo's Bind for JSON bodies: content type checked only when there is a body. */
export function parseJsonBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (raw.length === 0) return {};
  if (!/^application\/json\b/i.test(contentType ?? '')) throw new HttpError(415, 'Unsupported Media Type');
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw badRequest(`Syntax error: offset=0, error=${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badRequest('Unmarshal type error: expected=object, got=array, field=, offset=1');
  return v as Record<string, unknown>;
}

/** Go's json: a field of the wrong type is a 400 Unmarshal type error. */
export function intArray(body: Record<string, unknown>, field: string): number[] {
  const v = body[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x))) throw badRequest(`Unmarshal type error: expected=[]int, got=${typeof v}, field=${field}, offset=0`);
  return v as number[];
}

export function str(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw badRequest(`Unmarshal type error: expected=string, got=${typeof v}, field=${field}, offset=0`);
  return v;
}

/** `hasID`: a path id must be a positive integer. */
export function pathId(v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw badRequest('Invalid ID(s)');
  return n;
}
