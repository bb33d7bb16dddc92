/**
 * The registry of exclusion rules. Adding a rule is adding its module and one line here.
 * Order is the order `explain` prints them in.
 */
import type { ExclusionRule } from './rule.ts';

export const RULES: readonly ExclusionRule[] = [];
