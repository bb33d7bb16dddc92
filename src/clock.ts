/**
 * The product's one source of "now". Stages read it from `ctx.now()`; nothing in stage logic calls
 * `new Date()` or SQL `now()`, so a test, a demo or a replay can run the whole product at any time
 * of any calendar by injecting a clock (tests: `fixedClock`; the CLI: `AUDIENCE_NOW`).
 * Durations (how long a step took) are measured with performance.now()/Date.now() and are not
 * "now" in this sense.
 */
export type Clock = () => Date;

/** The machine's clock. */
export const systemClock: Clock = () => new Date();

/** A clock that always reads `at`: a test's frozen instant. */
export function fixedClock(at: Date | string): Clock {
  const t = new Date(at).getTime();
  if (Number.isNaN(t)) throw new RangeError(`fixedClock: not a time: ${String(at)}`);
  return () => new Date(t);
}

/**
 * A clock that reads `start` when created and then ticks with the machine's clock: what
 * `AUDIENCE_NOW` gives a CLI run, so durations and run timestamps still advance within the run.
 */
export function startingAt(start: Date | string, base: Clock = systemClock): Clock {
  const offset = new Date(start).getTime() - base().getTime();
  if (Number.isNaN(offset)) throw new RangeError(`startingAt: not a time: ${String(start)}`);
  return () => new Date(base().getTime() + offset);
}
