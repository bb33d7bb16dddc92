/**
 * The --json envelope of every command that writes, pinned: `command, ok, runId, startedAt,
 * seconds` first, the stage's own keys after, and each key renamed to camelCase still present under
 * its old name, with the same value, for one release (CHANGELOG.md lists them).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestJob, runCensusIngest } from '../pipelines/ingest.ts';
import { censusIngestStage } from '../src/census/stage.ts';
import { normalizeEmails, normalizeStage } from '../src/email/stage.ts';
import { runBounceScrub, scrubStage } from '../src/maillog/stage.ts';
import { checkMx, mxCheckStage } from '../src/mx/stage.ts';
import { listmonkSync, listmonkSyncStage } from '../src/optouts/stage.ts';
import { buildStage, segmentBuild } from '../src/push/stage.ts';
import type { AnyStage } from '../src/stage.ts';
import { doubleClient, fxConfig, fxContext, startDouble } from './build-fixture.ts';
import { dataSample, SAMPLE_DAY } from './census/context.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { REPO_ROOT } from './helpers/samples.ts';
import type { ListmonkDouble } from './listmonk-double/index.ts';

const HEAD = ['command', 'ok', 'runId', 'startedAt', 'seconds'];

function at(o: Record<string, unknown>, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
}

describe('the --json envelope of every command that writes', () => {
  let store: TestStore;
  let lm: ListmonkDouble;
  const config = fxConfig();
  const ctx = () => fxContext(store, config, SAMPLE_DAY);
  beforeAll(async () => {
    store = await createTestStore();
    lm = await startDouble();
  });
  afterAll(async () => {
    await lm?.stop();
    await store?.close();
  });

  async function pin(stage: AnyStage, envelope: Record<string, unknown>, command: string): Promise<void> {
    expect(Object.keys(envelope).slice(0, HEAD.length)).toEqual(HEAD);
    const run = await store.db.selectFrom('runs').select(['id', 'stage', 'status', 'started_at']).where('id', '=', envelope.runId as number).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ stage: stage.name, status: 'ok' });
    expect(envelope).toMatchObject({ command, ok: true, startedAt: run.started_at.toISOString() });
    expect(envelope.startedAt).toBe(SAMPLE_DAY.toISOString());
    expect(typeof envelope.seconds).toBe('number');
    for (const [old, renamed] of stage.renames ?? []) {
      expect(at(envelope, renamed), `${command}: ${renamed}`).toBeDefined();
      expect(at(envelope, old), `${command}: ${old} beside ${renamed}`).toEqual(at(envelope, renamed));
    }
  }

  it('ingest census (then normalize, its own envelope under "normalize")', async () => {
    const s = await runCensusIngest(ctx(), { files: [dataSample('FMCSA_CENSUS1_2026Nov.txt')], snapshot: false });
    await pin(censusIngestStage, s, 'ingest census');
    expect(s.run).toBe(s.runId);
    await pin(normalizeStage, s.normalize!, 'normalize');
    expect(ingestJob({ files: ['x'], snapshot: false }).map(([st]) => st.name)).toEqual(['ingest-census', 'normalize']);
    expect(ingestJob({ files: ['x'], snapshot: false, normalize: false }).map(([st]) => st.name)).toEqual(['ingest-census']);
  });

  it('normalize', async () => {
    const s = await normalizeEmails(ctx(), { full: true });
    await pin(normalizeStage, s, 'normalize');
    expect(s).toMatchObject({ carriersNormalized: s.carriers_normalized, run_id: s.runId, totals: { carriers_with_address: s.totals.carriersWithAddress } });
  });

  it('scrub-bounces', async () => {
    const s = await runBounceScrub(ctx(), [path.join(REPO_ROOT, 'data-samples/maillog/mail.log')]);
    await pin(scrubStage, s, 'scrub-bounces');
    expect(s.newLines).toBeGreaterThan(0);
  });

  it('check-mx', async () => {
    const s = await checkMx(ctx(), { importFile: path.join(REPO_ROOT, 'data-samples/mx-snapshot.csv') });
    await pin(mxCheckStage, s, 'check-mx');
    expect(s.run_id).toBe(s.runId);
  });

  it('sync-listmonk', async () => {
    const s = await listmonkSync(ctx(), { listmonk: doubleClient(lm, config, SAMPLE_DAY) });
    await pin(listmonkSyncStage, s, 'sync-listmonk');
  });

  it('build: seconds is the wall time; the phase timings moved to timings', async () => {
    const s = await segmentBuild(ctx(), { dryRun: true, listmonk: doubleClient(lm, config, SAMPLE_DAY) });
    await pin(buildStage, s, 'build');
    expect(Object.keys(s.timings).sort()).toEqual(['count', 'lock', 'push', 'select']);
  });

  it('CHANGELOG.md lists every rename, old -> new, under its command', () => {
    const changelog = readFileSync(path.join(REPO_ROOT, 'CHANGELOG.md'), 'utf8');
    const pending = changelog.slice(changelog.indexOf('## Pending'), changelog.indexOf('\n## ', changelog.indexOf('## Pending') + 1));
    for (const stage of [censusIngestStage, normalizeStage, scrubStage, mxCheckStage, listmonkSyncStage, buildStage] as AnyStage[])
      for (const [old, renamed] of stage.renames ?? []) expect(pending, `${stage.command ?? stage.name}: ${old} -> ${renamed}`).toMatch(new RegExp(`\\| \`${stage.command ?? stage.name}\` \\| \`${old}\` \\| \`${renamed}\` \\|`));
  });
});
