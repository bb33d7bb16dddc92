/** The `build --json` summary (contract) and its human rendering. */
import type { OptOutSyncReport } from '../optouts/sync.ts';
import { withdrawLine, type WithdrawReport } from './withdraw.ts';
import type { ReasonCode } from '../rules/reason-codes.ts';
import { pastReservationsLine, type PastReservations } from './release.ts';

export type SegmentSummary = {
  name: string;
  /** Candidates of the segment that pass every rule on the date (already selected ones included). */
  eligible: number;
  /** Addresses in the date's selection for the segment: reserved + pushed (+ would-be picks in a dry run). */
  selected: number;
  /** Confirmed by Listmonk as on the list. */
  pushed: number;
  /** The segment's list for the date; id null in a dry run (nothing is created). */
  list: { id: number | null; name: string } | null;
  campaign: { id: number; sendAt: string; stoppedByAudit?: boolean } | null;
};

// Type aliases (not interfaces): the run ledger stores summaries as Record<string, unknown>.
export type BuildSummary = {
  command: 'build';
  date: string;
  warmupDay: number;
  dailyCap: number;
  hourlyCap: number;
  /** Reserved or pushed for the date before this run, all segments. */
  alreadyPushed: number;
  dryRun: boolean;
  segments: SegmentSummary[];
  excluded: Partial<Record<ReasonCode, number>>;
  /** Addresses Listmonk refused or will not mail (invalid, blocklisted, unsubscribed) in this run. */
  failed: number;
  /** Suppressed addresses blocklisted in Listmonk by this run. */
  blocklisted: number;
  /** The opt-out read from Listmonk before selecting; null when Listmonk is not configured (a dry run). */
  optOuts: OptOutSyncReport | null;
  /** Addresses the rules exclude now, taken off our lists of today and later (withdraw.ts); null in a dry run. */
  withdrawn: WithdrawReport | null;
  /**
   * Reservations of send dates already past, settled before selecting (release.ts): released
   * (never sent, or not on the date's list when read back), confirmed (on the list: pushed), kept
   * (could not be checked: still counted).
   */
  pastReservations: PastReservations;
  /**
   * The date's reservations left by earlier runs, judged again before the push (rejudge.ts):
   * released (excluded now, never sent), withheld (excluded now, possibly sent: kept, not pushed),
   * per rule. Null in a dry run.
   */
  rejudged: { judged: number; released: number; withheld: number; byRule: Record<string, number> } | null;
  warnings: string[];
  out: { csv: Record<string, string>; summary: string } | null;
  runId: number;
  /**
   * Wall time in seconds of the selection (ranking, rules on the best-ranked addresses, cap
   * decision, reservation: its whole transaction), of the part of it that holds the reservation
   * lock, of judging every candidate for the counts above, and of the push. (`seconds` before the
   * stage contract: the envelope's `seconds` is now the whole run's wall time.)
   */
  timings: { select: number; lock: number; count: number; push: number };
};

export function renderBuild(s: BuildSummary): string {
  const lines = [
    `${s.dryRun ? 'DRY RUN — nothing reserved or pushed. ' : ''}build for ${s.date}: warmup day ${s.warmupDay}, cap ${s.dailyCap}/day (${s.hourlyCap}/h), already pushed ${s.alreadyPushed}`,
  ];
  for (const g of s.segments) {
    const list = g.list ? ` → list "${g.list.name}"${g.list.id !== null ? ` (#${g.list.id})` : ''}` : '';
    const camp = !g.campaign
      ? ''
      : g.campaign.stoppedByAudit
        ? `, campaign #${g.campaign.id} NOT scheduled: audit-listmonk --pause stopped it (tag "audience-stopped"); check it, then schedule it in Listmonk or remove the tag and re-run`
        : `, campaign #${g.campaign.id} at ${g.campaign.sendAt}`;
    lines.push(`  ${g.name.padEnd(12)} eligible ${g.eligible}, selected ${g.selected}, pushed ${g.pushed}${list}${camp}`);
  }
  const ex = Object.entries(s.excluded).sort((a, b) => b[1] - a[1]);
  // Per reason: an address excluded by two rules counts under both, so the sum can exceed the excluded addresses.
  if (ex.length) lines.push(`  excluded, by reason (an address may have several): ${ex.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (s.optOuts) lines.push(`  opt-outs read from Listmonk: ${s.optOuts.newOptOuts} new, ${s.optOuts.optedOut} address(es) opted out`);
  const withdrawn = withdrawLine(s.withdrawn);
  if (withdrawn) lines.push(withdrawn);
  const past = pastReservationsLine(s.pastReservations);
  if (past) lines.push(past);
  if (s.rejudged && (s.rejudged.released || s.rejudged.withheld))
    lines.push(`  earlier reservations judged again: ${s.rejudged.judged}, ${s.rejudged.released} released (excluded now, never sent), ${s.rejudged.withheld} withheld from the push (excluded now, may be in Listmonk)`);
  if (s.failed) lines.push(`  refused by Listmonk: ${s.failed}`);
  if (s.blocklisted) lines.push(`  suppressed addresses blocklisted in Listmonk: ${s.blocklisted}`);
  if (s.out) lines.push(`  wrote ${Object.values(s.out.csv).join(', ')} and ${s.out.summary}`);
  return lines.join('\n');
}
