/**
 * The Listmonk client: the only module the rest of the program uses to talk to Listmonk.
 *
 * ```ts
 * const lm = createListmonkClient(config.listmonk, { log: ctx.out.debug });
 * const list = await lm.ensureList('mcs150 2026-11-28', { tags: ['audience', 'mcs150', '2026-11-28'] });
 * const { outcomes } = await lm.pushSubscribers(list.id, rows, { onOutcome: recordInLedger });
 * const { campaign } = await lm.ensureScheduledCampaign({ name, subject, lists: [list.id], body, altbody, send_at });
 * const warning = slidingWindowWarning(await lm.readSettings(), hourlyCap);
 * ```
 *
 * API (every operation is idempotent: a re-run, or a crash then a re-run, never duplicates):
 * - `version()` → ServerVersion. Detected once (GET /api/config, v4 `token` auth then Basic on
 *   401) unless `config.version` pins it. Every other call awaits it first.
 * - `ensureList(name, {tags, description})` → {id, name, created}. Exact-name match over
 *   `GET /api/lists?minimal=true&per_page=all`, else creates a private single opt-in list.
 * - `addSubscribersToList(listId, [{email, name, attribs}], {onOutcome})` → PushOutcome[] in input
 *   order. One POST per address (preconfirmed); 409 → lookup → PUT /api/subscribers/lists. Status per
 *   address: created | added | already_member | blocklisted | unsubscribed | rejected (400). Only
 *   the first three mean "on the list". Throws ListmonkPermissionError when Listmonk drops the list.
 * - `importSubscribersToList(listId, subs, {overwrite})` → PushOutcome[] (added | blocklisted |
 *   unsubscribed | missing), read back from the list after a bulk CSV import.
 * - `pushSubscribers(listId, subs, {strategy, onOutcome})` → {strategy, outcomes}: 'auto' uses
 *   the import from `config.importThreshold` addresses on, else per-address calls; addresses the
 *   import skipped are retried per address so each gets an exact outcome.
 * - `findSubscriberByEmail(email)`, `findSubscribersByEmails(emails)` (batched), `getListMembers(listId)`.
 * - `unsubscribeFromList(listId, ids)`: an opt-out taken off our lists of later dates.
 * - `blocklistEmails(emails)` → {blocklisted, alreadyBlocklisted, unknown}: for suppressed
 *   addresses (sync-blocklist); `blocklistSubscribers(ids)`.
 * - `createCampaign(input)` (draft), `scheduleCampaign(id)`, `findCampaignByName(name)`,
 *   `ensureScheduledCampaign(input)` → {campaign, created}: the one the build wants.
 *   `send_at` in the past throws InputError before any call.
 * - `readSettings()` → ThrottleSettings (the build only reads). See settings.ts for
 *   `slidingWindowWarning(settings, hourlyCap)`. `readSettingsDocument()`, and
 *   `writeSlidingWindow({enabled, duration, rate})` for an explicit operator request only: it
 *   writes the whole document back with just those keys changed and waits out Listmonk's restart.
 * - `pauseCampaign(id)`: running → paused; `unscheduleCampaign(id)`: scheduled → draft;
 *   `stopCampaign(id)`: whichever of the two the campaign's status calls for (audit-listmonk --pause).
 * - `listCampaigns({statuses})`, `getList(id)`, `eachListMemberPage(listId, onPage)`: what the
 *   audit reads. `readRestartPending()`, `readImportStatus()`: what rampcap checks before a write.
 * - `serverConfig()`, `profile()`, `getTemplate(id)`: what `audience doctor` checks (account.ts).
 * - `readOptOuts({listIds, onSightings})` → {strategy, blocklistedEverywhere, …}: blocklisted
 *   subscribers and unsubscribed subscriptions on those lists, by the filter each version has.
 *
 * Per-address calls vs import (why `importThreshold` defaults to 1000):
 * - Per address: 1 request per new address (2 on a re-run, 3 to add an existing subscriber;
 *   v2.0–2.1 one more lookup first), bounded by `concurrency` (default 4): at 20 ms latency about
 *   200 addresses/s. Exact outcome per address as it happens (`onOutcome` feeds the ledger
 *   progressively), no server-wide side effect. A fatal error (auth, permission, Listmonk down)
 *   stops starting new addresses; those in flight still report through `onOutcome`.
 * - Import: a handful of requests whatever the size, Listmonk commits in 10k-row batches. But it
 *   is one import per server (we wait while a person's import runs, and block theirs), outcomes
 *   only after the whole file (read back from the list), and one bad row's DB error fails the
 *   rest. Worth it for large first loads; a warmup day (≤4,000) is fine either way.
 *
 * Errors (src/listmonk/errors.ts, all ExternalServiceError): ListmonkApiError {status, body}
 * for 4xx (never retried) and for 5xx after retries; ListmonkAuthError (bad credentials);
 * ListmonkPermissionError {permission, listIds} (403, or lists silently dropped);
 * ListmonkUnavailableError (network/timeout after retries); ListmonkImportError. The token never
 * appears in messages or logs.
 */
import { ConfigError } from '../errors.ts';
import { getTemplate, profile, serverConfig, type ListmonkProfile, type ListmonkTemplate, type ServerConfig } from './account.ts';
import { listCampaigns, type CampaignQuery } from './campaign-list.ts';
import {
  createCampaign,
  ensureScheduledCampaign,
  findCampaignByName,
  getCampaign,
  pauseCampaign,
  scheduleCampaign,
  stopCampaign,
  unscheduleCampaign,
  type CampaignInput,
  type EnsuredCampaign,
  type StoppedCampaign,
} from './campaigns.ts';
import type { ListmonkConfig } from './config.ts';
import type { ListmonkCore } from './core.ts';
import { ListmonkHttp, realSleep } from './http.ts';
import { importSubscribersToList, readImportStatus, type ImportOptions } from './import.ts';
import { ensureList, findListByName, getAllLists, getList, type EnsuredList, type EnsureListOptions } from './lists.ts';
import { readOptOuts, type OptOutRead, type ReadOptOutsOptions } from './optouts.ts';
import { eachSubscriberPage, type PagedRead } from './paging.ts';
import {
  readRestartPending,
  readSettings,
  readSettingsDocument,
  writeSlidingWindow,
  type SlidingWindow,
  type SlidingWindowWrite,
  type ThrottleSettings,
} from './settings.ts';
import { blocklistEmails, blocklistSubscribers, type BlocklistResult } from './blocklist.ts';
import { findSubscriberByEmail, findSubscribersByEmails } from './lookup.ts';
import {
  addSubscribersToList,
  getListMembers,
  getSubscriber,
  unsubscribeFromList,
  type AddOptions,
  type PushOutcome,
  type SubscriberInput,
} from './subscribers.ts';
import type { ImportStatus, ListmonkCampaign, ListmonkList, ListmonkSubscriber } from './types.ts';
import { configuredVersion, detectVersion, type ServerVersion } from './version.ts';

export interface ListmonkClientOptions {
  /** Debug sink, e.g. ctx.out.debug. Receives method, path, status and timings only. */
  log?: (line: string) => void;
  /** Tests inject these to avoid real waits and pin the clock. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => Date;
}

export type PushStrategy = 'auto' | 'api' | 'import';

export interface PushResult {
  strategy: 'api' | 'import';
  outcomes: PushOutcome[];
}

/** Why no client can be made from `config` (the settings it lacks), or null when it can. */
export function listmonkNotConfigured(config: ListmonkConfig): ConfigError | null {
  const missing = [
    !config.url && 'LISTMONK_URL',
    !config.apiUser && 'LISTMONK_API_USER',
    !config.apiToken && 'LISTMONK_API_TOKEN',
  ].filter(Boolean);
  return missing.length > 0 ? new ConfigError(`Listmonk is not configured: set ${missing.join(', ')} (or use --dry-run).`) : null;
}

export function createListmonkClient(config: ListmonkConfig, opts: ListmonkClientOptions = {}): ListmonkClient {
  const notConfigured = listmonkNotConfigured(config);
  if (notConfigured) throw notConfigured;
  return new ListmonkClient(config, opts);
}

export class ListmonkClient {
  private readonly core: ListmonkCore;
  private detected: Promise<ServerVersion> | undefined;

  constructor(config: ListmonkConfig, opts: ListmonkClientOptions = {}) {
    const sleep = opts.sleep ?? realSleep;
    const log = opts.log ?? (() => {});
    const http = new ListmonkHttp({
      baseUrl: config.url!,
      user: config.apiUser!,
      token: config.apiToken!,
      timeoutMs: config.timeoutMs,
      retries: config.retries,
      concurrency: config.concurrency,
      retryBaseMs: config.retryBaseMs,
      retryMaxMs: config.retryMaxMs,
      log,
      sleep,
      ...(opts.random ? { random: opts.random } : {}),
    });
    this.core = {
      http,
      config,
      version: () => this.version(),
      log,
      sleep,
      now: opts.now ?? (() => new Date()),
      lookupMode: 'query',
    };
  }

  version(): Promise<ServerVersion> {
    if (!this.detected) {
      const pinned = this.core.config.version;
      if (pinned !== 'auto') {
        const v = configuredVersion(pinned);
        this.core.http.scheme = v.major >= 4 ? 'token' : 'basic';
        this.detected = Promise.resolve(v);
      } else {
        this.detected = detectVersion(this.core.http);
        // A failed detection (Listmonk down) must not poison the next attempt.
        this.detected.catch(() => (this.detected = undefined));
      }
    }
    return this.detected;
  }

  ensureList(name: string, opts?: EnsureListOptions): Promise<EnsuredList> {
    return ensureList(this.core, name, opts);
  }
  findListByName(name: string): Promise<ListmonkList | null> {
    return findListByName(this.core, name);
  }
  getAllLists(): Promise<ListmonkList[]> {
    return getAllLists(this.core);
  }
  /** One list with its opt-in type and subscriber count; null when Listmonk has no such list. */
  getList(id: number): Promise<ListmonkList | null> {
    return getList(this.core, id);
  }
  /** Every subscriber of a list, one page at a time (each with all its subscriptions and their statuses). */
  eachListMemberPage(listId: number, onPage: (rows: ListmonkSubscriber[]) => void | Promise<void>, perPage = 1000): Promise<PagedRead> {
    return eachSubscriberPage(this.core, { list_id: listId, order_by: 'email', order: 'asc' }, onPage, perPage);
  }

  addSubscribersToList(listId: number, subscribers: readonly SubscriberInput[], opts?: AddOptions): Promise<PushOutcome[]> {
    return addSubscribersToList(this.core, listId, subscribers, opts);
  }
  importSubscribersToList(listId: number, subscribers: readonly SubscriberInput[], opts?: ImportOptions): Promise<PushOutcome[]> {
    return importSubscribersToList(this.core, listId, subscribers, opts);
  }

  /**
   * Chooses per-address calls or the import by size (see the trade-off above). With the import,
   * `onOutcome` is called for every address once the whole import is read back.
   */
  async pushSubscribers(listId: number, subscribers: readonly SubscriberInput[], opts: AddOptions & ImportOptions & { strategy?: PushStrategy } = {}): Promise<PushResult> {
    const strategy = opts.strategy ?? 'auto';
    const useImport = strategy === 'import' || (strategy === 'auto' && subscribers.length >= this.core.config.importThreshold);
    if (!useImport) return { strategy: 'api', outcomes: await this.addSubscribersToList(listId, subscribers, opts) };

    const imported = await this.importSubscribersToList(listId, subscribers, opts);
    const missing = imported.filter((o) => o.status === 'missing');
    const retried = new Map<string, PushOutcome>();
    if (missing.length > 0) {
      // Listmonk skips rows it cannot use without saying which; ask per address for the reason.
      const byEmail = new Map(subscribers.map((s) => [s.email, s]));
      const again = await this.addSubscribersToList(
        listId,
        missing.map((o) => byEmail.get(o.email)!),
      );
      for (const o of again) retried.set(o.email, o);
    }
    const outcomes = imported.map((o) => retried.get(o.email) ?? o);
    for (const o of outcomes) await opts.onOutcome?.(o);
    return { strategy: 'import', outcomes };
  }

  findSubscriberByEmail(email: string): Promise<ListmonkSubscriber | null> {
    return findSubscriberByEmail(this.core, email);
  }
  findSubscribersByEmails(emails: readonly string[]): Promise<Map<string, ListmonkSubscriber>> {
    return findSubscribersByEmails(this.core, emails);
  }
  getSubscriber(id: number): Promise<ListmonkSubscriber> {
    return getSubscriber(this.core, id);
  }
  getListMembers(listId: number): Promise<ListmonkSubscriber[]> {
    return getListMembers(this.core, listId);
  }
  /** Takes these subscribers off one list (unsubscribed there; their other lists untouched). */
  unsubscribeFromList(listId: number, subscriberIds: readonly number[]): Promise<void> {
    return unsubscribeFromList(this.core, listId, subscriberIds);
  }
  blocklistSubscribers(ids: readonly number[]): Promise<void> {
    return blocklistSubscribers(this.core, ids);
  }
  /** For `sync-blocklist`: blocklists the suppressed addresses Listmonk has. */
  blocklistEmails(emails: readonly string[]): Promise<BlocklistResult> {
    return blocklistEmails(this.core, emails);
  }

  createCampaign(input: CampaignInput): Promise<ListmonkCampaign> {
    return createCampaign(this.core, input);
  }
  scheduleCampaign(id: number): Promise<ListmonkCampaign> {
    return scheduleCampaign(this.core, id);
  }
  getCampaign(id: number): Promise<ListmonkCampaign> {
    return getCampaign(this.core, id);
  }
  findCampaignByName(name: string): Promise<ListmonkCampaign | null> {
    return findCampaignByName(this.core, name);
  }
  ensureScheduledCampaign(input: CampaignInput): Promise<EnsuredCampaign> {
    return ensureScheduledCampaign(this.core, input);
  }

  /** Pauses a running campaign; a paused one is returned unchanged. */
  pauseCampaign(id: number): Promise<ListmonkCampaign> {
    return pauseCampaign(this.core, id);
  }
  /** Takes a scheduled campaign back to draft; a draft is returned unchanged. */
  unscheduleCampaign(id: number): Promise<ListmonkCampaign> {
    return unscheduleCampaign(this.core, id);
  }
  /** Stops a campaign whatever it is doing now: running → paused, scheduled → draft (see campaigns.ts). */
  stopCampaign(id: number): Promise<StoppedCampaign> {
    return stopCampaign(this.core, id);
  }
  /** Campaigns in the given statuses, without bodies, every page. */
  listCampaigns(q: CampaignQuery): Promise<ListmonkCampaign[]> {
    return listCampaigns(this.core, q);
  }

  readSettings(): Promise<ThrottleSettings> {
    return readSettings(this.core);
  }
  /** The whole settings document, secrets masked as Listmonk returns them. */
  readSettingsDocument(): Promise<Record<string, unknown>> {
    return readSettingsDocument(this.core);
  }
  /** Writes only the sliding-window keys back (a whole-document PUT that restarts Listmonk); a no-op when unchanged; refused where unsafe. */
  writeSlidingWindow(window: SlidingWindow, opts?: { restartWaitMs?: number }): Promise<SlidingWindowWrite> {
    return writeSlidingWindow(this.core, window, opts);
  }
  /** Whether Listmonk saved settings it has not applied yet (a write while a campaign ran). */
  readRestartPending(): Promise<boolean> {
    return readRestartPending(this.core);
  }
  /** The server's one import slot (a settings write restarts Listmonk and loses a running import). */
  readImportStatus(): Promise<ImportStatus> {
    return readImportStatus(this.core);
  }

  /** The server's version, default from address and legacy-credential flag (GET /api/config). */
  serverConfig(): Promise<ServerConfig> {
    return serverConfig(this.core);
  }
  /** The API user's role and permissions (v4+); null before v4, where the admin may do everything. */
  profile(): Promise<ListmonkProfile | null> {
    return profile(this.core);
  }
  /** A template's name and type (campaign, campaign_visual, tx), without its body. */
  getTemplate(id: number): Promise<ListmonkTemplate> {
    return getTemplate(this.core, id);
  }

  /** Blocklisted subscribers, and unsubscribed subscriptions on these lists, page by page (see optouts.ts). */
  readOptOuts(opts: ReadOptOutsOptions): Promise<OptOutRead> {
    return readOptOuts(this.core, opts);
  }
}
