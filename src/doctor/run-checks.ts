/**
 * Runs doctor's checks at once, each as soon as the checks it needs are done, each within its own
 * time box. Independent checks (database, warmup stamp, mail.log, DNS, Listmonk) overlap, so the
 * whole doctor takes about as long as its slowest chain, and a dead service costs one time box,
 * never a hang: a check that does not finish in time fails with its own fix, and whatever it
 * opens after that (a store that connects late) is released.
 */
import { isAudienceError } from '../errors.ts';
import { statusOf, type CheckEntry, type CheckOutcome } from './check.ts';

export type Deps = ReadonlyMap<string, unknown>;

export interface CheckSpec {
  name: string;
  /** Checks whose success this one needs; their values are in `deps`. They must come earlier in the list. */
  needs?: readonly string[];
  /** Checks this one waits for, whatever their outcome (earlier in the list too): see doctor.ts. */
  after?: readonly string[];
  /** What to do when the check does not finish in its time box. */
  timeoutFix: string;
  run(deps: Deps): Promise<CheckOutcome>;
  /** Releases a value produced after the time box closed, or never handed on. */
  release?(value: unknown): Promise<void>;
}

export interface ChecksResult {
  entries: CheckEntry[];
  /** The values of the checks that passed (an open store...): the caller releases them. */
  values: Map<string, unknown>;
}

/** The value a needed check produced. */
export function need<T>(deps: Deps, name: string): T {
  if (!deps.has(name)) throw new Error(`doctor: check value "${name}" is not available`);
  return deps.get(name) as T;
}

export async function runChecks(specs: readonly CheckSpec[], opts: { timeoutMs: number }): Promise<ChecksResult> {
  const byName = new Map<string, Promise<{ entry: CheckEntry; value: unknown }>>();
  for (const spec of specs) {
    for (const n of [...(spec.needs ?? []), ...(spec.after ?? [])]) if (!byName.has(n)) throw new Error(`doctor: check "${spec.name}" needs "${n}", which is not listed before it`);
    byName.set(spec.name, runOne(spec, byName, opts.timeoutMs));
  }
  const done = await Promise.all(specs.map((s) => byName.get(s.name)!));
  const values = new Map<string, unknown>();
  done.forEach((d, i) => {
    if (d.entry.ok && d.value !== undefined) values.set(specs[i]!.name, d.value);
  });
  return { entries: done.map((d) => d.entry), values };
}

async function runOne(spec: CheckSpec, byName: Map<string, Promise<{ entry: CheckEntry; value: unknown }>>, timeoutMs: number): Promise<{ entry: CheckEntry; value: unknown }> {
  const needs = spec.needs ?? [];
  await Promise.all((spec.after ?? []).map((n) => byName.get(n)!));
  const before = await Promise.all(needs.map((n) => byName.get(n)!));
  const blocked = before.map((b) => b.entry).filter((e) => !e.ok);
  if (blocked.length) {
    const names = blocked.map((e) => `\`${e.name}\``).join(' and ');
    return {
      entry: { name: spec.name, ok: false, status: 'skip', detail: `not checked: it needs ${names}, which did not pass.`, fix: `fix ${names} first (see above), then run \`audience doctor\` again.`, ms: 0 },
      value: undefined,
    };
  }
  const deps = new Map(needs.map((n, i) => [n, before[i]!.value]));
  const t0 = performance.now();
  const outcome = await timeBox(
    spec.run(deps).catch((e: unknown) => crashed(e)),
    timeoutMs,
    (late) => {
      if (late.value !== undefined && spec.release) void spec.release(late.value).catch(() => {});
    },
  );
  const ms = Math.round(performance.now() - t0);
  const o: CheckOutcome = outcome ?? { ok: false, detail: `no result within ${timeoutMs} ms (doctor.timeoutMs, --timeout).`, fix: spec.timeoutFix };
  const entry: CheckEntry = { name: spec.name, ok: o.ok, status: statusOf(o), detail: o.detail, fix: o.fix, ms, ...(o.data ? { data: o.data } : {}) };
  return { entry, value: o.ok ? o.value : undefined };
}

/** A check that threw instead of reporting: still an entry, never a crash of the whole doctor. */
function crashed(e: unknown): CheckOutcome {
  if (isAudienceError(e)) return { ok: false, detail: e.message, fix: 'do what the message says, then run `audience doctor` again.' };
  const err = e instanceof Error ? e : new Error(String(e));
  return { ok: false, detail: `the check failed unexpectedly: ${err.name}: ${err.message}`, fix: 'this is a bug in audience: report it with the output of `audience doctor --json`.' };
}

/**
 * The outcome of `p`, or null when it takes longer than `ms`; a late outcome goes to `onLate` so
 * what it holds can be released.
 */
export async function timeBox<T>(p: Promise<T>, ms: number, onLate: (late: T) => void): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const deadline = new Promise<null>((resolve) => {
    timer = setTimeout(() => {
      expired = true;
      resolve(null);
    }, ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
    if (expired) void p.then(onLate, () => {});
  }
}
