/**
 * Checks many domains at once: p-limit keeps `concurrency` domains in flight (each one usually a
 * single round trip: the MX query, with host addresses from the additional section or the run's
 * host cache), and results are handed over in batches so the caller writes them as one statement
 * each, while the DNS work goes on. A failed write stops the run: queued domains are skipped and
 * the error is raised once the in-flight ones settle. A gate (verdict-gate.ts) may pause new checks
 * or stop the run: the domains it never started are returned, for the caller to account for.
 */
import pLimit from 'p-limit';
import type { Resolver } from './resolver.ts';
import { checkDomain, createHostCache, type DomainCheck } from './verdict.ts';

export interface RunChecksOptions {
  resolver: Resolver;
  concurrency: number;
  /** Results per onBatch call. */
  batchSize: number;
  onBatch: (checks: DomainCheck[]) => Promise<void>;
  onProgress?: (done: number) => void;
  /** Each check as it completes, before it is batched. */
  onCheck?: (check: DomainCheck) => void;
  /** Asked before each domain starts: a promise pauses it, false skips it (and, in effect, the rest). */
  admit?: () => boolean | Promise<boolean>;
}

export interface RunChecksResult {
  /** Domains never checked because `admit` said no, in input order. */
  skipped: string[];
}

export async function runChecks(domains: readonly string[], opts: RunChecksOptions): Promise<RunChecksResult> {
  const limit = pLimit(opts.concurrency);
  const hosts = createHostCache();
  let buffer: DomainCheck[] = [];
  let writing: Promise<void> = Promise.resolve();
  let writeError: unknown;
  let done = 0;
  const skipped = new Set<string>();

  const flush = () => {
    const batch = buffer;
    buffer = [];
    // Writes run one after another, in the background of the DNS work.
    writing = writing.then(async () => {
      if (writeError || !batch.length) return;
      try {
        await opts.onBatch(batch);
      } catch (e) {
        writeError = e;
      }
    });
  };

  await Promise.all(
    domains.map((domain) =>
      limit(async () => {
        if (writeError) return;
        if (opts.admit && !(await opts.admit())) {
          skipped.add(domain);
          return;
        }
        const r = await checkDomain(opts.resolver, domain, hosts);
        opts.onCheck?.(r);
        buffer.push(r);
        opts.onProgress?.(++done);
        if (buffer.length >= opts.batchSize) flush();
      }),
    ),
  );
  flush();
  await writing;
  if (writeError) throw writeError;
  return { skipped: domains.filter((d) => skipped.has(d)) };
}
