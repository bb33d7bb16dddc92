/** The Listmonk test double: `const lm = await ListmonkDouble.start({ version: 'v6.2.0' })`. See server.ts. */
export { PIPELINE_PERMS, type DoubleUser, type ListPerm } from './auth.ts';
export { ListmonkDouble, DEFAULT_USER, type DoubleOptions, type LoggedRequest } from './server.ts';
export { COMMIT_BATCH } from './importer.ts';
export { startDoubleInWorker, type DoubleStats, type WorkerDouble } from './worker.ts';
