/** What a route handler of the double receives, and the route table's shape. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from './auth.ts';
import type { Importer } from './importer.ts';
import type { Model } from './model.ts';
import type { Version } from './version.ts';

export interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  /** The JSON body (415 / 400 as echo's Bind would). */
  json(): Record<string, unknown>;
  principal: Principal;
}

export interface Env {
  model: Model;
  version: Version;
  importer: Importer;
  /** Domains refused on subscriber create (`privacy.domain_blocklist`). */
  domainBlocklist: string[];
  /** Called after each committed subscriber write (create, add to list); may crash the double. */
  subscriberWrite(): void;
}

/** A handler returns the `data` of a 200, or `Unwrapped` for the few endpoints without the envelope. */
export class Unwrapped {
  constructor(readonly body: unknown) {}
}

export type Handler = (req: Req, env: Env) => unknown;

export interface Route {
  method: string;
  pattern: string;
  /** pm(): any one of these (v4+). A function when the permission changed across versions. */
  perms?: string[] | ((v: Version) => string[]);
  /** false for the public routes. */
  auth?: boolean;
  handler: Handler;
}
