/** /api/import/subscribers (handler order as in cmd/import.go). */
import yauzl from 'yauzl';
import type { Env, Req, Route } from './context.ts';
import { badRequest, HttpError } from './http-util.ts';
import type { SubscriptionStatus } from './model.ts';
import { atLeast } from './version.ts';

const PERMS = ['subscribers:import'];

async function readForm(req: Req): Promise<FormData> {
  const ct = String(req.headers['content-type'] ?? '');
  if (!/^multipart\/form-data/i.test(ct)) throw badRequest('Invalid file: request Content-Type isn\'t multipart/form-data');
  return new Request('http://double/', { method: 'POST', headers: { 'content-type': ct }, body: req.raw }).formData();
}

/** Anything not named *.csv is opened as a ZIP, and only its first .csv is used. */
function firstCsvInZip(buf: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(new HttpError(500, `Error processing ZIP file: ${err?.message ?? 'not a zip'}`));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!entry.fileName.toLowerCase().endsWith('.csv')) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(new HttpError(500, `Error processing ZIP file: ${e?.message}`));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        });
      });
      zip.on('end', () => reject(new HttpError(500, 'Error processing ZIP file: no CSV files found to import')));
      zip.readEntry();
    });
  });
}

export const importRoutes: Route[] = [
  {
    method: 'POST',
    pattern: '/api/import/subscribers',
    perms: PERMS,
    async handler(req: Req, env: Env) {
      if (env.importer.status.status === 'importing')
        throw badRequest('An import is already running. Wait for it to finish or stop it before trying again.');
      const form = await readForm(req);
      let opt: Record<string, unknown>;
      try {
        opt = JSON.parse(String(form.get('params') ?? '')) as Record<string, unknown>;
      } catch (e) {
        throw badRequest(`Invalid params: ${(e as Error).message}`);
      }
      const mode = String(opt.mode ?? '');
      const sentLists = Array.isArray(opt.lists) ? (opt.lists as number[]) : [];
      const lists = req.principal.filterLists(['manage'], sentLists);
      if (lists.length === 0 && mode !== 'blocklist' && atLeast(env.version, 4)) throw new HttpError(403, 'Permission denied: lists');
      if (mode !== 'subscribe' && mode !== 'blocklist') throw badRequest('Invalid mode');
      const subStatus = String(opt.subscription_status || (mode === 'subscribe' ? 'unconfirmed' : 'unsubscribed'));
      if (!['unconfirmed', 'confirmed', 'unsubscribed'].includes(subStatus)) throw badRequest('Invalid subscription status');
      const delim = String(opt.delim ?? '');
      if (Buffer.byteLength(delim) !== 1) throw badRequest('Delimiter should be a single character.');
      const file = form.get('file');
      if (!(file instanceof File)) throw badRequest('Invalid file: http: no such file');
      // NewSession: before v2.5 only `none` may start (a finished state must be DELETEd first).
      const blocked = atLeast(env.version, 2, 5) ? env.importer.busy : env.importer.status.status !== 'none';
      if (blocked) throw new HttpError(500, 'Error starting import: an import is already running');
      const bytes = Buffer.from(await file.arrayBuffer());
      const csv = file.name.toLowerCase().endsWith('.csv') ? bytes.toString('utf8') : await firstCsvInZip(bytes);
      const legacy = opt.overwrite === true;
      const v6 = atLeast(env.version, 6);
      env.importer.start({
        mode,
        delim,
        lists,
        subStatus: subStatus as SubscriptionStatus,
        overwriteUserinfo: legacy || (v6 && opt.overwrite_userinfo === true),
        overwriteSubStatus: legacy || (v6 && opt.overwrite_subscription_status === true),
        filename: file.name,
        csv,
      });
      return { ...env.importer.status };
    },
  },
  { method: 'GET', pattern: '/api/import/subscribers', perms: PERMS, handler: (_req, env) => ({ ...env.importer.status }) },
  { method: 'GET', pattern: '/api/import/subscribers/logs', perms: PERMS, handler: (_req, env) => env.importer.logs.join('\n') },
  {
    method: 'DELETE',
    pattern: '/api/import/subscribers',
    perms: PERMS,
    handler(_req, env) {
      env.importer.stop();
      return { ...env.importer.status };
    },
  },
];
