/**
 * The registry of segments. Adding a segment is adding its module and one line here. The order is
 * the priority when a carrier's address qualifies for several segments on one date: it goes to
 * the first (one address, one segment, one date).
 */
import { InternalError, UsageError } from '../errors.ts';
import { mcs150 } from './mcs150.ts';
import { newCarrier } from './new-carrier.ts';
import { SEGMENT_NAMES } from './names.ts';
import type { Segment } from './segment.ts';

export const SEGMENTS: readonly Segment[] = [mcs150, newCarrier];
if (SEGMENTS.map((s) => s.name).join(',') !== SEGMENT_NAMES.join(','))
  throw new InternalError(`src/segments/names.ts lists ${SEGMENT_NAMES.join(', ')} but the registry holds ${SEGMENTS.map((s) => s.name).join(', ')}: make them the same`);

/** The segments a build runs: all, or the named ones (--only-segment), in registry order. */
export function selectSegments(only: readonly string[] | undefined): Segment[] {
  if (!only?.length) return [...SEGMENTS];
  const unknown = only.filter((n) => !SEGMENTS.some((s) => s.name === n));
  if (unknown.length) throw new UsageError(`unknown segment ${unknown.map((u) => `"${u}"`).join(', ')}. Known segments: ${SEGMENTS.map((s) => s.name).join(', ')}.`);
  return SEGMENTS.filter((s) => only.includes(s.name));
}
