/** Axis bounds that leave room for end labels and keep round numbers; where a line's label goes. */

/** The smallest 1-2-2.5-5 × 10^k at or above `x` (0 stays 0). */
export function niceCeil(x: number): number {
  if (x <= 0) return 0;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/**
 * The bottom of a percentage axis: 0 unless every value is high, then a round step under the
 * lowest, so lines near 100% stay apart (the axis labels say where it starts).
 */
export function percentFloor(values: readonly (number | null)[]): number {
  const known = values.filter((v): v is number => v !== null);
  if (!known.length) return 0;
  const low = Math.min(...known);
  return Math.max(0, Math.min(80, Math.floor((low - 5) / 10) * 10));
}

/**
 * Whether a line gets its name at its end: only when it reaches the last days of the chart. A line
 * that stopped earlier would have its name in the middle of the plot, over other lines and bands;
 * the legend names it.
 */
export function endsAtRight(values: readonly (number | string | null)[]): boolean {
  for (let i = values.length - 1; i >= 0; i--) if (typeof values[i] === 'number') return i >= values.length - 2;
  return false;
}
