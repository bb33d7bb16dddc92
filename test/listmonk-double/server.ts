/**
 * An in-process HTTP double of Listmonk (node:http on 127.0.0.1, random port) that behaves as
 * Listmonk's Go handlers do: `{data}` / `{message}` envelopes, 400 for not
 * found, 404 JSON for unknown /api routes, 405, 409 on duplicate e-mails, silent list filtering by
 * the API user's permissions, the import state machine, drafts then scheduled, auth by version.
 * Test hooks: latency, 5xx, hangs, a crash point, a request log and counters. Not product code.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { authenticate, PIPELINE_PERMS, requirePerm, type DoubleUser } from './auth.ts';
import { Unwrapped, type Env, type Req, type Route } from './context.ts';
import { Faults } from './faults.ts';
import { HttpError, parseJsonBody } from './http-util.ts';
import { Importer } from './importer.ts';
import { Model } from './model.ts';
import { accountRoutes } from './routes-account.ts';
import { campaignRoutes } from './routes-campaigns.ts';
import { importRoutes } from './routes-import.ts';
import { listRoutes } from './routes-lists.ts';
import { miscRoutes } from './routes-misc.ts';
import { subscriberRoutes, validateEmail } from './routes-subscribers.ts';
import { freshSettings } from './settings.ts';
import { parse, type Version } from './version.ts';

export interface DoubleOptions {
  /** Default v6.2.0. */
  version?: string;
  /** v4+ API users. Default: `audience` / `test-token-0123456789` with the pipeline's permissions. */
  users?: DoubleUser[];
  /** ≤ v3: the config.toml admin; null = no auth. Default admin / admin-password. */
  admin?: { username: string; password: string } | null;
  domainBlocklist?: string[];
  /** The double's clock (default: the machine's). Give it the product's clock in tests that pin one. */
  now?: () => Date;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when it was JSON, else the text (multipart bodies included). */
  body: unknown;
  status: number | 'dropped' | 'hung';
  /** `METHOD /pattern` of the matched route, e.g. `PUT /api/subscribers/lists`. */
  route: string;
}

export const DEFAULT_USER: DoubleUser = { username: 'audience', token: 'test-token-0123456789', perms: [...PIPELINE_PERMS] };

class CrashSignal extends Error {}

export class ListmonkDouble {
  readonly model: Model;
  readonly faults = new Faults();
  readonly importer: Importer;
  readonly requests: LoggedRequest[] = [];
  readonly settingsLog = { puts: 0 };
  readonly users = new Map<string, DoubleUser>();
  admin: { username: string; password: string } | null;
  domainBlocklist: string[];
  version: Version;
  url = '';
  /** Requests being handled right now, and the most seen at once (client concurrency bound). */
  inFlight = 0;
  maxInFlight = 0;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly routes: Route[];

  private constructor(opts: DoubleOptions) {
    this.model = new Model(opts.now);
    this.version = parse(opts.version ?? 'v6.2.0');
    this.model.settings = freshSettings(this.version);
    for (const u of opts.users ?? [DEFAULT_USER]) this.users.set(u.username, structuredClone(u));
    this.admin = opts.admin === undefined ? { username: 'admin', password: 'admin-password' } : opts.admin;
    this.domainBlocklist = opts.domainBlocklist ?? [];
    this.importer = new Importer(this.model, (e) => validateEmail(e, this.env()));
    this.routes = [...listRoutes, ...subscriberRoutes, ...importRoutes, ...campaignRoutes, ...accountRoutes, ...miscRoutes({ settingsLog: this.settingsLog, scheduleRestart: () => this.scheduleRestart(), hasLegacyUser: () => [...this.users.values()].some((u) => u.legacy) })];
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(opts: DoubleOptions = {}): Promise<ListmonkDouble> {
    const d = new ListmonkDouble(opts);
    await new Promise<void>((r) => d.server.listen(0, '127.0.0.1', r));
    d.url = `http://127.0.0.1:${(d.server.address() as AddressInfo).port}`;
    return d;
  }

  /**
   * Listmonk re-execs itself 0.5 s after answering a settings write: for `restartDowntimeMs` nothing
   * answers (connections are dropped), and the import state, kept in memory, is lost.
   */
  restartDelayMs = 500;
  restartDowntimeMs = 200;
  private restarting = false;
  private timers = new Set<NodeJS.Timeout>();

  private scheduleRestart(): void {
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        fn();
      }, ms);
      this.timers.add(t);
    };
    later(this.restartDelayMs, () => {
      this.restarting = true;
      this.importer.reset();
      this.model.needsRestart = false;
      later(this.restartDowntimeMs, () => (this.restarting = false));
    });
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.importer.reset();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Replace (or add) an API user, e.g. to take `lists:manage_all` away in a test. */
  setUser(u: DoubleUser): void {
    this.users.set(u.username, structuredClone(u));
  }

  /** A process restart: in-memory import state is lost, the database (model) stays. */
  restart(): void {
    this.importer.reset();
    this.model.needsRestart = false;
    this.faults.recover();
  }

  /** Requests matching `METHOD /pattern` (e.g. `POST /api/subscribers`), excluding faulted ones. */
  count(route: string): number {
    return this.requests.filter((r) => r.route === route && typeof r.status === 'number').length;
  }

  private env(): Env {
    return {
      model: this.model,
      version: this.version,
      importer: this.importer,
      domainBlocklist: this.domainBlocklist,
      subscriberWrite: () => {
        if (this.faults.wrote()) throw new CrashSignal();
      },
    };
  }

  private match(method: string, path: string): { route: Route | null; params: Record<string, string>; pathKnown: boolean } {
    const segs = path.split('/').filter(Boolean);
    let best: { route: Route; params: Record<string, string>; score: number } | null = null;
    let pathKnown = false;
    for (const route of this.routes) {
      const pat = route.pattern.split('/').filter(Boolean);
      if (pat.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let score = 0;
      const ok = pat.every((p, i) => {
        if (p.startsWith(':')) return (params[p.slice(1)] = decodeURIComponent(segs[i]!)), true;
        score++;
        return p === segs[i];
      });
      if (!ok) continue;
      pathKnown = true;
      // Static segments win over parameters, as in echo's router.
      if (route.method === method && (!best || score > best.score)) best = { route, params, score };
    }
    return { route: best?.route ?? null, params: best?.params ?? {}, pathKnown };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://double');
    const method = req.method ?? 'GET';
    const { route, params, pathKnown } = this.match(method, url.pathname);
    const text = raw.toString('utf8');
    let logged: unknown = text;
    try {
      logged = text && /json/i.test(String(req.headers['content-type'])) ? JSON.parse(text) : text;
    } catch {
      // keep the text
    }
    const entry: LoggedRequest = { method, path: url.pathname, query: url.searchParams, headers: req.headers, body: logged, status: 0, route: route ? `${method} ${route.pattern}` : `${method} ${url.pathname}` };
    this.requests.push(entry);

    if (this.faults.crashed || this.restarting) return this.drop(res, entry);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // Answers no earlier than the injected latency after the request arrived, whatever the work in
      // between: the double models a server that answers in `latencyMs`, its own processing
      // included (before, the processing came on top, so every request took latency + processing
      // and the benchmarks' bound, concurrency / latency, was out of any client's reach).
      const latency = this.faults.latencyMs > 0 ? new Promise<void>((r) => setTimeout(r, this.faults.latencyMs)) : null;
      const answer = await this.answer(req, res, url, method, raw, entry, route, params, pathKnown);
      if (latency) await latency;
      answer?.();
    } finally {
      this.inFlight--;
    }
  }

  /** Does the request's work; returns how to answer it (nothing for a hang). */
  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    raw: Buffer,
    entry: LoggedRequest,
    route: Route | null,
    params: Record<string, string>,
    pathKnown: boolean,
  ): Promise<(() => void) | undefined> {
    const fault = this.faults.decide(`${method} ${url.pathname}`);
    if (fault === 'hang') {
      entry.status = 'hung'; // never answered; the socket closes when the client gives up
      return undefined;
    }
    if (typeof fault === 'number') return () => this.send(res, entry, fault, { message: fault === 500 ? 'Internal Server Error' : `injected ${fault}` });

    try {
      if (!route) {
        if (pathKnown) throw new HttpError(405, 'Method Not Allowed');
        if (url.pathname.startsWith('/api/')) throw new HttpError(404, '404 unknown endpoint');
        return () => {
          entry.status = 404;
          res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><h1>404 Page not found</h1>');
        };
      }
      const principal = route.auth === false ? null : authenticate(req.headers, { version: this.version, users: this.users, admin: this.admin });
      if (principal && this.version.major >= 4 && route.perms) requirePerm(principal, typeof route.perms === 'function' ? route.perms(this.version) : route.perms);
      let parsed: Record<string, unknown> | undefined;
      const r: Req = {
        method,
        path: url.pathname,
        query: url.searchParams,
        params,
        headers: req.headers,
        raw,
        json: () => (parsed ??= parseJsonBody(raw, req.headers['content-type'])),
        principal: principal!,
      };
      const data = await route.handler(r, this.env());
      if (this.faults.dropAfter(`${method} ${url.pathname}`)) return () => this.drop(res, entry);
      return () => this.send(res, entry, 200, data instanceof Unwrapped ? data.body : { data });
    } catch (e) {
      if (e instanceof CrashSignal) return () => this.drop(res, entry);
      if (e instanceof HttpError) return () => this.send(res, entry, e.status, { message: e.message }, e.headers);
      return () => this.send(res, entry, 500, { message: 'Internal Server Error' });
    }
  }

  private send(res: ServerResponse, entry: LoggedRequest, status: number, body: unknown, headers: Record<string, string> = {}): void {
    entry.status = status;
    res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify(body));
  }

  private drop(res: ServerResponse, entry: LoggedRequest): void {
    entry.status = 'dropped';
    res.socket?.destroy();
  }
}
