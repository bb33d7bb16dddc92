/**
 * The segment names in registry order, for text that must not load the segments themselves
 * (`audience build --help`: the segment modules bring Kysely). index.ts refuses to load when the
 * two disagree, so adding a segment without naming it here fails at once.
 */
export const SEGMENT_NAMES = ['mcs150', 'new-carrier'] as const;
