/**
 * The Listmonk test double (a fixture, not product code).
 *
 * ```ts
 * const lm = await ListmonkDouble.start({ version: 'v6.2.0' });   // 127.0.0.1, random port: lm.url
 * const client = clientFor(lm);                                    // ./client-for.ts: fast retries
 * lm.setUser({ ...DEFAULT_USER, perms: PIPELINE_PERMS.filter((p) => p !== 'lists:manage_all') });
 * lm.faults.latencyMs = 20;                  // every request
 * lm.faults.failNext(3, 503, { route: /^POST \/api\/subscribers$/ });
 * lm.faults.failFraction(0.2, 500, {}, seed);
 * lm.faults.hangNext(1);                     // never answered: the client times out
 * lm.faults.dropAfterHandlingNext(1);        // committed, answer lost
 * lm.faults.crashAfterSubscriberWrites(50);  // then every request fails until lm.restart()
 * lm.importer.held = true; lm.importer.releaseHold(); lm.importer.failAtRow = 3;
 * lm.requests / lm.count('PUT /api/subscribers/lists') / lm.faults.subscriberWrites / lm.maxInFlight
 * lm.model                                   // lists, subscribers, subscriptions, campaigns, settings
 * await lm.stop();
 * ```
 * Versions: ≤ v3 Basic admin (`admin` option, null = no auth); v4+ API users (`users`).
 * For benchmarks, `startDoubleInWorker(options, latencyMs)` runs it in its own thread.
 * Modelled: the endpoints of Listmonk's API that the pipeline uses (lists,
 * subscribers incl. lookup/lists/blocklist, import, campaigns, settings, config/about/health).
 * Also: the API user's profile (its role's permissions; `legacy` users are config.toml's admin on
 * v4+) and reading templates by id.
 * Not modelled: bounces and webhooks, PATCH/PUT of one subscriber, the query-based bulk routes,
 * template writes, media, users and roles (beyond the permission model and the profile).
 */
export { PIPELINE_PERMS, type DoubleUser, type ListPerm } from './auth.ts';
export { ALL_PERMS } from './routes-account.ts';
export { ListmonkDouble, DEFAULT_USER, type DoubleOptions, type LoggedRequest } from './server.ts';
export { COMMIT_BATCH } from './importer.ts';
export { startDoubleInWorker, type DoubleStats, type WorkerDouble } from './worker.ts';
