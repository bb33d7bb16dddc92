import type { Command } from 'commander';
import { globalOptions, openCommandStore } from '../cli/app.ts';

export function register(program: Command): void {
  program
    .command('migrate')
    .description('apply the pending SQL migrations of sql/ (forward only; safe when two processes run it at once)')
    .option('--status', 'only list applied and pending migrations')
    .addHelpText('after', '\nExamples:\n  audience migrate\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/audience audience migrate --status --json')
    .action(async (opts: { status?: boolean }, cmd: Command) => {
      const [{ createOutput }, { loadConfig }, { migrate, migrationStatus }, { openStore, redactUrl }] = await Promise.all([
        import('../cli/output.ts'),
        import('../config.ts'),
        import('../db/migrate.ts'),
        import('../db/store.ts'),
      ]);
      const g = globalOptions(cmd);
      const out = createOutput({ json: Boolean(g.json), quiet: Boolean(g.quiet) });
      const config = loadConfig({ configPath: g.config });
      const { store, release } = await openCommandStore(config, openStore);
      try {
        const database = config.database.url ? redactUrl(config.database.url) : `embedded (${config.database.dataDir})`;
        if (opts.status) {
          const s = await migrationStatus(store.db);
          out.result({
            command: 'migrate',
            database,
            applied: s.applied.map((a) => `${a.id}_${a.name}`),
            pending: s.pending.map((p) => p.file),
            unknown: s.unknown.map((u) => `${u.id}_${u.name}`),
            modified: s.modified.map((m) => `${m.id}_${m.name}`),
          });
          return;
        }
        const applied = await migrate(store);
        out.result({ command: 'migrate', database, applied }, (s) =>
          (s as { applied: string[] }).applied.length ? `applied: ${(s as { applied: string[] }).applied.join(', ')}` : 'database is up to date',
        );
      } finally {
        await release();
      }
    });
}
