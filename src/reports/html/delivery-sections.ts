/** The sections about mail that went out: the ramp, delivery per provider with the holds, DKIM coverage. */
import { dkimChart } from '../charts/dkim.ts';
import { holdLabel, providersChart } from '../charts/providers.ts';
import { rampChart } from '../charts/ramp.ts';
import { displayName, formatCount, formatPercent } from '../charts/theme.ts';
import type { ReportData } from '../data/collect.ts';
import { YAHOO_GROUP } from '../data/providers.ts';
import { formatInstant, type Section } from './section.ts';
import type { Cell } from './table.ts';

const latestFirst = <T extends { date: string }>(rows: readonly T[]) => [...rows].reverse();

export function rampSection(d: ReportData): Section {
  const over = d.ramp.filter((r) => r.overCap || r.overCeiling);
  const noCap = d.ramp.every((r) => r.cap === null);
  const notes: Section['notes'] = [];
  if (noCap) notes.push({ text: 'No warmup start is set, so the daily cap is unknown and not drawn: set AUDIENCE_WARMUP_START.', bad: true });
  if (over.length)
    notes.push({
      text: `Over the cap on ${over.length} day(s): ${over.map((r) => `${r.date} (${formatCount(Math.max(r.pushedTotal, r.finished))} against ${formatCount(Math.min(r.cap ?? r.ceiling, r.ceiling))}${r.overCeiling ? ', above the hard ceiling' : ''})`).join('; ')}.`,
      bad: true,
    });
  return {
    id: 'ramp',
    title: 'The ramp',
    lede: "Each day: the addresses the build pushed, by segment (left bar), and the mail outside the firm's own domains Postfix finished with — sent, bounced, expired (right bar) — with its deferrals as a dashed line; the step line is the warmup cap, the dashed one the hard ceiling. A bar over the cap is drawn in vermillion and pinned.",
    notes,
    panels: [
      {
        chart: rampChart(d.ramp, d.segments),
        table: {
          caption: 'Per day, latest first',
          columns: [{ label: 'date' }, { label: 'cap', numeric: true }, ...d.segments.map((s) => ({ label: s, numeric: true })), { label: 'sent', numeric: true }, { label: 'deferred', numeric: true }, { label: 'bounced', numeric: true }, { label: 'expired', numeric: true }],
          rows: latestFirst(d.ramp).map((r) => ({
            bad: r.overCap || r.overCeiling,
            cells: [
              r.overCeiling ? { text: r.date, note: 'above the ceiling', cls: 'bad' } : r.overCap ? { text: r.date, note: 'over the cap', cls: 'bad' } : r.date,
              r.cap === null ? '—' : formatCount(r.cap),
              ...d.segments.map((s) => formatCount(r.pushed[s] ?? 0)),
              formatCount(r.sent),
              formatCount(r.deferred),
              formatCount(r.bounced),
              formatCount(r.expired),
            ],
          })),
        },
      },
    ],
  };
}

export function providersSection(d: ReportData): Section {
  const p = d.providers;
  const uncounted = p.days.filter((x) => !x.counted).map((x) => x.date);
  const notes: Section['notes'] = [
    p.yahooAttempts === 0
      ? { text: 'Yahoo family (Yahoo, AOL, Verizon, AT&T, Cox, Rogers): no delivery attempt in these days, as it should be.' }
      : { text: `Yahoo family: ${formatCount(p.yahooAttempts)} delivery attempt(s) in these days. It must never be mailed: find what sent them.`, bad: true },
  ];
  if (uncounted.length)
    notes.push({ text: `${uncounted.length} day(s) were scrubbed before successes were counted per provider (${uncounted[0]} to ${uncounted.at(-1)}): their rate is unknown and left out.` });
  const domainHolds = d.holds.filter((h) => h.scope === 'domain');
  if (domainHolds.length)
    notes.push({ text: `${domainHolds.length} domain hold(s) in these days (a small mail server's own signal holds only its domains): in the table below, not drawn.` });
  const rateCell = (c: { rate: number | null; attempts: number }, group: string): Cell =>
    c.attempts === 0 ? { text: '—', cls: 'muted' } : { text: formatPercent(c.rate), note: `of ${formatCount(c.attempts)}`, cls: group === YAHOO_GROUP ? 'bad' : undefined };
  return {
    id: 'providers',
    title: 'Delivery per provider',
    lede: 'The share of delivery attempts each provider accepted per day (sent ÷ sent + deferred + bounced + expired): a provider going bad defers before it bounces. Shaded bands are provider and global holds, from their start to their end or lift, labelled with the reason.',
    notes,
    panels: [
      {
        chart: providersChart(p, d.holds),
        table: {
          caption: 'Accepted share of attempts, latest first',
          columns: [{ label: 'date' }, ...p.groups.map((g) => ({ label: displayName(g), numeric: true }))],
          rows: latestFirst(p.days).map((x) => ({ cells: [x.date, ...p.groups.map((g) => (x.counted ? rateCell(x.groups[g]!, g) : { text: 'not counted', cls: 'muted' as const }))] })),
        },
      },
    ],
    tables: [
      {
        caption: 'Holds in these days',
        columns: [{ label: 'hold' }, { label: 'from' }, { label: 'to' }, { label: 'state' }, { label: 'detail' }],
        empty: 'no hold in these days',
        rows: d.holds.map((h) => ({
          bad: h.endedAt === null,
          cells: [
            h.scope === 'domain' && h.mxHost ? { text: holdLabel(h), note: `mail server ${h.mxHost}` } : holdLabel(h),
            formatInstant(h.startsAt, d.timeZone),
            h.endedAt ? formatInstant(h.endedAt, d.timeZone) : '—',
            h.endedAt === null ? { text: 'in force', cls: 'bad' } : h.lifted ? 'lifted' : 'ended',
            { text: h.detail.length > 300 ? `${h.detail.slice(0, 299)}…` : h.detail, cls: 'muted' },
          ],
        })),
      },
    ],
  };
}

export function dkimSection(d: ReportData): Section {
  const k = d.dkim;
  const below = k.days.filter((x) => x.below);
  const cov = (c: { messages: number; coverage: number | null }, bad: boolean): Cell =>
    c.messages === 0 ? { text: '—', cls: 'muted' } : { text: formatPercent(c.coverage), note: `of ${formatCount(c.messages)}`, cls: bad ? 'bad' : undefined };
  return {
    id: 'dkim',
    title: 'DKIM coverage of campaign mail',
    lede: `The share of campaign messages opendkim signed, per day, for all campaign mail and per Listmonk stream. Below the minimum (${formatPercent(k.minimum)}, dashed) campaign mail is junked and a global hold stops the build; the marks show those days (hollow: fewer than ${k.minMessages} messages, too few for the hold to judge).`,
    notes: below.length ? [{ text: `Below the minimum on ${below.length} day(s): ${below.map((x) => x.date).join(', ')}.`, bad: true }] : [],
    panels: [
      {
        chart: dkimChart(k),
        table: {
          caption: 'Signed share, latest first',
          columns: [{ label: 'date' }, { label: 'all', numeric: true }, ...k.streams.map((s) => ({ label: s, numeric: true }))],
          rows: latestFirst(k.days).map((x) => ({
            bad: x.below,
            cells: [x.date, cov(x, x.below), ...k.streams.map((s) => cov(x.streams[s] ?? { messages: 0, coverage: null }, (x.streams[s]?.coverage ?? 1) < k.minimum))],
          })),
        },
      },
    ],
  };
}
